"""``audit_query``: "who approved INV-1042?", "what happened to request 3f1c...?", answered from the
audit log.

The subject comes from the entities: a ``request_id`` (read back even after the request itself was
deleted by retention: audit entries outlive it), else an ``invoice_id``, ``po_number`` or
``ticket_id`` that requests were about. The answer is built from those requests' audit trails
only (never from the requests' current fields), so it says what the log can prove: who decided
each approval, on what basis and on whose behalf, and the request's status changes. A question
about approvals ("who approved/rejected ...") gets the decisions; any other question the whole
story, in order. The answer goes to the requester; the workflow's audit entry keeps its summary.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.store import AuditEntry, RequestStore

AUDIT_JOB = "audit_query"
SUBJECT_TYPES = ("request_id", "invoice_id", "po_number", "ticket_id")
MAX_REQUESTS = 10
MAX_LINES = 60
_DECISION_QUESTION = re.compile(r"\b(approv|reject|sign(ed)? off|decid)", re.IGNORECASE)


@dataclass(frozen=True)
class Findings:
    """What the log says about the question's subject: each request's trail, oldest first."""

    item: WorkItem
    subject: str
    trails: tuple[tuple[str, tuple[AuditEntry, ...]], ...]


def asks_about_decisions(text: str) -> bool:
    """Whether the question is about approvals ("who approved ...", "who rejected ...")."""
    return bool(_DECISION_QUESTION.search(text))


def describe_entry(entry: AuditEntry) -> str | None:
    """One line for an audit entry a person wants to read, or None for bookkeeping entries."""
    when = f"{entry.at:%Y-%m-%d %H:%M:%S %Z}"
    detail = entry.detail
    if entry.action == "approval.decided":
        basis = f" ({detail['basis']})" if detail.get("basis") else ""
        level = f" level {detail['stage']}" if detail.get("stage", 1) != 1 else ""
        reason = f': "{detail["reason"]}"' if detail.get("reason") else ""
        return f"{when}: {detail.get('decision')}{level} by {entry.actor}{basis}{reason}"
    if entry.action == "approval.requested":
        return f"{when}: approval asked of {detail.get('approver')} by {entry.actor}"
    if entry.action == "approval.escalated":
        return f"{when}: approval escalated from {detail.get('from_approver')} to {detail.get('to_approver')}"
    if entry.action.startswith("request."):
        reason = f" ({detail['reason']})" if detail.get("reason") else ""
        status = detail.get("to") or entry.action.removeprefix("request.")
        return f"{when}: {detail.get('from') or 'new'} -> {status} by {entry.actor}{reason}"
    if entry.action in {"workflow.refused", "workflow.completed"}:
        text = detail.get("reason") or detail.get("summary") or ""
        return f"{when}: {entry.action.split('.')[1]} by {entry.actor}: {text}"
    return None


def answer_lines(findings: Findings, decisions_only: bool) -> list[str]:
    """The answer, one line per fact, grouped by request."""
    lines: list[str] = []
    for request_id, trail in findings.trails:
        entries: Iterable[AuditEntry] = trail
        if decisions_only:
            entries = [e for e in trail if e.action == "approval.decided"]
        facts = [line for line in map(describe_entry, entries) if line]
        if decisions_only and not facts:
            facts = ["no approval decision recorded"]
        lines.append(f"Request {request_id}:")
        lines.extend(f"  {fact}" for fact in facts)
    return lines[:MAX_LINES]


def subject_requests(store: RequestStore, item: WorkItem) -> tuple[str, list[str]]:
    """(subject as written, ids of the requests it names), the first entity type that finds any."""
    first = ""
    for kind in SUBJECT_TYPES:
        for value in item.values(kind):
            first = first or str(value)
            if kind == "request_id":
                request_id = str(value).strip().lower()
                if store.audit_trail(request_id):
                    return str(value), [request_id]
                continue
            found = [r.id for r in store.requests_mentioning(kind, str(value), limit=MAX_REQUESTS)]
            found = [r for r in found if r != item.request_id]
            if found:
                return str(value), found
    return first, []


@workflow_step(Findings)
def gather_audit_trail(item: WorkItem, *, store: RequestStoreResource) -> Step:
    """Read the audit trail of every request the question's subject names."""
    requests = store.get_store()
    subject, ids = subject_requests(requests, item)
    if not subject:
        return Step.refused("the question names no request id, invoice, PO or ticket number to look up")
    if not ids:
        return Step.refused(f"the audit log has nothing about {subject}")
    trails = tuple((rid, tuple(requests.audit_trail(rid))) for rid in reversed(ids))  # oldest first
    return Step.passed(
        Findings(item, subject, trails),
        "audit.queried",
        subject=subject,
        request_ids=[rid for rid, _ in trails],
    )


@workflow_step(WorkResult, optional=False)
def answer_question(findings: Findings, *, notifications: NotificationsResource) -> Step:
    """Send the requester the answer: the decisions, or the whole story, per request."""
    item = findings.item
    decisions_only = asks_about_decisions(item.text)
    lines = answer_lines(findings, decisions_only)
    deciders: Sequence[str] = [
        e.actor for _, trail in findings.trails for e in trail if e.action == "approval.decided"
    ]
    entries = sum(len(trail) for _, trail in findings.trails)
    summary = (
        f"{findings.subject}: decided by {', '.join(dict.fromkeys(deciders))}"
        if decisions_only and deciders
        else f"{findings.subject}: {len(findings.trails)} request(s), {entries} audit entries"
    )
    notifications.send(
        item.requester,
        f"Audit: {findings.subject}",
        "\n".join([f'"{item.text}"', *lines]),
        request_id=item.request_id,
        idempotency_key=item.key("notify:answer"),
        detail={"subject": findings.subject},
    )
    detail = {"subject": findings.subject, "answer": lines}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


audit_query = workflow_job(
    name=AUDIT_JOB,
    agent="audit",
    description="Answer who did what to a request, invoice, PO or ticket, from the audit log.",
    steps=(gather_audit_trail, answer_question),
)
