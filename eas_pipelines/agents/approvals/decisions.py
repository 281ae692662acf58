"""Approvals by sentence: ``approvals_decision`` ("approve INV-1042", "reject 3f1c...: wrong PO") and
``approvals_listing`` ("list my approvals").

The decider is the person who sent the sentence (the request's API client). Which request they
mean comes from the entities: a ``request_id`` (the NLP normaliser upper-cases it; request ids are
lower-case UUIDs), or an ``invoice_id``/``po_number`` that exactly one request awaiting approval
was about. The decision itself is :meth:`~eas_pipelines.store.RequestStore.decide` with the
decider as ``principal``, so the same rule as the gateway's applies (named approver, role holder,
route's approver role at the first level, delegate in force of one of them; nobody decides two
levels of one request) and a refusal names why. Nobody approves a request of their own.

A rejection's reason is the sentence itself; the requester of the rejected request is told. An
approval needs nothing more here: the approval sensor resumes the approved workflow.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eas_pipelines.agents.approvals.levels import request_amount
from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.observability import metrics
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import ApprovalError, RequestRecord, RequestStore, Status

DECISION_JOB = "approvals_decision"
LISTING_JOB = "approvals_listing"
DECISIONS = {"approvals.approve": "approved", "approvals.reject": "rejected"}
REFERENCE_TYPES = ("request_id", "invoice_id", "po_number")
"""Entity types that can name the request to decide, in the order they are tried."""


@dataclass(frozen=True)
class Target:
    """The request a decision sentence is about, and the decision it asks for."""

    item: WorkItem
    request_id: str
    reference: str
    decision: str
    requester: str = ""
    approval_id: int | None = None
    approver: str = ""


def references(item: WorkItem) -> list[tuple[str, str]]:
    """(entity type, value) pairs that may name the request meant, most specific first."""
    return [(kind, str(value)) for kind in REFERENCE_TYPES for value in item.values(kind)]


def pick_target(reference: str, candidates: Sequence[RequestRecord]) -> tuple[RequestRecord | None, str]:
    """The one request awaiting approval among ``candidates``, or why there is none."""
    waiting = [c for c in candidates if c.status is Status.AWAITING_APPROVAL]
    if len(waiting) == 1:
        return waiting[0], ""
    if len(waiting) > 1:
        ids = ", ".join(c.id for c in waiting[:5])
        return None, f"{len(waiting)} requests about {reference} await approval ({ids}); name the request id"
    if candidates:
        return (
            None,
            f"request {candidates[0].id} ({reference}) is {candidates[0].status}, not awaiting approval",
        )
    return None, f"no request matches {reference}"


def find_target(store: RequestStore, item: WorkItem) -> tuple[RequestRecord | None, str, str]:
    """(request, reference, why not) for a decision sentence."""
    refs = references(item)
    if not refs:
        return None, "", "the sentence names no request id, invoice or PO number to decide"
    why = ""
    for kind, value in refs:
        if kind == "request_id":
            found = store.find_request(value)
            candidates = [found] if found is not None else []
        else:
            candidates = store.requests_mentioning(kind, value, limit=20)
            candidates = [c for c in candidates if c.id != item.request_id and c.intent not in DECISIONS]
        record, why = pick_target(value, candidates)
        if record is not None:
            return record, value, ""
    return None, refs[0][1], why


@workflow_step(Target)
def identify_request(item: WorkItem, *, store: RequestStoreResource) -> Step:
    """Find the request the sentence decides (by request id, else invoice or PO number)."""
    decision = DECISIONS.get(item.intent)
    if decision is None:
        return Step.refused(f"intent {item.intent} is not an approval decision")
    requests = store.get_store()
    record, reference, why = find_target(requests, item)
    if record is None:
        return Step.refused(why)
    if record.client_id == item.client_id:
        return Step.refused(f"request {record.id} is your own; somebody else must decide it")
    pending = requests.approvals(request_id=record.id, limit=1)
    target = Target(
        item,
        record.id,
        reference,
        decision,
        requester=record.client_id,
        approval_id=pending[0].id if pending else None,
        approver=pending[0].approver if pending else "",
    )
    return Step.passed(target, "approval.target_found", target_request_id=record.id, reference=reference)


@workflow_step(Target)
def record_decision(target: Target, *, store: RequestStoreResource) -> Step:
    """Decide the pending approval as the sentence's sender: the store checks their authority."""
    item = target.item
    requests = store.get_store()
    record = requests.get(target.request_id)
    route = ROUTES.get(record.intent or "")
    try:
        decided = requests.decide(
            target.request_id,
            target.decision,
            f"client:{item.client_id}",
            f'by sentence: "{item.text}"' if target.decision == "approved" else item.text,
            approval_id=target.approval_id,
            principal=item.client_id,
            route_role=route.approver_role if route is not None else None,
        )
    except ApprovalError as exc:  # forbidden, already decided, not pending any more
        return Step.refused(str(exc), target_request_id=target.request_id)
    if target.decision == "rejected":  # the request ends rejected (as one rejected at the gateway)
        metrics.count_request(record.agent, record.intent, metrics.REJECTED)
    return Step.passed(
        target,
        "approval.decided_by_sentence",
        target_request_id=target.request_id,
        approval_id=decided.id,
        decision=decided.decision,
        stage=decided.stage,
    )


@workflow_step(WorkResult, optional=False)
def confirm_decision(target: Target, *, notifications: NotificationsResource) -> Step:
    """Tell the decider what was recorded, and the requester of a rejected request why."""
    item = target.item
    verb = "Approved" if target.decision == "approved" else "Rejected"
    summary = f"{verb} request {target.request_id} ({target.reference}) for approver {target.approver}"
    notifications.send(
        item.requester,
        f"{verb}: request {target.request_id}",
        f"{summary}.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:decision"),
        detail={"target_request_id": target.request_id, "decision": target.decision},
    )
    recipients = [item.requester]
    if target.decision == "rejected" and target.requester:
        notifications.send(
            target.requester,
            f"Request {target.request_id} was rejected",
            f'Your request {target.request_id} was rejected by {item.requester}: "{item.text}".',
            request_id=target.request_id,
            idempotency_key=item.key("notify:rejected"),
            detail={"decided_by": item.requester},
        )
        recipients.append(target.requester)
    result = WorkResult(item, summary, {"target_request_id": target.request_id, "decision": target.decision})
    return Step.passed(result, "notifications.sent", recipients=recipients)


def describe(record: RequestRecord | None, approver: str, deadline: str, stage: int) -> str:
    """One line of the listing."""
    if record is None:
        return f"- (request gone) awaiting {approver} by {deadline}"
    amount = request_amount(record.entities)
    money = f", {amount:,.2f}" if amount is not None else ""
    level = f", level {stage}" if stage > 1 else ""
    return f'- {record.id}: "{record.text}" ({record.intent}{money}{level}) awaiting {approver} by {deadline}'


@workflow_step(WorkResult, optional=False)
def list_my_approvals(
    item: WorkItem, *, store: RequestStoreResource, notifications: NotificationsResource
) -> Step:
    """The pending approvals the sender may decide (own roles and delegations), by deadline."""
    requests = store.get_store()
    roles = {intent: route.approver_role for intent, route in ROUTES.items()}
    mine = requests.decidable_by(item.client_id, route_roles=roles, limit=50)
    lines = []
    for approval in mine:
        try:
            record = requests.get(approval.request_id)
        except LookupError:
            record = None
        lines.append(
            describe(record, approval.approver, f"{approval.deadline:%Y-%m-%d %H:%M %Z}", approval.stage)
        )
    summary = f"{len(mine)} approval(s) awaiting {item.requester}"
    notifications.send(
        item.requester,
        f"Your pending approvals ({len(mine)})",
        "\n".join([f"{summary}:", *lines]) if lines else "Nothing is waiting for your approval.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:listing"),
        detail={"count": len(mine)},
    )
    detail = {"count": len(mine), "request_ids": [a.request_id for a in mine]}
    return Step.passed(WorkResult(item, summary, detail), "approvals.listed", **detail)


approvals_decision = workflow_job(
    name=DECISION_JOB,
    agent="approvals",
    description="Approve or reject a pending approval by sentence, as its approver, role holder or delegate.",
    steps=(identify_request, record_decision, confirm_decision),
)

approvals_listing = workflow_job(
    name=LISTING_JOB,
    agent="approvals",
    description="List the pending approvals the requester may decide.",
    steps=(list_my_approvals,),
)
