"""customer_service_ticket_status end to end against the ServiceNow emulator, plus its wording rules.

Each test opens its own incidents through the ServiceNow connector's client, for a requester of its
own; the answer is read from the requester's mailbox in the e-mail emulator.
"""

from __future__ import annotations

import uuid

from eas_pipelines.agents.customer_service.status import (
    customer_service_ticket_status,
    latest_comment,
)
from eas_pipelines.connectors.servicenow import Incident, ServiceNowClient
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

INTENT = "customer_service.ticket_status"


def customer() -> str:
    return f"cust.{uuid.uuid4().hex[:8]}@example.com"


def open_incident(servicenow: ServiceNowClient, requester: str, subject: str, **fields) -> Incident:
    key = uuid.uuid4().hex
    return servicenow.create_incident(
        subject,
        correlation_id=f"test:{key}",
        assignment_group="support-billing",
        u_requester=requester,
        **fields,
    )


def answer(sandbox_session, redis_url: str, who: str, request_id: str) -> str:
    (message,) = received(sandbox_session, redis_url, who, request_id=request_id)
    return message.text


def test_route_runs_the_job():
    assert ROUTES[INTENT].job == customer_service_ticket_status.name


def test_latest_comment_drops_the_journal_header():
    journal = (
        "2026-03-02 10:00:00 - admin (Additional comments)\nWe are on it\n\n"
        "2026-03-01 09:00:00 - admin (Additional comments)\nThanks\n\n"
    )
    assert latest_comment(journal) == "We are on it"
    assert latest_comment("") == ""


def test_quoted_ticket_status_is_answered_from_servicenow(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, servicenow
):
    who = customer()
    incident = open_incident(servicenow, who, "[billing] charged twice", u_response_due="2026-03-03 10:00:00")
    servicenow.add_comment(incident.sys_id, "We are refunding the second charge", idempotency_key=f"t:{who}")
    text = f"what's the status of ticket {incident.number}"
    record = queued_request(store, text, INTENT, [entity(text, "ticket_id", incident.number)], client_id=who)

    assert run_workflow(
        customer_service_ticket_status, record.id, dagster_instance, eas_resources, store
    ).success

    assert store.get(record.id).status is Status.SUCCEEDED
    text = answer(sandbox_session, redis_url, who, record.id)
    assert f"{incident.number} ([billing] charged twice): new, with support-billing." in text
    assert "First response due 2026-03-03 10:00:00 UTC." in text
    assert "Latest update: We are refunding the second charge" in text
    assert servicenow.incident(incident.number).state == "1"  # read only: nothing changed


def test_external_reference_and_own_open_tickets_are_found(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, servicenow
):
    who = customer()
    ref = f"SUP-{uuid.uuid4().int % 10**8:08d}"
    quoted = open_incident(servicenow, who, "[technical] API errors", u_external_ref=ref)
    closed = open_incident(servicenow, who, "[general] old question")
    servicenow.update_incident(closed.sys_id, state="7")
    by_ref = queued_request(
        store, f"any news on {ref}?", INTENT, [entity(f"any news on {ref}?", "ticket_id", ref)]
    )
    mine = queued_request(store, "where are my tickets at?", INTENT, [], client_id=who)

    assert run_workflow(
        customer_service_ticket_status, by_ref.id, dagster_instance, eas_resources, store
    ).success
    assert run_workflow(
        customer_service_ticket_status, mine.id, dagster_instance, eas_resources, store
    ).success

    assert f"{quoted.number} " in store.history(by_ref.id)[-1].reason
    listed = answer(sandbox_session, redis_url, who, mine.id)
    assert quoted.number in listed and closed.number not in listed  # open ones only


def test_unknown_ticket_is_refused(store, eas_resources, dagster_instance, sandbox_session, redis_url):
    who = customer()
    text = "status of INC9999999"
    record = queued_request(store, text, INTENT, [entity(text, "ticket_id", "INC9999999")], client_id=who)

    assert run_workflow(
        customer_service_ticket_status, record.id, dagster_instance, eas_resources, store
    ).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED and "ServiceNow has no ticket INC9999999" in refused.last_error
    assert "could not be completed" in answer(sandbox_session, redis_url, who, record.id)


def test_no_ticket_and_none_open_is_refused(store, eas_resources, dagster_instance):
    record = queued_request(store, "any update on my ticket?", INTENT, [], client_id=customer())

    assert run_workflow(
        customer_service_ticket_status, record.id, dagster_instance, eas_resources, store
    ).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED and "no open tickets of" in refused.last_error
