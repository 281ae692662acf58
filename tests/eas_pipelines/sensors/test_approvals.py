"""approval_resume_sensor (the escalation schedule: tests/eas_pipelines/agents/test_escalation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import worker_key
from eas_pipelines.routing import Priority
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import awaiting, evaluate_sensor


def test_resume_sensor_requeues_approved_requests_on_the_fast_lane_when_a_worker_lives(
    store, eas_resources, dagster_instance, redis_client, redis_key_prefix
):
    later = datetime.now(UTC) + timedelta(hours=1)
    fast, _ = awaiting(store, "manager:a", later)
    pending, _ = awaiting(store, "manager:b", later)
    store.decide(fast.id, "approved", "boss")
    redis_client.set(worker_key("w1", redis_key_prefix), "{}", px=10_000)

    evaluate_sensor(approval_resume_sensor, instance=dagster_instance, resources=eas_resources)

    resumed = store.get(fast.id)
    assert (resumed.status, resumed.lane.value) == (Status.QUEUED, "fast")
    queue = FastQueue(eas_resources["fast_lane"].client, prefix=redis_key_prefix)
    assert queue.depth()[Priority.P1] == 1
    assert store.get(pending.id).status is Status.AWAITING_APPROVAL
    # A second tick finds nothing more to do.
    evaluate_sensor(approval_resume_sensor, instance=dagster_instance, resources=eas_resources)
    assert queue.depth()[Priority.P1] == 1


def test_an_approved_p0_request_resumes_at_p0(
    store, eas_resources, dagster_instance, redis_client, redis_key_prefix
):
    """P0 is 0: a ``priority or P1`` default once queued approved P0 requests behind P1 work."""
    urgent, _ = awaiting(store, "manager:a", datetime.now(UTC) + timedelta(hours=1), priority=Priority.P0)
    store.decide(urgent.id, "approved", "boss")
    redis_client.set(worker_key("w1", redis_key_prefix), "{}", px=10_000)

    evaluate_sensor(approval_resume_sensor, instance=dagster_instance, resources=eas_resources)

    queue = FastQueue(eas_resources["fast_lane"].client, prefix=redis_key_prefix)
    assert (queue.depth()[Priority.P0], queue.depth()[Priority.P1]) == (1, 0)
