"""Escalation of approvals nobody decided in time: the other half of the approval gate
(:func:`~eas_pipelines.agents.common.approval_gate`).

``approval_escalation_schedule`` runs ``approval_escalation_job`` every 5 minutes: each overdue
approval goes to the next approver in the chain with a fresh deadline, and the new approver is
notified. At the top of a chain the same approver is reminded (and given a new deadline) so the
schedule does not re-escalate it every 5 minutes.

A person's manager comes from BambooHR's org chart (the supervisor field), read once per tick and
only when an overdue approval is held by a person (approvers are named by their work email's local
part, "dana.smith"). A BambooHR outage fails the tick; the next one, 5 minutes later, tries again.
"""

import dagster as dg

from eas_pipelines.agents.hr.people import OrgChart, contact_of, person_id
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.resources import RequestStoreResource, WorkflowPolicyResource
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


def next_approver(approver: str, org_chart: OrgChart) -> tuple[str, str]:
    """(next approver, who to notify) for an overdue approval held by ``approver``.

    ``finance_manager`` -> ``cfo``; ``manager:<employee>`` -> ``director:<employee>`` ->
    ``vp:<employee>``; a person of BambooHR's org chart ("dana.smith") -> their manager, notified
    at their work email. The end of a chain (or somebody BambooHR does not know) returns
    ``approver`` itself (a reminder).
    """
    role, sep, subject = approver.partition(":")
    if sep:
        nxt = ROLE_CHAIN.get(role)
        target = f"{nxt}:{subject}" if nxt else approver
        return target, target
    if approver in ROLE_CHAIN:
        return ROLE_CHAIN[approver], ROLE_CHAIN[approver]
    person = org_chart.person(approver)
    if person is None:
        return approver, approver
    manager = org_chart.manager_of(person)
    if manager is None:
        return approver, contact_of(person)
    return person_id(manager), contact_of(manager)


@dg.op
def escalate_overdue_approvals(
    context: dg.OpExecutionContext,
    store: RequestStoreResource,
    bamboohr: BambooHRResource,
    notifications: NotificationsResource,
    policy: WorkflowPolicyResource,
) -> int:
    """Hand every overdue approval to the next approver, with a new deadline and a notification."""
    client = bamboohr.client()
    # The directory is read on the first person looked up, at most once per tick.
    return _escalate(context, store, OrgChart.of(client), notifications, policy)


def _escalate(
    context: dg.OpExecutionContext,
    store: RequestStoreResource,
    org_chart: OrgChart,
    notifications: NotificationsResource,
    policy: WorkflowPolicyResource,
) -> int:
    """The escalation pass itself, with the org chart open for the whole tick."""
    requests = store.get_store()
    escalated = 0
    for approval in requests.overdue_approvals(limit=500):
        target, contact = next_approver(approval.approver, org_chart)
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
