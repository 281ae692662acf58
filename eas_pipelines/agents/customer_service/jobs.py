"""Customer service agent: ``customer_service_ticket_routing``.

classify queue and priority -> create the ticket (or find the quoted one) -> templated first
response -> SLA deadlines and escalation -> notify -> succeeded. No approval: the route's policy
is ``never``. Serves both ``ticket_create`` and ``ticket_escalate`` (the latter always P0).
"""

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.customer_service.tickets import (
    SLA,
    TicketCase,
    classify_queue,
    escalation_reason,
    first_response,
    subject_of,
    ticket_priority,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import TicketingResource
from eas_pipelines.resources.connectors.ticketing import NewTicket
from eas_pipelines.routing import TICKET_JOB
from eas_pipelines.runs import now_utc


@workflow_step(TicketCase, optional=False)
def classify_ticket(item: WorkItem) -> Step:
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
    return Step.passed(
        case, "ticket.classified", queue=queue, priority=priority, escalate=case.escalate, reason=reason
    )


@workflow_step(TicketCase, optional=False)
def open_ticket(case: TicketCase, *, ticketing: TicketingResource) -> Step:
    """Create the ticket, once per request; an escalation of a known ticket reuses that ticket."""
    item = case.item
    if case.external_ref:
        known = ticketing.get(case.external_ref)
        if known is not None:
            number = known.ticket_number
            return Step.passed(
                case.with_(ticket_number=number, existing=True), "ticket.found", ticket_number=number
            )
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
    return Step.passed(
        case.with_(ticket_number=ticket.ticket_number),
        "ticket.created",
        ticket_number=ticket.ticket_number,
        queue=ticket.queue,
        priority=ticket.priority,
        response_due=ticket.response_due.isoformat() if ticket.response_due else None,
    )


@workflow_step(TicketCase, optional=False)
def draft_first_response(case: TicketCase, *, ticketing: TicketingResource) -> Step:
    """The queue's template, filled in and stored on the ticket as its first public reply."""
    body = first_response(case)
    assert case.ticket_number is not None  # set by open_ticket
    ticketing.set_first_response(case.ticket_number, body)
    return Step.passed(
        case.with_(first_response=body),
        "ticket.first_response_drafted",
        ticket_number=case.ticket_number,
        template=case.queue,
    )


@workflow_step(TicketCase, optional=False)
def apply_sla(
    case: TicketCase, *, ticketing: TicketingResource, notifications: NotificationsResource
) -> Step:
    """Escalate per the SLA table when asked to, on a reported breach, or for P0 (page on-call)."""
    if not case.escalate or case.ticket_number is None:
        return Step.passed(case, "ticket.sla_set", priority=case.priority, escalated=False)
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
    return Step.passed(
        case.with_(escalated_to=target),
        "ticket.escalated",
        ticket_number=case.ticket_number,
        escalated_to=target,
        level=ticket.escalation_level,
        reason=reason,
    )


@workflow_step(WorkResult, optional=False)
def notify_ticket(case: TicketCase, *, notifications: NotificationsResource) -> Step:
    """Send the requester the first response and tell the queue's channel."""
    item = case.item
    channel = f"#support-{case.queue}"
    detail = {"ticket_number": case.ticket_number}
    if case.first_response:
        notifications.send(
            case.requester,
            f"Re: {case.subject} [{case.ticket_number}]",
            case.first_response,
            request_id=item.request_id,
            idempotency_key=item.key("notify:first_response"),
            detail=detail,
        )
    title = f"New {case.priority} ticket {case.ticket_number}"
    body = f"{case.subject} (requester {case.requester})."
    notifications.send(
        channel,
        title,
        body,
        request_id=item.request_id,
        idempotency_key=item.key("notify:queue"),
        detail=detail,
    )
    verb = "escalated" if case.escalated_to else ("updated" if case.existing else "opened")
    summary = f"{verb} {case.priority} {case.queue} ticket {case.ticket_number}"
    result = WorkResult(item, summary, {"ticket_number": case.ticket_number, "queue": case.queue})
    return Step.passed(result, "notifications.sent", recipients=[case.requester, channel])


customer_service_ticket_routing = workflow_job(
    name=TICKET_JOB,
    agent="customer_service",
    description="Route a support request: queue, priority, ticket, first response, SLA escalation, notify.",
    steps=(classify_ticket, open_ticket, draft_first_response, apply_sla, notify_ticket),
)
