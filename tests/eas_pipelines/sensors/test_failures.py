"""request_failure_sensor: a failed run's request is retried with backoff, then failed."""

from __future__ import annotations

import dagster as dg

from eas_pipelines.agents import customer_service_ticket_routing, finance_invoice_processing
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.recovery import backoff_delay
from eas_pipelines.resources import LedgerResource, TicketingResource, WorkflowPolicyResource
from eas_pipelines.sensors import request_failure_sensor, standard_lane_sensor
from eas_pipelines.sensors.failures import recover
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow

UNREACHABLE = "postgresql+psycopg2://postgres@127.0.0.1:1/none"


def on_failure(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, resources) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name="request_failure_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources=resources,
    ).for_run_failure()
    request_failure_sensor(context)


def test_failing_connector_requeues_with_backoff_then_fails(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sandbox
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(retry_backoff_seconds=3600)
    )
    resources["ledger"] = LedgerResource(
        database_url=UNREACHABLE,
        redis_url=redis_url,
        breaker_prefix=f"{redis_key_prefix}circuit",
        breaker_fail_max=2,
    )
    vendor = sandbox.vendor()
    sandbox.purchase_order(vendor, 1_000)
    text = f"Process INV-80001 from {vendor} for $100"
    record = queued_request(
        store,
        text,
        "finance.invoice_process",
        [
            entity(text, "invoice_id", "INV-80001"),
            entity(text, "vendor", vendor),
            entity(text, "amount", "$100"),
        ],
        lane="standard",
    )

    first = run_workflow(finance_invoice_processing, record.id, dagster_instance, resources, store)
    assert not first.success
    on_failure(dagster_instance, first, resources)

    retried = store.get(record.id)
    assert retried.status is Status.QUEUED
    assert "check_duplicate_invoice" in retried.last_error
    (scheduled,) = [e for e in store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert (scheduled.actor, scheduled.detail["failures"]) == ("eas/recovery", 1)
    # The one backoff formula, jittered per request but recomputable: half the step fixed, half not.
    assert scheduled.detail["delay_s"] == backoff_delay(1, base_s=3600, key=record.id)
    assert 1800 <= scheduled.detail["delay_s"] <= 3600
    # The standard lane holds the retry back until its backoff is over...
    assert (
        standard_lane_sensor.evaluate_tick(
            dg.build_sensor_context(instance=dagster_instance, resources=resources)
        ).run_requests
        == []
    )
    # ...and launches it, as a new run key, once it is due.
    due = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(retry_backoff_seconds=0)
    )
    (rerun,) = standard_lane_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=due)
    ).run_requests
    assert rerun.run_key == f"{record.id}:1"

    for _ in range(2):
        again = run_workflow(finance_invoice_processing, record.id, dagster_instance, resources, store)
        assert not again.success
        on_failure(dagster_instance, again, resources)

    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert failed.attempts == 3
    assert "check_duplicate_invoice" in failed.last_error
    trail = [e.action for e in store.audit_trail(record.id) if e.actor == "eas/recovery"]
    assert trail.count("retry.scheduled") == 2 and trail[-1] == "retry.exhausted"


def test_duplicate_delivery_failures_are_ignored(store, eas_resources, dagster_instance):
    text = "open a ticket: printer on fire"
    record = queued_request(store, text, "customer_service.ticket_create", [])
    assert run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store
    ).success
    duplicate = run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, eas_resources, store
    )
    assert not duplicate.success

    on_failure(dagster_instance, duplicate, eas_resources)

    assert store.get(record.id).status is Status.SUCCEEDED


def test_run_that_failed_before_claiming_its_request_is_retried(store, eas_resources):
    text = "open a ticket: VPN down"
    record = queued_request(store, text, "customer_service.ticket_create", [])

    outcome = recover(
        store,
        record.id,
        "launch-failed-run",
        "run worker crashed",
        WorkflowPolicyResource(),
        eas_resources["fast_lane"],
    )

    assert outcome.outcome == "requeued"
    retried = store.get(record.id)
    assert (retried.status, retried.attempts, retried.last_error) == (Status.QUEUED, 1, "run worker crashed")
    # fast-lane request: back on the Redis queue, delayed by the backoff
    assert (
        FastQueue(eas_resources["fast_lane"].client, prefix=eas_resources["fast_lane"].prefix).delayed_count()
        == 1
    )


def test_runs_that_do_not_own_the_request_are_ignored(store, eas_resources):
    text = "open a ticket: mail bounces"
    record = queued_request(store, text, "customer_service.ticket_create", [])
    store.transition(
        record.id, Status.RUNNING, actor="worker", expected=Status.QUEUED, run_id="owner", attempt=True
    )

    assert recover(store, record.id, "someone-else", "boom", WorkflowPolicyResource()).outcome == "ignored"
    assert store.get(record.id).status is Status.RUNNING


def test_sensor_tick_recovers_runs_executed_in_process(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sandbox
):
    """Fast-lane workers run jobs in-process: the sensor must see those runs' failures too."""
    resources = make_resources(migrated_database_url, redis_url, redis_key_prefix)
    resources["ticketing"] = TicketingResource(
        database_url=UNREACHABLE, redis_url=redis_url, breaker_prefix=f"{redis_key_prefix}circuit"
    )
    start = request_failure_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=resources)
    )
    text = "open a ticket: the VPN drops every hour"
    record = queued_request(store, text, "customer_service.ticket_create", [], lane="standard")
    assert not run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, resources, store
    ).success

    request_failure_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=resources, cursor=start.cursor)
    )

    retried = store.get(record.id)
    assert retried.status is Status.QUEUED
    assert retried.last_error.startswith("open_ticket:")


def test_fast_lane_run_that_never_claimed_its_request_is_left_to_its_worker(store, eas_resources):
    record = queued_request(store, "open a ticket: wifi flaky", "customer_service.ticket_create", [])

    outcome = recover(store, record.id, "x", "crashed", WorkflowPolicyResource(), lane_tag="fast")

    assert outcome.outcome == "ignored"  # the worker keeps the queue entry and delivers it again
    assert store.get(record.id).status is Status.QUEUED
