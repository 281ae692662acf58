"""recovery_retry_request and recovery_rollback end to end, from the sentence (with the entities the
NLP service extracts: a ``request_id``, upper-cased by its normaliser) to the effect in the emulated
systems: a SAP supplier invoice reversed, a BambooHR time-off request cancelled, a ServiceNow
incident cancelled, a failed request queued again and then completed. Plus the refusals and the
rules.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from eas_pipelines.agents import customer_service_ticket_routing, finance_invoice_processing, hr_leave_request
from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.hr.people import person_id
from eas_pipelines.agents.recovery.jobs import recovery_retry_request, recovery_rollback
from eas_pipelines.agents.recovery.targets import reference_of, retry_problem, rollback_problem
from eas_pipelines.agents.saga import COMPENSATED
from eas_pipelines.connectors.servicenow import INCIDENT_CANCELED
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.store import RequestStore, Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.agents.test_customer_service_tickets import ticket_of
from tests.eas_pipelines.agents.test_finance_invoice import invoice_request, sap  # noqa: F401
from tests.eas_pipelines.agents.test_hr_leave import approve_and_resume, leave_request
from tests.eas_pipelines.dagster_support import (
    entity,
    make_resources,
    next_monday,
    queued_request,
    run_workflow,
)
from tests.eas_pipelines.notifications_support import received

RETRY = "recovery.retry_request"
ROLLBACK = "recovery.rollback"


def ask(store: RequestStore, intent: str, verb: str, target_id: str | None, client_id: str):
    """A recovery request as the gateway queues it: "<verb> request <ID>" with the extracted id."""
    if target_id is None:
        return queued_request(store, f"{verb} my last request", intent, [], client_id=client_id)
    typed = target_id.upper()  # as a person copies it; the normaliser upper-cases ids anyway
    text = f"{verb} request {typed}"
    return queued_request(store, text, intent, [entity(text, "request_id", typed)], client_id=client_id)


def ticket(store: RequestStore, client_id: str, **options):
    text = f"open a ticket: the invoice portal shows a blank page ({uuid.uuid4().hex[:6]})"
    return queued_request(store, text, "customer_service.ticket_create", [], client_id=client_id, **options)


def test_rollback_reverses_the_posted_sap_invoice(
    store,
    eas_resources,
    dagster_instance,
    sap,  # noqa: F811 - the imported fixture
    sandbox_session,
    redis_url,
):
    vendor = sap.supplier("Initech")
    sap.purchase_order(vendor, 5_000)
    invoice, invoice_id = invoice_request(store, vendor, "$1,200.00", client_id="ap-clerk")
    assert run_workflow(
        finance_invoice_processing, invoice.id, dagster_instance, eas_resources, store
    ).success
    posted = sap.invoice(vendor, invoice_id)
    assert posted is not None and posted.reverse_document == ""

    rollback = ask(store, ROLLBACK, "roll back", invoice.id, "ap-clerk")
    result = run_workflow(recovery_rollback, rollback.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(rollback.id).status is Status.SUCCEEDED
    reversed_ = sap.invoice(vendor, invoice_id)
    assert reversed_ is not None and reversed_.reverse_document  # SAP shows the reversal document
    (undone,) = [e for e in store.audit_trail(invoice.id) if e.action == COMPENSATED]
    assert undone.actor == "recovery" and undone.detail["step"] == "post_invoice"
    assert f"SI{posted.invoice_number}/{posted.fiscal_year}" in undone.detail["undone"]
    assert "rollback.completed" in [e.action for e in store.audit_trail(invoice.id)]
    assert store.get(invoice.id).status is Status.SUCCEEDED  # terminal: its trail says it was undone
    (told,) = received(sandbox_session, redis_url, "ap-clerk", request_id=rollback.id)
    assert "reversed" in told.text

    again = ask(store, ROLLBACK, "roll back", invoice.id, "ap-clerk")
    assert run_workflow(recovery_rollback, again.id, dagster_instance, eas_resources, store).success
    assert store.get(again.id).status is Status.FAILED
    assert store.get(again.id).last_error == f"request {invoice.id} was already rolled back"


def test_rollback_cancels_the_booked_leave_and_restores_the_balance(
    store,
    eas_resources,
    dagster_instance,
    staff,
):
    manager = staff.hire("Dana", "Smith", balances={"vacation": 20})
    employee = staff.hire("Marcus", "Chen", manager=manager, balances={"vacation": 15})
    start = next_monday()
    end = start + timedelta(days=4)
    leave = leave_request(store, employee.full_name, start, end, "vacation", client_id="marcus")
    assert run_workflow(hr_leave_request, leave.id, dagster_instance, eas_resources, store).success
    approve_and_resume(store, leave, dagster_instance, eas_resources, approver=person_id(manager))
    assert run_workflow(hr_leave_request, leave.id, dagster_instance, eas_resources, store).success
    assert staff.balance(employee) == 10

    rollback = ask(store, ROLLBACK, "undo", None, "marcus")  # "undo my last request": no id given
    assert run_workflow(recovery_rollback, rollback.id, dagster_instance, eas_resources, store).success

    assert store.get(rollback.id).status is Status.SUCCEEDED
    (booked,) = staff.time_off(employee, start, end)
    assert booked.status == "canceled"
    assert staff.balance(employee) == 15
    (undone,) = [e for e in store.audit_trail(leave.id) if e.action == COMPENSATED]
    assert undone.detail["step"] == "book_leave" and str(booked.id) in undone.detail["undone"]


def test_rollback_cancels_the_opened_incident(
    store,
    eas_resources,
    dagster_instance,
    servicenow,
):
    opened = ticket(store, "support-bot")
    assert run_workflow(
        customer_service_ticket_routing, opened.id, dagster_instance, eas_resources, store
    ).success
    (incident,) = ticket_of(servicenow, opened.id)

    rollback = ask(store, ROLLBACK, "roll back", opened.id, "support-bot")
    assert run_workflow(recovery_rollback, rollback.id, dagster_instance, eas_resources, store).success

    (cancelled,) = ticket_of(servicenow, opened.id)
    assert cancelled.state == INCIDENT_CANCELED
    assert opened.id in cancelled.field("close_notes")
    (undone,) = [e for e in store.audit_trail(opened.id) if e.action == COMPENSATED]
    assert undone.detail["undone"] == f"ServiceNow incident {incident.number} cancelled"


def test_rollback_is_refused_to_somebody_else_and_for_a_running_request(
    store, eas_resources, dagster_instance
):
    opened = ticket(store, "owner-client")
    assert run_workflow(
        customer_service_ticket_routing, opened.id, dagster_instance, eas_resources, store
    ).success

    stranger = ask(store, ROLLBACK, "roll back", opened.id, "stranger")
    assert run_workflow(recovery_rollback, stranger.id, dagster_instance, eas_resources, store).success
    refused = store.get(stranger.id)
    assert refused.status is Status.FAILED
    assert "was submitted by owner-client" in refused.last_error

    busy = ticket(store, "owner-client")
    store.transition(busy.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r1", attempt=True)
    early = ask(store, ROLLBACK, "roll back", busy.id, "owner-client")
    assert run_workflow(recovery_rollback, early.id, dagster_instance, eas_resources, store).success
    assert "is running" in store.get(early.id).last_error

    unknown = ask(store, ROLLBACK, "roll back", str(uuid.uuid4()), "owner-client")
    assert run_workflow(recovery_rollback, unknown.id, dagster_instance, eas_resources, store).success
    assert "does not exist" in store.get(unknown.id).last_error


def test_retry_queues_a_failed_request_again_and_it_then_completes(
    store,
    migrated_database_url,
    redis_url,
    redis_key_prefix,
    dagster_instance,
    sandbox_session,
    servicenow,
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(max_attempts=1)
    )
    failing = ticket(store, "helpdesk", lane="fast")
    store.transition(
        failing.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r0", attempt=True
    )
    store.transition(
        failing.id,
        Status.FAILED,
        actor="eas/recovery",
        expected=Status.RUNNING,
        last_error="open_ticket: 503",
    )

    retry = ask(store, RETRY, "retry", failing.id, "helpdesk")
    result = run_workflow(recovery_retry_request, retry.id, dagster_instance, resources, store)

    assert result.success and store.get(retry.id).status is Status.SUCCEEDED
    queued = store.get(failing.id)
    assert queued.status is Status.QUEUED
    # Back on the fast lane's Redis queue, as its next attempt.
    queue = FastQueue(resources["fast_lane"].client, prefix=redis_key_prefix)
    assert queue.client.exists(queue.dedup_key(failing.id, queued.attempts))
    assert "retry.requested" in [e.action for e in store.audit_trail(failing.id)]
    # The retried request runs its own job again and completes.
    assert run_workflow(
        customer_service_ticket_routing, failing.id, dagster_instance, resources, store
    ).success
    assert store.get(failing.id).status is Status.SUCCEEDED
    assert ticket_of(servicenow, failing.id)


def test_retry_respects_the_attempts_and_refuses_what_cannot_be_retried(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sandbox_session
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(max_attempts=1)
    )
    failing = ticket(store, "helpdesk", lane="standard")
    store.transition(
        failing.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r0", attempt=True
    )
    store.transition(failing.id, Status.FAILED, actor="test", expected=Status.RUNNING, last_error="boom")
    first = ask(store, RETRY, "retry", failing.id, "helpdesk")
    assert run_workflow(recovery_retry_request, first.id, dagster_instance, resources, store).success
    assert store.get(failing.id).status is Status.QUEUED

    # ServiceNow down: the retried run fails again, for good (max attempts 1).
    faults = sandbox_session.sandbox.faults
    faults.add(Fault(kind="error", vendor="servicenow", rate=1.0))
    try:
        rerun = run_workflow(customer_service_ticket_routing, failing.id, dagster_instance, resources, store)
    finally:
        faults.clear()
    assert not rerun.success
    store.transition(
        failing.id, Status.FAILED, actor="eas/recovery", expected=Status.RUNNING, last_error="down"
    )

    second = ask(store, RETRY, "retry", failing.id, "helpdesk")
    assert run_workflow(recovery_retry_request, second.id, dagster_instance, resources, store).success
    assert store.get(second.id).status is Status.FAILED
    assert "already retried 1 time(s), the most allowed (1)" in store.get(second.id).last_error
    assert store.get(failing.id).status is Status.FAILED

    done = ticket(store, "helpdesk")
    assert run_workflow(customer_service_ticket_routing, done.id, dagster_instance, resources, store).success
    third = ask(store, RETRY, "retry", done.id, "helpdesk")
    assert run_workflow(recovery_retry_request, third.id, dagster_instance, resources, store).success
    assert "only a failed request can be retried" in store.get(third.id).last_error


def item(entities=()) -> WorkItem:
    return WorkItem("r", "recovery", RETRY, "retry it", "c", 1, tuple(entities), 1, "run")


def test_the_reference_is_the_extracted_request_id():
    assert reference_of(item([{"type": "request_id", "text": "req-1", "value": "REQ-1"}])) == "REQ-1"
    assert reference_of(item()) is None


class _Record:
    def __init__(self, status: Status):
        self.id, self.status = "req-1", status


@pytest.mark.parametrize(
    ("status", "retries", "rolled_back", "problem"),
    [
        (Status.FAILED, 0, False, None),
        (Status.SUCCEEDED, 0, False, "only a failed request"),
        (Status.FAILED, 3, False, "the most allowed (3)"),
        (Status.FAILED, 0, True, "was rolled back"),
    ],
)
def test_retry_rules(status, retries, rolled_back, problem):
    found = retry_problem(_Record(status), retries, 3, rolled_back)  # type: ignore[arg-type]
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    ("status", "steps", "rolled_back", "problem"),
    [
        (Status.SUCCEEDED, 1, False, None),
        (Status.FAILED, 2, True, None),
        (Status.AWAITING_APPROVAL, 1, False, "only a request that succeeded or failed"),
        (Status.SUCCEEDED, 0, True, "already rolled back"),
        (Status.SUCCEEDED, 0, False, "made no change that EAS can undo"),
    ],
)
def test_rollback_rules(status, steps, rolled_back, problem):
    found = rollback_problem(_Record(status), steps, rolled_back)  # type: ignore[arg-type]
    assert (found is None) if problem is None else (problem in found)
