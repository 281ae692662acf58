"""customer_service_ticket_routing end to end against the ServiceNow and Slack/e-mail emulators, plus
its queue/priority rules.

The tickets are read back as ServiceNow incidents through the connector's client; what the requester
and the channels got, through :func:`tests.eas_pipelines.notifications_support.received`. The
emulators live for the whole session, so each test uses fresh people and ticket references.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.customer_service.tickets import classify_queue, ticket_priority
from eas_pipelines.connectors.servicenow import Incident, ServiceNowClient
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import Received, received

CREATE = "customer_service.ticket_create"
ESCALATE = "customer_service.ticket_escalate"
SN_TIME = "%Y-%m-%d %H:%M:%S"


def item(text: str, intent: str = CREATE, priority: int = 1, entities=()) -> WorkItem:
    return WorkItem("r", "customer_service", intent, text, "c", priority, tuple(entities), 1, "run")


def posted(sandbox_session, redis_url: str, channel: str, *, request_id: str) -> list[Received]:
    """What a Slack channel ("#support-access") got about a request, oldest first.

    ``received`` hands the channel's name to ``conversations.history``, which takes IDs only (as
    Slack does): the name is resolved to its ID here first.
    """
    env = sandbox_session.env
    slack = SlackResource(
        token=env["EAS_SLACK_BOT_TOKEN"],
        base_url=env["EAS_SLACK_URL"],
        ca_bundle=env["EAS_CONNECTOR_CA_BUNDLE"],
        redis_url=redis_url,
        breaker_prefix="eas:test:notifications-reader",
    )
    client = slack.client()
    texts = [message.get("text", "") for message in client.history(client.channel_id(channel))][::-1]
    return [Received(channel, text) for text in texts if request_id in text]


def ticket_of(servicenow: ServiceNowClient, request_id: str) -> list[Incident]:
    """The incidents a request opened (its create's correlation id)."""
    return servicenow.incidents(f"correlation_id={request_id}:ticket")


_JOURNAL_ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - .+ \((?:Additional comments|Work notes)\)\n", re.M
)


def entries(journal: str) -> list[str]:
    """A journal field's entries, newest first, without their "<time> - <user> (<field>)" lines."""
    return [entry.removesuffix("\n\n") for entry in _JOURNAL_ENTRY.split(journal)[1:]]


def fresh_ref() -> str:
    return f"SUP-{uuid.uuid4().int % 10**8:08d}"


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
    store, eas_resources, dagster_instance, sandbox_session, redis_url, servicenow
):
    tag = uuid.uuid4().hex[:8]
    email = f"dana.smith.{tag}@example.com"
    user_id = uuid.uuid4().hex
    sandbox_session.sandbox.records.put(
        "servicenow",
        "sys_user",
        user_id,
        {
            "sys_id": user_id,
            "user_name": f"dana.smith.{tag}",
            "email": email,
            "name": "Dana Smith",
            "active": "true",
        },
    )
    text = f"customer {email} can't log in, open a ticket"
    record = queued_request(store, text, CREATE, [entity(text, "email", email)])

    result = run_workflow(customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (ticket,) = ticket_of(servicenow, record.id)
    assert ticket.number.startswith("INC")
    assert (ticket.assignment_group, ticket.urgency, ticket.impact) == ("support-access", "2", "1")  # P1
    assert (ticket.caller_id, ticket.field("u_requester"), ticket.escalation_level) == (user_id, email, 0)
    assert ticket.short_description.startswith("[access] customer") and ticket.description == text
    (reply,) = entries(ticket.comments)
    assert ticket.number in reply and "identity team" in reply and "4 hours" in reply
    assert ticket.work_notes == ""
    created = datetime.strptime(ticket.field("sys_created_on"), SN_TIME)
    response_due = datetime.strptime(ticket.field("u_response_due"), SN_TIME)
    resolution_due = datetime.strptime(ticket.due_date, SN_TIME)
    assert (response_due - created).total_seconds() == pytest.approx(4 * 3600, abs=60)
    assert (resolution_due - response_due).total_seconds() == pytest.approx(20 * 3600, abs=5)
    (mail,) = received(sandbox_session, redis_url, email, request_id=record.id)
    assert mail.text.startswith(f"Re: [access] customer {email}") and f"[{ticket.number}]\n" in mail.text
    assert reply in mail.text.replace("\r\n", "\n")  # SMTP sends CRLF lines
    (queue_post,) = posted(sandbox_session, redis_url, "#support-access", request_id=record.id)
    assert f"New P1 ticket {ticket.number}" in queue_post.text and "[access] customer" in queue_post.text
    for channel in ("#support-tier2", "#support-oncall"):  # nothing escalated
        assert posted(sandbox_session, redis_url, channel, request_id=record.id) == []
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
    store, eas_resources, dagster_instance, sandbox_session, redis_url, servicenow
):
    text = "the billing export is throwing errors, open a ticket"
    opened = queued_request(store, text, CREATE, [])
    assert run_workflow(
        customer_service_ticket_routing, opened.id, dagster_instance, eas_resources, store
    ).success
    (ticket,) = ticket_of(servicenow, opened.id)
    assert (ticket.assignment_group, ticket.urgency, ticket.caller_id) == ("support-technical", "2", "")

    text = f"{ticket.number} has been stuck for days, escalate it"
    escalation = queued_request(store, text, ESCALATE, [entity(text, "ticket_id", ticket.number)])
    result = run_workflow(
        customer_service_ticket_routing, escalation.id, dagster_instance, eas_resources, store
    )

    assert result.success
    assert store.get(escalation.id).status is Status.SUCCEEDED
    assert ticket_of(servicenow, escalation.id) == []  # the known ticket, not a new one
    escalated = servicenow.incident(ticket.number)
    assert (escalated.escalation_level, escalated.assignment_group, escalated.urgency) == (
        1,
        "support-oncall",
        "1",
    )
    reply, first = entries(escalated.comments)  # the escalating requester's reply on top of the first
    assert "15 minutes" in reply and "4 hours" in first
    (note,) = entries(escalated.work_notes)
    assert note == "Escalated to support-oncall (level 1): escalation requested"
    (page,) = posted(sandbox_session, redis_url, "#support-oncall", request_id=escalation.id)
    assert (
        f"Escalation: {ticket.number} (P0, technical)" in page.text
    )  # the ticket's queue, not the request's
    (queue_post,) = posted(sandbox_session, redis_url, "#support-technical", request_id=escalation.id)
    assert f"Escalated P0 ticket {ticket.number}" in queue_post.text
    steps = [e.action for e in store.audit_trail(escalation.id) if e.actor == "customer_service"]
    assert "ticket.found" in steps and "ticket.escalated" in steps and "ticket.created" not in steps


def test_reported_sla_breach_escalates_a_new_ticket_that_a_later_escalation_finds(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, servicenow
):
    ref = fresh_ref()
    text = f"{ref} breached its SLA, the sync with Salesforce is broken"
    record = queued_request(store, text, ESCALATE, [entity(text, "ticket_id", ref)])

    assert run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store
    ).success

    (ticket,) = ticket_of(servicenow, record.id)
    assert (ticket.field("u_external_ref"), ticket.urgency, ticket.impact, ticket.escalation_level) == (
        ref,
        "1",
        "1",
        1,
    )  # P0
    assert ticket.short_description.startswith("[technical]")
    assert ticket.assignment_group == "support-oncall"
    (reply,) = entries(ticket.comments)
    assert "15 minutes" in reply
    assert posted(sandbox_session, redis_url, "#support-oncall", request_id=record.id)

    text = f"still nothing on {ref}, escalate it again"
    again = queued_request(store, text, ESCALATE, [entity(text, "ticket_id", ref)])
    assert run_workflow(
        customer_service_ticket_routing, again.id, dagster_instance, eas_resources, store
    ).success

    assert ticket_of(servicenow, again.id) == []  # the quoted reference found the first incident
    escalated = servicenow.incident(ticket.sys_id)
    assert escalated.escalation_level == 2
    assert entries(escalated.work_notes) == [
        "Escalated to support-oncall (level 2): escalation requested",
        "Escalated to support-oncall (level 1): escalation requested",
    ]
