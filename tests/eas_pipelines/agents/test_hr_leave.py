"""hr_leave_request end to end: real PostgreSQL, Redis and Dagster instance."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from eas_pipelines.agents import hr_leave_request
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.resources.connectors.calendar import SandboxCalendar
from eas_pipelines.resources.connectors.notifications import SandboxNotifier
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import (
    entity,
    make_resources,
    next_monday,
    queued_request,
    run_workflow,
    today,
)

INTENT = "hr.leave_request"


def leave_request(store: RequestStore, employee: str, start, end, leave_type: str = "vacation"):
    span = f"from {start.isoformat()} to {end.isoformat()}"
    text = f"{employee} needs {leave_type} {span}"
    entities = [
        entity(text, "employee", employee),
        entity(text, "leave_type", leave_type),
        entity(text, "date_range", span),
    ]
    return queued_request(store, text, INTENT, entities)


def approve_and_resume(store, record, instance, resources, approver="manager"):
    store.decide(record.id, "approved", approver)
    approval_resume_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources))
    assert store.get(record.id).status is Status.QUEUED


def test_leave_is_booked_after_the_managers_approval(store, eas_resources, dagster_instance, sandbox):
    manager = sandbox.employee("Dana", "Smith", balances={"vacation": 20})
    employee = sandbox.employee("Marcus", "Chen", manager_id=manager, balances={"vacation": 15, "sick": 10})
    name = f"Marcus Chen{sandbox.tag}"
    start = next_monday()
    record = leave_request(store, name, start, start + timedelta(days=4), "PTO")  # pto draws on vacation

    first = run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store)

    assert first.success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == manager
    (ask,) = SandboxNotifier(sandbox.engine).sent(request_id=record.id)
    assert ask.recipient == f"{manager}@example.com" and "5 working day(s)" in ask.body
    assert sandbox.balance(employee, "vacation") == 15  # nothing debited before the decision

    approve_and_resume(store, record, dagster_instance, eas_resources, approver=manager)
    second = run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store)

    assert second.success
    assert store.get(record.id).status is Status.SUCCEEDED
    assert sandbox.balance(employee, "vacation") == 10
    (entry,) = SandboxCalendar(sandbox.engine).entries(request_id=record.id)
    assert (entry.calendar, entry.kind, entry.start_date, entry.end_date) == (
        employee,
        "out_of_office",
        start,
        start + timedelta(days=4),
    )
    recipients = [n.recipient for n in SandboxNotifier(sandbox.engine).sent(request_id=record.id)]
    assert recipients.count(f"{employee}@example.com") == 1
    steps = [e.action for e in store.audit_trail(record.id) if e.actor == "hr"]
    for step in (
        "leave.read",
        "leave.balance_checked",
        "leave.policy_checked",
        "approval.granted",
        "leave.debited",
        "calendar.entry_created",
        "notifications.sent",
        "workflow.completed",
    ):
        assert step in steps


def test_unknown_employee_gets_a_manager_placeholder_approver(store, eas_resources, dagster_instance):
    start = next_monday()
    record = leave_request(store, "Zoe Walker", start, start)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "manager:zoe.walker"


def test_insufficient_balance_fails(store, eas_resources, dagster_instance, sandbox):
    sandbox.employee("Kenji", "Tanaka", balances={"vacation": 1})
    start = next_monday()
    record = leave_request(store, f"Kenji Tanaka{sandbox.tag}", start, start + timedelta(days=2))

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith("insufficient vacation balance")
    assert "1 day(s) left, 3 requested" in refused.last_error
    assert store.approvals(status=None, request_id=record.id) == []


def test_blackout_window_fails(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sandbox
):
    start = next_monday()
    window = f"{start.isoformat()}:{(start + timedelta(days=1)).isoformat()}"
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(leave_blackouts=[window])
    )
    sandbox.employee("Elena", "Garcia", balances={"vacation": 20})
    record = leave_request(store, f"Elena Garcia{sandbox.tag}", start - timedelta(days=3), start)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert f"overlaps the blackout window {window}" in refused.last_error


def test_notice_period_fails_for_vacation_but_not_for_sick_leave(
    store, eas_resources, dagster_instance, sandbox
):
    sandbox.employee("Aisha", "Okafor", balances={"vacation": 20, "sick": 10})
    name = f"Aisha Okafor{sandbox.tag}"
    tomorrow = today() + timedelta(days=1)
    while tomorrow.weekday() >= 5:
        tomorrow += timedelta(days=1)
    vacation = leave_request(store, name, tomorrow, tomorrow, "vacation")
    sick = leave_request(store, name, tomorrow, tomorrow, "sick leave")

    assert run_workflow(hr_leave_request, vacation.id, dagster_instance, eas_resources, store).success
    assert run_workflow(hr_leave_request, sick.id, dagster_instance, eas_resources, store).success

    refused = store.get(vacation.id)
    assert refused.status is Status.FAILED
    assert "must be requested at least 3 day(s) ahead" in refused.last_error
    assert store.get(sick.id).status is Status.AWAITING_APPROVAL


def test_single_date_and_default_leave_type(store, eas_resources, dagster_instance, sandbox):
    sandbox.employee("Tom", "Nguyen", balances={"vacation": 8})
    day = next_monday() + timedelta(days=2)
    text = f"Tom Nguyen{sandbox.tag} can take {day.isoformat()} off"
    entities = [entity(text, "employee", f"Tom Nguyen{sandbox.tag}"), entity(text, "date", day.isoformat())]
    record = queued_request(store, text, INTENT, entities)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    read = next(e for e in store.audit_trail(record.id) if e.action == "leave.read")
    assert (read.detail["leave_type"], read.detail["working_days"]) == ("vacation", 1)


def test_notice_counts_from_the_day_the_request_was_made(store, eas_resources, dagster_instance, sandbox):
    """A run resumed after a slow approval must not refuse leave that was asked for in time."""
    sandbox.employee("Sofia", "Rossi", balances={"vacation": 12})
    soon = today() + timedelta(days=1)
    while soon.weekday() >= 5:
        soon += timedelta(days=1)
    record = leave_request(store, f"Sofia Rossi{sandbox.tag}", soon, soon)
    with store.engine.begin() as conn:  # asked ten days ago
        conn.execute(
            sa.text("UPDATE requests SET created_at = created_at - interval '10 days' WHERE id = :id"),
            {"id": record.id},
        )

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.AWAITING_APPROVAL
