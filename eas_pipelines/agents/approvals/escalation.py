"""Escalation of approvals nobody decided in time: the other half of the approval gate
(:func:`~eas_pipelines.agents.common.approval_gate`).

``approval_escalation_schedule`` runs ``approval_escalation_job`` every 5 minutes: each overdue
approval goes to the next approver in the chain with a fresh deadline, and the new approver is
notified. At the top of a chain the same approver is reminded (and given a new deadline) so the
schedule does not re-escalate it every 5 minutes.
"""

import dagster as dg

from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import (
    LeaveLedgerResource,
    RequestStoreResource,
    WorkflowPolicyResource,
)
from eas_pipelines.runs import now_utc
from eas_pipelines.store import ApprovalError

ESCALATION_ACTOR = "eas/escalation"

ROLE_CHAIN: dict[str, str] = {
    "manager": "director",
    "director": "vp",
    "finance_manager": "cfo",
    "security_officer": "ciso",
}
"""Who is next for a role; a person in the org chart escalates to their own manager instead."""


def next_approver(approver: str, leave_ledger: LeaveLedgerResource) -> tuple[str, str]:
    """(next approver, who to notify) for an overdue approval held by ``approver``.

    ``finance_manager`` -> ``cfo``; ``manager:<employee>`` -> ``director:<employee>`` ->
    ``vp:<employee>``; an employee id of the org chart -> their manager. The end of a chain
    returns ``approver`` itself (a reminder).
    """
    role, sep, subject = approver.partition(":")
    if sep:
        nxt = ROLE_CHAIN.get(role)
        target = f"{nxt}:{subject}" if nxt else approver
        return target, target
    if approver in ROLE_CHAIN:
        return ROLE_CHAIN[approver], ROLE_CHAIN[approver]
    person = leave_ledger.employee(approver)
    if person is None or not person.manager_id:
        return approver, (person.email if person and person.email else approver)
    manager = leave_ledger.employee(person.manager_id)
    return person.manager_id, (manager.email if manager and manager.email else person.manager_id)


@dg.op
def escalate_overdue_approvals(
    context: dg.OpExecutionContext,
    store: RequestStoreResource,
    leave_ledger: LeaveLedgerResource,
    notifications: NotificationsResource,
    policy: WorkflowPolicyResource,
) -> int:
    """Hand every overdue approval to the next approver, with a new deadline and a notification."""
    requests = store.get_store()
    escalated = 0
    for approval in requests.overdue_approvals(limit=500):
        target, contact = next_approver(approval.approver, leave_ledger)
        reminder = target == approval.approver
        reason = f"deadline {approval.deadline:%Y-%m-%d %H:%M %Z} passed; " + (
            f"reminding {target} (end of the escalation chain)"
            if reminder
            else f"escalated from {approval.approver}"
        )
        try:
            updated = requests.escalate(
                approval.id, target, now_utc() + policy.approval_deadline, ESCALATION_ACTOR, reason=reason
            )
        except ApprovalError as exc:  # decided or cancelled since the scan
            context.log.info(f"approval {approval.id} not escalated: {exc}")
            continue
        request = requests.get(approval.request_id)
        notifications.send(
            contact,
            f"{'Reminder' if reminder else 'Escalated'}: approval needed for request {request.id}",
            f'{reason}.\nRequest: "{request.text}"\nDecide by {updated.deadline:%Y-%m-%d %H:%M %Z} '
            f"(approval {updated.id}).",
            request_id=request.id,
            idempotency_key=f"{request.id}:notify:escalation:{updated.id}:{updated.escalation_level}",
            detail={"approval_id": updated.id, "level": updated.escalation_level, "approver": target},
        )
        escalated += 1
    context.log.info(f"escalated {escalated} overdue approval(s)")
    return escalated


@dg.job(name="approval_escalation_job", description="Escalate approvals past their deadline.")
def approval_escalation_job() -> None:
    escalate_overdue_approvals()


approval_escalation_schedule = dg.ScheduleDefinition(
    name="approval_escalation_schedule",
    job=approval_escalation_job,
    cron_schedule="*/5 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 5 minutes: overdue approvals go up the chain.",
)
