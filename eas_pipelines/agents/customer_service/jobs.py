"""Customer service agent: ``customer_service_ticket_routing``.

classify queue and priority -> create the ticket (or find the quoted one) -> templated first
response -> SLA deadlines and escalation -> notify -> succeeded. No approval: the route's policy
is ``never``. Serves both ``ticket_create`` and ``ticket_escalate`` (the latter always P0).

The ticket is a ServiceNow incident (:class:`~eas_pipelines.connectors.servicenow.ServiceNowResource`,
resource key ``servicenow``). Its fields:

- ``short_description``: the subject ("[access] customer ... can't log in"); ``description``: the
  request's text; ``urgency``/``impact``: from the priority (:data:`.tickets.URGENCY_IMPACT`);
  ``assignment_group``: the queue's group (:func:`.tickets.queue_group`, "support-access").
- ``caller_id``: the sys_id of the ServiceNow user with the requester's e-mail, when there is one
  (a reference field: it takes nothing else); ``u_requester``: the requester as EAS answers them
  (their e-mail, or the API client), always, since customers are rarely users of the instance.
- ``u_external_ref``: a ticket id the request quoted from another system ("SUP-4411"), so that a
  later escalation quoting it finds this incident; a quoted INC number is looked up directly.
- ``u_response_due`` and ``due_date``: the first-response and resolution deadlines of the SLA
  (ServiceNow's UTC date/time format).
- ``correlation_id``: ``<request id>:ticket``, the create's idempotency key (a retried create
  finds the incident the first try opened).
- ``comments`` (customer-visible): the first response, once per request.
- An escalation (:meth:`~eas_pipelines.connectors.servicenow.ServiceNowClient.escalate`): the SLA
  table's target becomes the ``assignment_group``, ``urgency`` goes up one step, ``u_escalation_level``
  counts the escalations and a ``work_notes`` entry says why; once per request.

The journal entries and the escalation are made once per idempotency key by the connector, which
keeps the keys it applied in ``u_eas_update_keys``. A refusal by ServiceNow about this incident (a
data policy, a business rule, an ACL on the record) ends the request ``failed`` with ServiceNow's
reason; anything else (an outage, the integration user's credentials) fails the run, for the op's
retries and then the failure sensor.
"""

import re

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.customer_service.tickets import (
    SLA,
    URGENCY_IMPACT,
    TicketCase,
    classify_queue,
    escalation_reason,
    first_response,
    queue_group,
    queue_of_subject,
    subject_of,
    ticket_priority,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import CompletedStep
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.servicenow import (
    Incident,
    ServiceNowClient,
    ServiceNowResource,
    servicenow_datetime,
)
from eas_pipelines.routing import TICKET_JOB
from eas_pipelines.runs import now_utc

_QUOTABLE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""A quoted ticket id that can go into an encoded query as it is (no ``^``, ``=`` or spaces)."""

_NOT_ABOUT_THIS_INCIDENT = frozenset({401})
"""ServiceNow refusals that are EAS's problem, not the request's: the integration user's login."""


def _refusal(exc: VendorRejected) -> str | None:
    """Why the request cannot be done, when ServiceNow refused it; None when the run should fail."""
    if exc.status in _NOT_ABOUT_THIS_INCIDENT:
        return None
    return f"ServiceNow refused the ticket: {exc}"


def find_ticket(client: ServiceNowClient, ref: str) -> Incident | None:
    """The incident a quoted ticket id names: by number (INC...), else by ``u_external_ref``."""
    if not _QUOTABLE_REF.match(ref):
        return None
    if ref.upper().startswith("INC"):
        found = client.incident(ref.upper())
        if found is not None:
            return found
    return next(iter(client.incidents(f"u_external_ref={ref}^ORDERBYnumber", limit=1)), None)


def caller_sys_id(client: ServiceNowClient, requester: str) -> str:
    """The sys_id of the ServiceNow user whose e-mail the requester is, else ""."""
    if "@" not in requester:
        return ""
    user = client.user_by_email(requester)
    return "" if user is None else user.sys_id


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


def cancel_opened_ticket(done: CompletedStep, *, servicenow: ServiceNowResource) -> str | None:
    """Compensation of :func:`open_ticket`: cancel the incident this request opened, with a note.

    Only an incident the step created (``ticket.created``): a ticket it found (an escalation of a
    known one) belongs to somebody else's request and is left as it is.
    """
    number = done.detail.get("ticket_number")
    if done.action != "ticket.created" or not number:
        return None
    note = f"Cancelled by EAS: request {done.request_id}, which opened this incident, was rolled back."
    servicenow.client().cancel_incident(str(number), note, idempotency_key=done.key())
    return f"ServiceNow incident {number} cancelled"


@workflow_step(TicketCase, optional=False, compensate=cancel_opened_ticket)
def open_ticket(case: TicketCase, *, servicenow: ServiceNowResource) -> Step:
    """Open the incident, once per request; an escalation of a known ticket reuses that incident."""
    item = case.item
    key = item.key("ticket")
    client = servicenow.client()
    try:
        known = find_ticket(client, case.external_ref) if case.external_ref else None
        if known is not None and known.correlation_id != key:  # not the one a first try opened
            known_queue = queue_of_subject(known.short_description)
            if known_queue is not None:  # EAS opened it: keep its queue and subject, so its team hears
                case = case.with_(queue=known_queue, subject=known.short_description)
            found = case.with_(ticket_number=known.number, ticket_id=known.sys_id, existing=True)
            return Step.passed(found, "ticket.found", ticket_number=known.number, queue=found.queue)
        now = now_utc()
        sla = SLA[case.priority]
        urgency, impact = URGENCY_IMPACT[case.priority]
        response_due = now + sla.first_response
        incident = client.create_incident(
            case.subject,
            correlation_id=key,
            description=item.text,
            urgency=urgency,
            impact=impact,
            caller_id=caller_sys_id(client, case.requester),
            assignment_group=queue_group(case.queue),
            u_requester=case.requester,
            u_external_ref=case.external_ref or "",
            u_response_due=servicenow_datetime(response_due),
            due_date=servicenow_datetime(now + sla.resolution),
        )
    except VendorRejected as exc:
        if (reason := _refusal(exc)) is None:
            raise
        return Step.refused(reason, queue=case.queue, priority=case.priority)
    return Step.passed(
        case.with_(ticket_number=incident.number, ticket_id=incident.sys_id),
        "ticket.created",
        ticket_number=incident.number,
        queue=case.queue,
        priority=case.priority,
        assignment_group=incident.assignment_group,
        response_due=response_due.isoformat(),
    )


@workflow_step(TicketCase, optional=False)
def draft_first_response(case: TicketCase, *, servicenow: ServiceNowResource) -> Step:
    """The queue's template, filled in and added to the incident as a customer-visible comment."""
    body = first_response(case)
    assert case.ticket_id is not None  # set by open_ticket
    client = servicenow.client()
    try:
        client.add_comment(case.ticket_id, body, idempotency_key=case.item.key("first_response"))
    except VendorRejected as exc:
        if (reason := _refusal(exc)) is None:
            raise
        return Step.refused(reason, ticket_number=case.ticket_number)
    return Step.passed(
        case.with_(first_response=body),
        "ticket.first_response_drafted",
        ticket_number=case.ticket_number,
        template=case.queue,
    )


@workflow_step(TicketCase, optional=False)
def apply_sla(
    case: TicketCase, *, servicenow: ServiceNowResource, notifications: NotificationsResource
) -> Step:
    """Escalate per the SLA table when asked to, on a reported breach, or for P0 (page on-call)."""
    if not case.escalate or case.ticket_id is None:
        return Step.passed(case, "ticket.sla_set", priority=case.priority, escalated=False)
    target = SLA[case.priority].escalate_to
    reason = case.escalation_reason or "escalated"
    client = servicenow.client()
    try:
        ticket = client.escalate(
            case.ticket_id,
            assignment_group=target,
            reason=reason,
            idempotency_key=case.item.key("escalate"),
        )
    except VendorRejected as exc:
        if (refusal := _refusal(exc)) is None:
            raise
        return Step.refused(refusal, ticket_number=case.ticket_number)
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
    channel = f"#{queue_group(case.queue)}"  # the queue's group reads the channel named like it
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
    state = "New" if not case.existing else ("Escalated" if case.escalated_to else "Updated")
    title = f"{state} {case.priority} ticket {case.ticket_number}"
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
