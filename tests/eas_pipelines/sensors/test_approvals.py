"""approval_resume_sensor and the escalation schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import worker_key
from eas_pipelines.resources.connectors.notifications import SandboxNotifier
from eas_pipelines.routing import Priority
from eas_pipelines.sensors import (
    approval_escalation_job,
    approval_escalation_schedule,
    approval_resume_sensor,
)
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import queued_request


def awaiting(store: RequestStore, approver: str, deadline: datetime, *, lane: str | None = None):
    record = queued_request(
        store, "open a ticket: billing portal down", "customer_service.ticket_create", [], lane=lane
    )
    store.transition(
        record.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r1", attempt=True
    )
    approval = store.request_approval(record.id, approver, deadline, "test")
    return record, approval


def test_resume_sensor_requeues_approved_requests_on_the_fast_lane_when_a_worker_lives(
    store, eas_resources, dagster_instance, redis_client, redis_key_prefix
):
    later = datetime.now(UTC) + timedelta(hours=1)
    fast, _ = awaiting(store, "manager:a", later)
    pending, _ = awaiting(store, "manager:b", later)
    store.decide(fast.id, "approved", "boss")
    redis_client.set(worker_key("w1", redis_key_prefix), "{}", px=10_000)

    approval_resume_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=eas_resources)
    )

    resumed = store.get(fast.id)
    assert (resumed.status, resumed.lane.value) == (Status.QUEUED, "fast")
    queue = FastQueue(eas_resources["fast_lane"].client, prefix=redis_key_prefix)
    assert queue.depth()[Priority.P1] == 1
    assert store.get(pending.id).status is Status.AWAITING_APPROVAL
    # A second tick finds nothing more to do.
    approval_resume_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=eas_resources)
    )
    assert queue.depth()[Priority.P1] == 1


def test_escalation_walks_each_chain(store, eas_resources, sandbox):
    vp = sandbox.employee("Morgan", "Reyes")
    director = sandbox.employee("Priya", "Patel", manager_id=vp)
    overdue = datetime.now(UTC) - timedelta(minutes=1)
    finance, finance_approval = awaiting(store, "finance_manager", overdue)
    placeholder, _ = awaiting(store, "manager:zoe.walker", overdue)
    person, _ = awaiting(store, director, overdue)
    top, _ = awaiting(store, vp, overdue)
    not_due, _ = awaiting(store, "finance_manager", datetime.now(UTC) + timedelta(hours=1))

    result = approval_escalation_job.execute_in_process(resources=eas_resources)

    assert result.success and result.output_for_node("escalate_overdue_approvals") == 4
    approver = {
        r.id: store.approvals(request_id=r.id)[0] for r in (finance, placeholder, person, top, not_due)
    }
    assert approver[finance.id].approver == "cfo"
    assert approver[placeholder.id].approver == "director:zoe.walker"
    assert approver[person.id].approver == vp
    assert approver[top.id].approver == vp  # top of the chain: a reminder
    assert approver[not_due.id].escalation_level == 0
    assert approver[finance.id].escalation_level == 1
    assert approver[finance.id].deadline > datetime.now(UTC) + timedelta(hours=23)
    (entry,) = [e for e in store.audit_trail(finance.id) if e.action == "approval.escalated"]
    assert (entry.actor, entry.detail["from_approver"]) == ("eas/escalation", "finance_manager")
    notified = {n.recipient for n in SandboxNotifier(sandbox.engine).sent(request_id=person.id)}
    assert notified == {f"{vp}@example.com"}
    assert approval_escalation_schedule.cron_schedule == "*/5 * * * *"
    assert finance_approval.id == approver[finance.id].id
