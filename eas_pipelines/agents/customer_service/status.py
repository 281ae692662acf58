"""Customer service agent: ``customer_service_ticket_status``, read from ServiceNow.

find the ticket(s) -> answer the requester -> succeeded. Read only: nothing is changed in ServiceNow.

A quoted ticket is found as the ticket workflow finds it (:func:`.jobs.find_ticket`: an INC number,
else the id of another system kept in ``u_external_ref``). A request quoting none asks about the
requester's own tickets: the open incidents whose ``u_requester`` is the requester (the field the
ticket workflow always fills), newest first, selected by ServiceNow (``stateIN1,2,3``). Nothing
found is a refusal that says what was looked for.

The answer gives what a customer can act on: the state in words (the Table API returns codes),
the team working it, whether and how often it was escalated, when a first response or resolution
is due, and the latest customer-visible comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.customer_service.jobs import _QUOTABLE_REF, find_ticket
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.servicenow import Incident, ServiceNowResource
from eas_pipelines.routing import ROUTES

STATUS_JOB = ROUTES["customer_service.ticket_status"].job or "customer_service_ticket_status"
MAX_LISTED = 5
"""Open tickets of a requester listed at most, newest first."""

STATES: dict[str, str] = {
    "1": "new",
    "2": "in progress",
    "3": "on hold",
    "6": "resolved",
    "7": "closed",
    "8": "cancelled",
}
"""ServiceNow's incident states (the ``state`` choice list) in words."""
OPEN_STATES = ("1", "2", "3")


@dataclass(frozen=True)
class TicketQuery:
    item: WorkItem
    tickets: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> TicketQuery:
        return replace(self, **changes)


def latest_comment(journal: str) -> str:
    """The newest entry of a journal field, without its "<time> - <user> (Additional comments)" line."""
    if not journal.strip():
        return ""
    newest = journal.split("\n\n")[0]
    first, _, rest = newest.partition("\n")
    return (rest if "(" in first and ")" in first else newest).strip()


def describe(incident: Incident) -> dict[str, Any]:
    """What the requester is told about one incident."""
    return {
        "number": incident.number,
        "state": STATES.get(incident.state, f"state {incident.state or 'unknown'}"),
        "subject": incident.short_description,
        "team": incident.assignment_group or "not assigned yet",
        "escalations": incident.escalation_level,
        "response_due": incident.field("u_response_due"),
        "resolution_due": incident.due_date,
        "latest_comment": latest_comment(incident.comments)[:500],
        "external_ref": incident.field("u_external_ref"),
    }


def answer_text(ticket: dict[str, Any]) -> str:
    lines = [f"{ticket['number']} ({ticket['subject']}): {ticket['state']}, with {ticket['team']}."]
    if ticket["escalations"]:
        lines.append(f"Escalated {ticket['escalations']} time(s).")
    if ticket["state"] in ("new", "in progress", "on hold"):
        if ticket["response_due"]:
            lines.append(f"First response due {ticket['response_due']} UTC.")
        if ticket["resolution_due"]:
            lines.append(f"Resolution due {ticket['resolution_due']} UTC.")
    if ticket["latest_comment"]:
        lines.append(f"Latest update: {ticket['latest_comment']}")
    return " ".join(lines)


def requester_of(item: WorkItem) -> str:
    """Whose tickets a request without a ticket id asks about: an e-mail it names, else the requester."""
    emails = item.values("email")
    return str(emails[0]) if emails else item.requester


@workflow_step(TicketQuery)
def find_tickets(item: WorkItem, *, servicenow: ServiceNowResource) -> Step:
    """The quoted tickets, else the requester's open ones (ServiceNow, read only)."""
    client = servicenow.client()
    refs = [str(ref) for ref in item.values("ticket_id")]
    if refs:
        found = [ticket for ref in refs if (ticket := find_ticket(client, ref)) is not None]
        if not found:
            return Step.refused(f"ServiceNow has no ticket {', '.join(refs)}", ticket_ids=refs)
    else:
        who = requester_of(item)
        if not _QUOTABLE_REF.match(who.replace("@", "_")):
            return Step.refused("the request quotes no ticket number: say which ticket")
        open_states = ",".join(OPEN_STATES)
        query = f"u_requester={who}^stateIN{open_states}^ORDERBYDESCnumber"
        found = client.incidents(query, limit=MAX_LISTED)
        if not found:
            return Step.refused(f"no open tickets of {who} in ServiceNow: quote the ticket number")
    tickets = tuple(describe(ticket) for ticket in found)
    return Step.passed(
        TicketQuery(item=item, tickets=tickets),
        "ticket_status.read",
        tickets={t["number"]: t["state"] for t in tickets},
    )


@workflow_step(WorkResult, optional=False)
def answer_ticket_status(query: TicketQuery, *, notifications: NotificationsResource) -> Step:
    """Send the requester the status of each ticket."""
    item = query.item
    recipient = requester_of(item)
    numbers = ", ".join(t["number"] for t in query.tickets)
    notifications.send(
        recipient,
        f"Ticket status: {numbers}",
        "\n".join(answer_text(ticket) for ticket in query.tickets),
        request_id=item.request_id,
        idempotency_key=item.key("notify:ticket_status"),
        detail={"tickets": [t["number"] for t in query.tickets]},
    )
    summary = "; ".join(f"{t['number']} {t['state']}" for t in query.tickets)
    detail = {"tickets": {t["number"]: t["state"] for t in query.tickets}}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[recipient])


customer_service_ticket_status = workflow_job(
    name=STATUS_JOB,
    agent="customer_service",
    description="Answer a ticket status question from ServiceNow (read only).",
    steps=(find_tickets, answer_ticket_status),
)
