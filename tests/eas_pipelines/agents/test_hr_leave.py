"""hr_leave_request end to end: real PostgreSQL, Redis and Dagster instance, BambooHR's emulator.

Each test hires its own people (a fresh tag in their names and work emails) through the BambooHR
client, and gives them a supervisor and balances in the emulator's records, which BambooHR's API
cannot set; what the agent booked is read back through the same client.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import sqlalchemy as sa

from eas_pipelines.agents import hr_leave_request
from eas_pipelines.agents.common import Passed, Refused, WorkItem
from eas_pipelines.agents.hr.jobs import file_time_off
from eas_pipelines.agents.hr.leave import LeaveRequest
from eas_pipelines.agents.hr.people import person_id
from eas_pipelines.connectors.bamboohr import Employee
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.resources import WorkflowPolicyResource
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
from tests.eas_pipelines.notifications_support import received
from tests.eas_pipelines.staff_support import Staff

INTENT = "hr.leave_request"


def posted_in(sandbox_session, redis_url: str, channel: str, request_id: str) -> list[str]:
    """Slack messages about ``request_id`` in ``channel`` ("#hr"), read by the channel's ID as Slack
    requires (``notifications_support.received`` passes the name to ``conversations.history``)."""
    env = sandbox_session.env
    slack = SlackResource(
        token=env["EAS_SLACK_BOT_TOKEN"],
        base_url=env["EAS_SLACK_URL"],
        ca_bundle=env["EAS_CONNECTOR_CA_BUNDLE"],
        redis_url=redis_url,
        breaker_prefix="eas:test:notifications-reader",
    ).client()
    texts = [message.get("text", "") for message in slack.history(slack.channel_id(channel))]
    return [text for text in texts if request_id in text]


def leave_request(store: RequestStore, employee: str, start, end, leave_type: str = "vacation", **options):
    span = f"from {start.isoformat()} to {end.isoformat()}"
    text = f"{employee} needs {leave_type} {span}"
    entities = [
        entity(text, "employee", employee),
        entity(text, "leave_type", leave_type),
        entity(text, "date_range", span),
    ]
    return queued_request(store, text, INTENT, entities, **options)


def approve_and_resume(store, record, instance, resources, approver="manager"):
    store.decide(record.id, "approved", approver)
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    assert store.get(record.id).status is Status.QUEUED


def test_leave_is_booked_in_bamboohr_after_the_managers_approval(
    store, eas_resources, dagster_instance, staff, sandbox_session, redis_url
):
    manager = staff.hire("Dana", "Smith", balances={"vacation": 20})
    employee = staff.hire("Marcus", "Chen", manager=manager, balances={"vacation": 15, "sick": 10})
    start = next_monday()
    end = start + timedelta(days=4)
    record = leave_request(store, employee.full_name, start, end, "PTO")  # pto is BambooHR's Vacation

    first = run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store)

    assert first.success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == person_id(manager) == f"dana.smith.{staff.tag.lower()}"
    (ask,) = received(sandbox_session, redis_url, manager.work_email, request_id=record.id)
    assert "5 working day(s)" in ask.text
    assert staff.balance(employee) == 15  # nothing booked before the decision
    assert staff.time_off(employee, start, end) == []

    approve_and_resume(store, record, dagster_instance, eas_resources, approver=person_id(manager))
    second = run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store)

    assert second.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (booked,) = staff.time_off(employee, start, end)  # on BambooHR's "Who's out" calendar
    assert (booked.status, booked.type_name, booked.amount, booked.start, booked.end) == (
        "approved",
        "Vacation",
        5,
        start,
        end,
    )
    assert record.id in booked.employee_note
    assert staff.balance(employee) == 10
    assert staff.balance(employee, "Sick") == 10
    assert len(received(sandbox_session, redis_url, employee.work_email, request_id=record.id)) == 1
    trail = [e for e in store.audit_trail(record.id) if e.actor == "hr"]
    steps = [e.action for e in trail]
    for step in (
        "leave.read",
        "leave.balance_checked",
        "leave.policy_checked",
        "approval.granted",
        "leave.booked",
        "notifications.sent",
        "workflow.completed",
    ):
        assert step in steps
    entry = next(e for e in trail if e.action == "leave.booked")
    assert (entry.detail["time_off_request_id"], entry.detail["balance_after"]) == (booked.id, 10)
    read = next(e for e in trail if e.action == "leave.read")
    assert (read.detail["employee_id"], read.detail["bamboohr_id"]) == (person_id(employee), employee.id)


def test_an_employee_bamboohr_does_not_know_is_refused_naming_them(
    store, eas_resources, dagster_instance, staff
):
    name = f"Zoe Walker{staff.tag}"
    start = next_monday()
    record = leave_request(store, name, start, start)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert f"employee {name!r} was not found in BambooHR" in refused.last_error
    assert store.approvals(status=None, request_id=record.id) == []


def test_a_request_naming_nobody_is_the_requesters_own(store, eas_resources, dagster_instance, staff):
    """The requester is an API client ("cli"), not an employee, unless their id is a person's."""
    employee = staff.hire("Tom", "Nguyen", manager=staff.hire("Dana", "Smith"), balances={"vacation": 8})
    day = next_monday() + timedelta(days=1)
    text = f"I need vacation on {day.isoformat()}"
    entities = [entity(text, "leave_type", "vacation"), entity(text, "date", day.isoformat())]
    from_cli = queued_request(store, text, INTENT, entities, client_id="cli")
    from_tom = queued_request(store, text, INTENT, entities, client_id=person_id(employee))

    assert run_workflow(hr_leave_request, from_cli.id, dagster_instance, eas_resources, store).success
    assert run_workflow(hr_leave_request, from_tom.id, dagster_instance, eas_resources, store).success

    refused = store.get(from_cli.id)
    assert refused.status is Status.FAILED
    assert "the requester 'cli' was not found in BambooHR" in refused.last_error
    assert store.get(from_tom.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=from_tom.id)
    assert approval.approver == f"dana.smith.{staff.tag.lower()}"


def test_somebody_without_a_manager_gets_a_placeholder_approver_asked_in_hr(
    store, eas_resources, dagster_instance, staff, sandbox_session, redis_url
):
    top = staff.hire("Morgan", "Reyes", balances={"vacation": 25})
    start = next_monday()
    record = leave_request(store, top.full_name, start, start)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == f"manager:morgan.reyes.{staff.tag.lower()}"
    (ask,) = posted_in(sandbox_session, redis_url, "#hr", record.id)
    assert f"Morgan Reyes{staff.tag}" in ask


def test_insufficient_balance_fails_before_asking(store, eas_resources, dagster_instance, staff):
    staff.hire("Kenji", "Tanaka", balances={"vacation": 1})
    start = next_monday()
    record = leave_request(store, f"Kenji Tanaka{staff.tag}", start, start + timedelta(days=2))

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith("insufficient vacation balance")
    assert "1 day(s) left, 3 requested" in refused.last_error
    assert store.approvals(status=None, request_id=record.id) == []


def test_a_balance_spent_while_waiting_for_approval_is_refused_after_it(
    store, eas_resources, dagster_instance, staff
):
    """The run after the approval checks the balance again: time has passed since it was asked."""
    manager = staff.hire("Omar", "Haddad")
    employee = staff.hire("Sofia", "Rossi", manager=manager, balances={"vacation": 4})
    start = next_monday()
    end = start + timedelta(days=2)
    record = leave_request(store, employee.full_name, start, end)
    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    spend_two_days_in_bamboohr(staff, employee, start + timedelta(days=7))

    approve_and_resume(store, record, dagster_instance, eas_resources, approver=person_id(manager))
    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert "2 day(s) left, 3 requested" in refused.last_error
    assert staff.time_off(employee, start, end) == []
    assert staff.balance(employee) == 2


def spend_two_days_in_bamboohr(staff: Staff, employee: Employee, monday: date) -> None:
    """Two days of vacation booked in BambooHR itself (not through EAS)."""
    staff.client.request_time_off(
        employee.id, monday, monday + timedelta(days=1), "Vacation", idempotency_key="ui", status="approved"
    )


def test_bamboohr_refusing_the_booking_for_the_balance_refuses_the_request(staff):
    """BambooHR has the last word: a balance spent between the check and the booking refuses it."""
    employee = staff.hire("Kenji", "Tanaka", balances={"vacation": 3})
    start = next_monday()
    leave = LeaveRequest(
        item=WorkItem("req-1", "hr", INTENT, "", "cli", 1, (), 1, "run-1"),
        employee_id=person_id(employee),
        employee_name=employee.full_name,
        employee_contact=employee.work_email,
        approver="manager:x",
        approver_contact="#hr",
        leave_type="vacation",
        start=start,
        end=start + timedelta(days=2),
        working_days=3,
        bamboohr_id=employee.id,
        time_off_type="Vacation",
    )
    spend_two_days_in_bamboohr(staff, employee, start + timedelta(days=7))

    refused = file_time_off(leave, staff.client)

    assert isinstance(refused, Refused)
    assert refused.reason.startswith("insufficient balance at booking time: ")
    assert refused.reason.endswith("Insufficient balance: 3 days of Vacation requested, 1 days available")
    assert staff.time_off(employee, start, start + timedelta(days=2)) == []

    booked = file_time_off(leave.with_(working_days=1, end=start), staff.client)
    assert isinstance(booked, Passed) and booked.action == "leave.booked"
    assert booked.value.balance_after == 0
    again = file_time_off(leave.with_(working_days=1, end=start), staff.client)  # a retried step
    assert again.value.time_off_request_id == booked.value.time_off_request_id
    assert len(staff.time_off(employee, start, start)) == 1


def test_a_leave_type_bamboohr_has_no_time_off_type_for_is_refused(
    store, eas_resources, dagster_instance, staff
):
    staff.hire("Aisha", "Okafor", balances={"vacation": 20})
    start = next_monday()
    record = leave_request(store, f"Aisha Okafor{staff.tag}", start, start, "jury duty")

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert "BambooHR has no 'Jury Duty' time-off type (it has Personal, Sick, Vacation)" in refused.last_error


def test_blackout_window_fails(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, staff
):
    start = next_monday()
    window = f"{start.isoformat()}:{(start + timedelta(days=1)).isoformat()}"
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(leave_blackouts=[window])
    )
    staff.hire("Elena", "Garcia", balances={"vacation": 20})
    record = leave_request(store, f"Elena Garcia{staff.tag}", start - timedelta(days=3), start)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert f"overlaps the blackout window {window}" in refused.last_error


def test_notice_period_fails_for_vacation_but_not_for_sick_leave(
    store, eas_resources, dagster_instance, staff
):
    staff.hire("Aisha", "Okafor", balances={"vacation": 20, "sick": 10})
    name = f"Aisha Okafor{staff.tag}"
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


def test_single_date_and_default_leave_type(store, eas_resources, dagster_instance, staff):
    staff.hire("Tom", "Nguyen", balances={"vacation": 8})
    day = next_monday() + timedelta(days=2)
    text = f"Tom Nguyen{staff.tag} can take {day.isoformat()} off"
    entities = [entity(text, "employee", f"Tom Nguyen{staff.tag}"), entity(text, "date", day.isoformat())]
    record = queued_request(store, text, INTENT, entities)

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    read = next(e for e in store.audit_trail(record.id) if e.action == "leave.read")
    assert (read.detail["leave_type"], read.detail["time_off_type"], read.detail["working_days"]) == (
        "vacation",
        "Vacation",
        1,
    )


def test_notice_counts_from_the_day_the_request_was_made(store, eas_resources, dagster_instance, staff):
    """A run resumed after a slow approval must not refuse leave that was asked for in time."""
    staff.hire("Sofia", "Rossi", balances={"vacation": 12})
    soon = today() + timedelta(days=1)
    while soon.weekday() >= 5:
        soon += timedelta(days=1)
    record = leave_request(store, f"Sofia Rossi{staff.tag}", soon, soon)
    with store.engine.begin() as conn:  # asked ten days ago
        conn.execute(
            sa.text("UPDATE requests SET created_at = created_at - interval '10 days' WHERE id = :id"),
            {"id": record.id},
        )

    assert run_workflow(hr_leave_request, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.AWAITING_APPROVAL
