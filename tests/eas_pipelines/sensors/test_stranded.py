"""stranded_request_sensor: the stranded-request pass on the Dagster daemon's clock."""

from __future__ import annotations

import time
import uuid

import dagster as dg
import pytest

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.recovery import RECOVERY_ACTOR
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.runs import TAG_WORKER, run_tags_for
from eas_pipelines.sensors import stranded_request_sensor
from eas_pipelines.sensors.stranded import STRANDED_ACTOR
from eas_pipelines.store import RequestRecord, RequestStore, Status
from tests.eas_pipelines.dagster_support import evaluate_sensor, make_resources, queued_request, run_workflow

HEARTBEAT_S = 0.1  # grace: two TTLs of 0.3 s


@pytest.fixture
def resources(migrated_database_url, redis_url, redis_key_prefix):
    """No backoff, so that a recovered request may run again at once; short heartbeats."""
    return make_resources(
        migrated_database_url,
        redis_url,
        redis_key_prefix,
        WorkflowPolicyResource(
            retry_backoff_seconds=0, leave_blackouts=[], worker_heartbeat_seconds=HEARTBEAT_S
        ),
    )


def claimed_ticket(
    store: RequestStore, instance: dg.DagsterInstance, *, lane: str, worker: str | None
) -> tuple[RequestRecord, str]:
    """A ticket request claimed by a ``STARTED`` run of ``lane`` (tagged with ``worker``, if any)."""
    record = queued_request(
        store, "open a ticket: the printer is on fire", "customer_service.ticket_create", []
    )
    run_id = str(uuid.uuid4())
    tags = run_tags_for(record, lane=lane)
    if worker is not None:
        tags[TAG_WORKER] = worker
    instance.add_run(
        dg.DagsterRun(
            job_name=customer_service_ticket_routing.name,
            run_id=run_id,
            tags=tags,
            status=dg.DagsterRunStatus.STARTED,
        )
    )
    store.transition(
        record.id, Status.RUNNING, actor="agent", expected=Status.QUEUED, run_id=run_id, attempt=True
    )
    time.sleep(6 * HEARTBEAT_S + 0.2)  # past the grace period
    return record, run_id


def tick(instance: dg.DagsterInstance, resources) -> str:
    data = evaluate_sensor(stranded_request_sensor, instance=instance, resources=resources)
    assert data.run_requests == []
    return data.skip_message or ""


def test_the_sensor_recovers_a_request_of_a_dead_worker_which_then_runs_once(
    store, resources, dagster_instance
):
    record, stale_run = claimed_ticket(store, dagster_instance, lane="fast", worker="w-gone")

    message = tick(dagster_instance, resources)

    assert "1 re-queued" in message and "1 run(s) marked failed" in message
    stale = dagster_instance.get_run_by_id(stale_run)
    assert stale.status is dg.DagsterRunStatus.FAILURE
    requeued = store.get(record.id)
    assert requeued.status is Status.QUEUED
    [requeue] = [t for t in store.history(record.id) if t.actor == RECOVERY_ACTOR]
    assert f"worker w-gone gone (no heartbeat); run {stale_run} marked failed" in (requeue.reason or "")
    (scheduled,) = [e for e in store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert scheduled.detail["recovered_by"] == STRANDED_ACTOR
    fast_lane = resources["fast_lane"]
    assert sum(FastQueue(fast_lane.client, prefix=fast_lane.prefix).depth().values()) == 1

    assert "0 re-queued" in tick(dagster_instance, resources)  # a second tick finds nothing to do
    rerun = run_workflow(customer_service_ticket_routing, record.id, dagster_instance, resources, store)

    assert rerun.success
    final = store.get(record.id)
    assert final.status is Status.SUCCEEDED
    assert final.run_ids == (stale_run, rerun.run_id)
    assert sum(1 for t in store.history(record.id) if t.to_status is Status.SUCCEEDED) == 1


def test_the_sensor_leaves_a_live_standard_lane_run_alone(store, resources, dagster_instance):
    record, run_id = claimed_ticket(store, dagster_instance, lane="standard", worker=None)

    message = tick(dagster_instance, resources)

    assert "0 re-queued" in message and "1 owned" in message
    assert store.get(record.id).status is Status.RUNNING
    assert dagster_instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED
