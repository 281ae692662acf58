"""Customer service agent: ``customer_service_ticket_routing``.

classify queue and priority -> create the ticket (or find the quoted one) -> templated first
response -> SLA deadlines and escalation -> notify -> succeeded. No approval: the route's policy
is ``never``. Serves both ``ticket_create`` and ``ticket_escalate`` (the latter always P0).
"""

import dagster as dg

from eas_pipelines.agents.common import (
    WorkItem,
    WorkResult,
    audit,
    complete_request,
    start_request,
    workflow_job,
)
from eas_pipelines.agents.customer_service.tickets import (
    SLA,
    TicketCase,
    classify_queue,
    escalation_reason,
    first_response,
    subject_of,
    ticket_priority,
)
from eas_pipelines.resources import NotificationResource, RequestStoreResource, TicketingResource
from eas_pipelines.resources.connectors.ticketing import NewTicket
from eas_pipelines.routing import TICKET_JOB
from eas_pipelines.runs import now_utc


@dg.op
def classify_ticket(item: WorkItem, store: RequestStoreResource) -> TicketCase:
    """Queue, priority and whether to escalate at once."""
    queue = classify_queue(item)
    priority = ticket_priority(item)
    reason = escalation_reason(item, priority)
    emails = item.values("email")
    case = TicketCase(
        item=item,
        queue=queue,
        priority=priority,
        subject=subject_of(item, queue),
        requester=str(emails[0]) if emails else item.requester,
        external_ref=item.value("ticket_id"),
        escalate=reason is not None,
        escalation_reason=reason,
    )
    audit(
        store.get_store(),
        item,
        "ticket.classified",
        queue=queue,
        priority=priority,
        escalate=case.escalate,
        reason=reason,
    )
    return case


@dg.op
def open_ticket(case: TicketCase, store: RequestStoreResource, ticketing: TicketingResource) -> TicketCase:
    """Create the ticket, once per request; an escalation of a known ticket reuses that ticket."""
    item = case.item
    if case.external_ref:
        known = ticketing.get(case.external_ref)
        if known is not None:
            audit(store.get_store(), item, "ticket.found", ticket_number=known.ticket_number)
            return case.with_(ticket_number=known.ticket_number, existing=True)
    now = now_utc()
    sla = SLA[case.priority]
    ticket = ticketing.create_ticket(
        NewTicket(
            queue=case.queue,
            priority=case.priority,
            subject=case.subject,
            description=item.text,
            requester=case.requester,
            external_ref=case.external_ref,
            response_due=now + sla.first_response,
            resolution_due=now + sla.resolution,
        ),
        request_id=item.request_id,
        idempotency_key=item.key("ticket"),
    )
    audit(
        store.get_store(),
        item,
        "ticket.created",
        ticket_number=ticket.ticket_number,
        queue=ticket.queue,
        priority=ticket.priority,
        response_due=ticket.response_due.isoformat() if ticket.response_due else None,
    )
    return case.with_(ticket_number=ticket.ticket_number)


@dg.op
def draft_first_response(
    case: TicketCase, store: RequestStoreResource, ticketing: TicketingResource
) -> TicketCase:
    """The queue's template, filled in and stored on the ticket as its first public reply."""
    body = first_response(case)
    assert case.ticket_number is not None  # set by open_ticket
    ticketing.set_first_response(case.ticket_number, body)
    audit(
        store.get_store(),
        case.item,
        "ticket.first_response_drafted",
        ticket_number=case.ticket_number,
        template=case.queue,
    )
    return case.with_(first_response=body)


@dg.op
def apply_sla(
    case: TicketCase,
    store: RequestStoreResource,
    ticketing: TicketingResource,
    notifications: NotificationResource,
) -> TicketCase:
    """Escalate per the SLA table when asked to, on a reported breach, or for P0 (page on-call)."""
    if not case.escalate or case.ticket_number is None:
        audit(store.get_store(), case.item, "ticket.sla_set", priority=case.priority, escalated=False)
        return case
    target = SLA[case.priority].escalate_to
    reason = case.escalation_reason or "escalated"
    ticket = ticketing.escalate(case.ticket_number, target, reason, idempotency_key=case.item.key("escalate"))
    notifications.send(
        f"#{target}",
        f"Escalation: {case.ticket_number} ({case.priority}, {case.queue})",
        f"{reason}. {case.subject}\nRequest {case.item.request_id}.",
        request_id=case.item.request_id,
        idempotency_key=case.item.key("notify:escalation"),
        detail={"ticket_number": case.ticket_number, "level": ticket.escalation_level},
    )
    audit(
        store.get_store(),
        case.item,
        "ticket.escalated",
        ticket_number=case.ticket_number,
        escalated_to=target,
        level=ticket.escalation_level,
        reason=reason,
    )
    return case.with_(escalated_to=target)


@dg.op
def notify_ticket(
    case: TicketCase, store: RequestStoreResource, notifications: NotificationResource
) -> WorkResult:
    """Send the requester the first response and tell the queue's channel."""
    item = case.item
    channel = f"#support-{case.queue}"
    if case.first_response:
        notifications.send(
            case.requester,
            f"Re: {case.subject} [{case.ticket_number}]",
            case.first_response,
            request_id=item.request_id,
            idempotency_key=item.key("notify:first_response"),
            detail={"ticket_number": case.ticket_number},
        )
    notifications.send(
        channel,
        f"New {case.priority} ticket {case.ticket_number}",
        f"{case.subject} (requester {case.requester}).",
        request_id=item.request_id,
        idempotency_key=item.key("notify:queue"),
        detail={"ticket_number": case.ticket_number},
    )
    audit(store.get_store(), item, "notifications.sent", recipients=[case.requester, channel])
    verb = "escalated" if case.escalated_to else ("updated" if case.existing else "opened")
    summary = f"{verb} {case.priority} {case.queue} ticket {case.ticket_number}"
    return WorkResult(item, summary, {"ticket_number": case.ticket_number, "queue": case.queue})


@workflow_job(
    name=TICKET_JOB,
    agent="customer_service",
    description="Route a support request: queue, priority, ticket, first response, SLA escalation, notify.",
)
def customer_service_ticket_routing() -> None:
    case = draft_first_response(open_ticket(classify_ticket(start_request())))
    complete_request(notify_ticket(apply_sla(case)))
