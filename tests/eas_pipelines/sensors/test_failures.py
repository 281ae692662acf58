"""request_failure_sensor: a failed run's request is retried with backoff, then failed.

Runs fail the way they do in production: ServiceNow (the ticket workflow's connector) is down,
either unreachable (a connector resource pointed at a closed port) or answering 503 to every call
(the emulator's fault injection).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.recovery import backoff_delay
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.sensors import request_failure_sensor, standard_lane_sensor
from eas_pipelines.sensors.failures import recover
from eas_pipelines.store import Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.dagster_support import make_resources, queued_request, run_workflow

UNREACHABLE = "https://127.0.0.1:1"
"""Nothing listens there: every call is refused at once, a transient failure for the connector."""

QUICK_OUTAGE = {"max_attempts": 2, "initial_backoff_s": 0.01, "breaker_fail_max": 2}
"""Connector settings that give up on a dead system at once (the op's own retries still apply) and
open the test's circuit after two outages, as production's breaker would after its five."""


def servicenow(redis_url: str, prefix: str, **changes: Any) -> ServiceNowResource:
    """A ServiceNow connector of the test's own: the emulator's settings, quick retries, the test's
    breaker, and ``changes`` (a dead URL).

    Built anew rather than ``model_copy``-ed from ``make_resources``' one: a run configures a
    resource from the values it was built with, so a copy's changed fields would not reach the run.
    """
    env = os.environ
    settings: dict[str, Any] = {
        "base_url": env["EAS_SERVICENOW_URL"],
        "user": env["EAS_SERVICENOW_USER"],
        "password": env["EAS_SERVICENOW_PASSWORD"],
        "ca_bundle": env["EAS_CONNECTOR_CA_BUNDLE"],
        "redis_url": redis_url,
        "breaker_prefix": f"{prefix}circuit",
        **QUICK_OUTAGE,
    }
    return ServiceNowResource(**{**settings, **changes})


@pytest.fixture
def servicenow_down(sandbox_session) -> Iterator[None]:
    """The ServiceNow emulator answers every call with a 503 until the test ends."""
    faults = sandbox_session.sandbox.faults
    faults.add(Fault(kind="error", vendor="servicenow", rate=1.0))
    try:
        yield
    finally:
        faults.clear()  # the session's emulators carry no other fault


def tick(
    sensor: dg.SensorDefinition,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    cursor: str | None = None,
) -> Any:
    """One tick of ``sensor``, its context opened as a ``with`` block: a resource that yields
    (notifications' connectors) can only be built inside one."""
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        return sensor.evaluate_tick(context)


def on_failure(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, resources) -> None:
    """What the failure sensor does for ``result``'s run, given the resources it names."""
    context = dg.build_run_status_sensor_context(
        sensor_name="request_failure_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        # only what the sensor takes: a resource that opens a context (notifications) cannot be
        # built outside a ``with`` block, and the sensor does not need one
        resources={key: resources[key] for key in ("store", "fast_lane", "policy")},
    ).for_run_failure()
    request_failure_sensor(context)


def test_failing_connector_requeues_with_backoff_then_fails(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance
):
    resources = {
        **make_resources(
            migrated_database_url,
            redis_url,
            redis_key_prefix,
            WorkflowPolicyResource(retry_backoff_seconds=3600),
        ),
        "servicenow": servicenow(redis_url, redis_key_prefix, base_url=UNREACHABLE),
    }
    text = "open a ticket: the invoice portal shows a blank page"
    record = queued_request(store, text, "customer_service.ticket_create", [], lane="standard")

    first = run_workflow(customer_service_ticket_routing, record.id, dagster_instance, resources, store)
    assert not first.success
    on_failure(dagster_instance, first, resources)

    retried = store.get(record.id)
    assert retried.status is Status.QUEUED
    assert retried.last_error.startswith("open_ticket:")
    (scheduled,) = [e for e in store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert (scheduled.actor, scheduled.detail["failures"]) == ("eas/recovery", 1)
    # The one backoff formula, jittered per request but recomputable: half the step fixed, half not.
    assert scheduled.detail["delay_s"] == backoff_delay(1, base_s=3600, key=record.id)
    assert 1800 <= scheduled.detail["delay_s"] <= 3600
    # The standard lane holds the retry back until its backoff is over...
    assert tick(standard_lane_sensor, dagster_instance, resources).run_requests == []
    # ...and launches it, as a new run key, once it is due.
    due = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(retry_backoff_seconds=0)
    )
    (rerun,) = tick(standard_lane_sensor, dagster_instance, due).run_requests
    assert rerun.run_key == f"{record.id}:1"

    for _ in range(2):
        again = run_workflow(customer_service_ticket_routing, record.id, dagster_instance, resources, store)
        assert not again.success
        on_failure(dagster_instance, again, resources)

    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert failed.attempts == 3
    assert failed.last_error.startswith("open_ticket:")
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
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, servicenow_down
):
    """Fast-lane workers run jobs in-process: the sensor must see those runs' failures too."""
    resources = {
        **make_resources(migrated_database_url, redis_url, redis_key_prefix),
        "servicenow": servicenow(redis_url, redis_key_prefix),
    }
    start = tick(request_failure_sensor, dagster_instance, resources)
    text = "open a ticket: the VPN drops every hour"
    record = queued_request(store, text, "customer_service.ticket_create", [], lane="standard")
    assert not run_workflow(
        customer_service_ticket_routing, record.id, dagster_instance, resources, store
    ).success

    tick(request_failure_sensor, dagster_instance, resources, cursor=start.cursor)

    retried = store.get(record.id)
    assert retried.status is Status.QUEUED
    assert retried.last_error.startswith("open_ticket:")


def test_fast_lane_run_that_never_claimed_its_request_is_left_to_its_worker(store, eas_resources):
    record = queued_request(store, "open a ticket: wifi flaky", "customer_service.ticket_create", [])

    outcome = recover(store, record.id, "x", "crashed", WorkflowPolicyResource(), lane_tag="fast")

    assert outcome.outcome == "ignored"  # the worker keeps the queue entry and delivers it again
    assert store.get(record.id).status is Status.QUEUED
