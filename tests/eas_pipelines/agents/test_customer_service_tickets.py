"""customer_service_ticket_routing end to end, plus its queue/priority rules."""

from __future__ import annotations

import pytest

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.customer_service.tickets import classify_queue, ticket_priority
from eas_pipelines.resources.connectors.notifications import SandboxNotifier
from eas_pipelines.resources.connectors.ticketing import SandboxTicketing
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow

CREATE = "customer_service.ticket_create"
ESCALATE = "customer_service.ticket_escalate"


def item(text: str, intent: str = CREATE, priority: int = 1, entities=()) -> WorkItem:
    return WorkItem("r", "customer_service", intent, text, "c", priority, tuple(entities), 1, "run")


@pytest.mark.parametrize(
    ("text", "queue"),
    [
        ("customer dana@example.com can't log in, open a ticket", "access"),
        ("I was charged twice for my subscription, please refund", "billing"),
        ("the API keeps timing out with 500 errors", "technical"),
        ("question about your office opening hours", "general"),
    ],
)
def test_queue_classification(text, queue):
    assert classify_queue(item(text)) == queue


def test_priority_takes_the_most_urgent_and_escalation_is_p0():
    assert ticket_priority(item("x", priority=1, entities=[{"type": "priority", "value": "P0"}])) == "P0"
    assert ticket_priority(item("x", priority=1, entities=[{"type": "priority", "value": "P2"}])) == "P1"
    assert ticket_priority(item("x", intent=ESCALATE, priority=1)) == "P0"


def test_access_ticket_is_created_with_a_templated_first_response(
    store, eas_resources, dagster_instance, sandbox
):
    text = "customer dana.smith@example.com can't log in, open a ticket"
    record = queued_request(store, text, CREATE, [entity(text, "email", "dana.smith@example.com")])

    result = run_workflow(customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (ticket,) = SandboxTicketing(sandbox.engine).tickets(request_id=record.id)
    assert (ticket.queue, ticket.priority, ticket.requester, ticket.escalation_level) == (
        "access",
        "P1",
        "dana.smith@example.com",
        0,
    )
    assert ticket.ticket_number.startswith("TCK-")
    assert ticket.ticket_number in ticket.first_response
    assert "identity team" in ticket.first_response and "4 hours" in ticket.first_response
    assert (ticket.resolution_due - ticket.response_due).total_seconds() == pytest.approx(20 * 3600, abs=5)
    sent = {n.recipient: n for n in SandboxNotifier(sandbox.engine).sent(request_id=record.id)}
    assert set(sent) == {"dana.smith@example.com", "#support-access"}
    assert sent["dana.smith@example.com"].body == ticket.first_response
    steps = [e.action for e in store.audit_trail(record.id) if e.actor == "customer_service"]
    for step in (
        "ticket.classified",
        "ticket.created",
        "ticket.first_response_drafted",
        "ticket.sla_set",
        "notifications.sent",
        "workflow.completed",
    ):
        assert step in steps


def test_escalation_of_a_known_ticket_escalates_it_to_on_call(
    store, eas_resources, dagster_instance, sandbox
):
    text = "the billing export is throwing errors, open a ticket"
    opened = queued_request(store, text, CREATE, [])
    assert run_workflow(
        customer_service_ticket_routing, opened.id, dagster_instance, eas_resources, store
    ).success
    (ticket,) = SandboxTicketing(sandbox.engine).tickets(request_id=opened.id)

    text = f"{ticket.ticket_number} has been stuck for days, escalate it"
    escalation = queued_request(store, text, ESCALATE, [entity(text, "ticket_id", ticket.ticket_number)])
    result = run_workflow(
        customer_service_ticket_routing, escalation.id, dagster_instance, eas_resources, store
    )

    assert result.success
    assert store.get(escalation.id).status is Status.SUCCEEDED
    ticketing = SandboxTicketing(sandbox.engine)
    assert ticketing.tickets(request_id=escalation.id) == []  # the known ticket, not a new one
    escalated = ticketing.get(ticket.ticket_number)
    assert (escalated.escalation_level, escalated.escalated_to, escalated.status) == (
        1,
        "support-oncall",
        "escalated",
    )
    (record,) = ticketing.escalations(ticket.ticket_number)
    assert record.reason == "escalation requested"
    assert "#support-oncall" in {
        n.recipient for n in SandboxNotifier(sandbox.engine).sent(request_id=escalation.id)
    }


def test_reported_sla_breach_escalates_a_new_ticket(store, eas_resources, dagster_instance, sandbox):
    text = "SUP-4411 breached its SLA, the sync with Salesforce is broken"
    record = queued_request(store, text, ESCALATE, [entity(text, "ticket_id", "SUP-4411")])

    assert run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store
    ).success

    (ticket,) = SandboxTicketing(sandbox.engine).tickets(request_id=record.id)
    assert (ticket.external_ref, ticket.priority, ticket.queue, ticket.escalation_level) == (
        "SUP-4411",
        "P0",
        "technical",
        1,
    )
    assert "15 minutes" in ticket.first_response
