"""Work for later, end to end: a scheduled announcement and an offboarding on the last day.

The request that asks succeeds as scheduled (nothing is sent or revoked then); the deferred-work
sensor's pass (:func:`~eas_pipelines.agents.deferred.work.launch_due`, given the time) queues the due
request only once its time has come, once, however often it runs; the due request's workflow does
the work: the announcement reaches the department's inboxes (the SMTP emulator's record), the leaver's
accounts are revoked (read back through the connectors' clients).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.communication.jobs import communication_announcement
from eas_pipelines.agents.communication.rules import announcement_body, send_at
from eas_pipelines.agents.deferred.work import (
    DEFERRED_FROM,
    LAUNCHED,
    SCHEDULED,
    DeferredCursor,
    deferred_work_sensor,
    launch_due,
    organisation_zone,
)
from eas_pipelines.agents.hr.lifecycle import OFFBOARDING_AT, hr_offboarding
from eas_pipelines.agents.security.accounts import AccountSystems
from eas_pipelines.agents.security.people import person_of
from eas_pipelines.agents.security.policy import POLICY, Grant
from eas_pipelines.runs import now_utc
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import entity, evaluate_sensor, queued_request, run_workflow

ANNOUNCE, OFFBOARD = "communication.announcement", "hr.offboarding"


def item(text: str, entities: list[dict] | None = None) -> WorkItem:
    return WorkItem("r1", "communication", ANNOUNCE, text, "c", 2, tuple(entities or ()), 1, "run")


def mails(sandbox_session, request_id: str) -> list[dict]:
    return [
        m for m in sandbox_session.sandbox.records.all("email", "messages") if request_id in m["body_text"]
    ]


def due_requests(store: RequestStore, request_id: str) -> list[str]:
    return [e.detail["due_request"] for e in store.audit_trail(request_id) if e.action == LAUNCHED]


def scheduled_at(store: RequestStore, request_id: str) -> datetime:
    (entry,) = [e for e in store.audit_trail(request_id) if e.action == SCHEDULED]
    return datetime.fromisoformat(entry.detail["due_at"])


@pytest.fixture
def zone(eas_resources) -> ZoneInfo:
    return organisation_zone(eas_resources["outlook_calendar"])


@pytest.fixture
def systems(eas_resources) -> Iterator[AccountSystems]:
    keys = ("salesforce", "servicenow", "jira", "slack_scim")
    with dg.build_resources({key: eas_resources[key] for key in keys}) as built:
        yield AccountSystems(*(getattr(built, key) for key in keys))


# -- rules ---------------------------------------------------------------------------------------


def test_when_an_announcement_goes_out():
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Berlin
    text = "Announce the office move to all staff on Friday at 9am"
    friday = entity(text, "date", "Friday", "2026-03-06")
    assert announcement_body(text) == "The office move"
    assert send_at(item(text, [friday]), berlin, now) == datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    # a day without a time: the start of the working day; a time alone: today, or tomorrow once past
    day_only = "Announce the office move to all staff on Friday"
    assert send_at(item(day_only, [entity(day_only, "date", "Friday", "2026-03-06")]), berlin, now) == (
        datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    )
    assert send_at(item("announce the fire drill at 4pm"), berlin, now) == datetime(
        2026, 3, 2, 15, 0, tzinfo=UTC
    )
    assert send_at(item("announce the fire drill at 9am"), berlin, now) == datetime(
        2026, 3, 3, 8, 0, tzinfo=UTC
    )
    # no time at all, or times and days inside the message itself: now
    assert send_at(item("let everyone know: the new expense tool is live"), berlin, now) is None
    in_body = "tell #general that we meet on Friday at 3"
    assert send_at(item(in_body, [entity(in_body, "date", "Friday", "2026-03-06")]), berlin, now) is None


# -- the deferred-work sensor on its own -------------------------------------------------------


def test_the_sensor_rebuilds_its_cursor_from_the_audit_log_and_launches_nothing_early(
    store, eas_resources, dagster_instance
):
    text = f"announce the fire drill to #general at 9am {uuid.uuid4().hex[:4]}"
    record = queued_request(store, text, ANNOUNCE, [entity(text, "channel", "#general")])
    due = now_utc() + timedelta(days=3)
    store.audit(record.id, "communication", SCHEDULED, {"due_at": due.isoformat(), "what": "test"})

    cursor, launched = launch_due(store, eas_resources["fast_lane"], DeferredCursor(), now_utc())
    assert due_requests(store, record.id) == []
    assert any(s.request_id == record.id for s in (cursor.pending or {}).values())
    cursor = DeferredCursor.load(cursor.dump())  # the cursor survives its JSON form
    cursor, launched = launch_due(store, eas_resources["fast_lane"], cursor, due - timedelta(seconds=1))
    assert due_requests(store, record.id) == []
    # The sensor itself, on the real clock: nothing of this request is due yet.
    result = evaluate_sensor(deferred_work_sensor, instance=dagster_instance, resources=eas_resources)
    assert result.cursor and due_requests(store, record.id) == []


# -- a scheduled announcement --------------------------------------------------------------------


def test_an_announcement_for_later_is_sent_at_its_time_and_once(
    store, eas_resources, dagster_instance, sandbox_session, staff, zone
):
    department = f"Moves {staff.tag}"
    members = []
    for first in ("Ada", "Bo", "Cy"):
        hired = staff.hire(first, "Mover")
        row = staff.records.get("bamboohr", "employees", str(hired.id))
        staff.records.put("bamboohr", "employees", str(hired.id), {**row, "department": department})
        members.append(hired.work_email)
    day = now_utc().astimezone(zone).date() + timedelta(days=3)
    spoken = f"{day:%A %B} {day.day}"
    text = f"Announce the office move to all of {department} on {spoken} at 9am"
    entities = [entity(text, "department", department), entity(text, "date", spoken, day.isoformat())]
    record = queued_request(store, text, ANNOUNCE, entities)

    first = run_workflow(communication_announcement, record.id, dagster_instance, eas_resources, store)

    assert first.success
    assert store.get(record.id).status is Status.SUCCEEDED
    assert store.history(record.id)[-1].reason.startswith("announcement scheduled for")
    due = scheduled_at(store, record.id)
    assert due == datetime.combine(day, datetime.min.time().replace(hour=9), tzinfo=zone).astimezone(UTC)
    (told,) = mails(sandbox_session, record.id)  # only the requester is told, nothing is announced yet
    assert told["rcpt_to"] == [f"{record.client_id}@example.com"] or record.client_id in told["to"]
    assert "Announcement scheduled for" in told["subject"]
    assert not any(e.action.startswith("fanout.") for e in store.audit_trail(record.id))

    fast_lane = eas_resources["fast_lane"]
    cursor, _ = launch_due(store, fast_lane, DeferredCursor(), due - timedelta(minutes=1))
    assert due_requests(store, record.id) == []  # not before its time
    cursor, _ = launch_due(store, fast_lane, cursor, due + timedelta(seconds=5))
    (due_id,) = due_requests(store, record.id)
    launch_due(store, fast_lane, cursor, due + timedelta(minutes=5))  # later ticks: nothing new
    launch_due(store, fast_lane, DeferredCursor(), due + timedelta(minutes=5))  # a lost cursor: neither
    assert due_requests(store, record.id) == [due_id]

    queued = store.get(due_id)
    assert (queued.status, queued.intent, queued.client_id) == (Status.QUEUED, ANNOUNCE, record.client_id)
    assert {"type": DEFERRED_FROM, "value": record.id}.items() <= next(
        e for e in queued.entities if e["type"] == DEFERRED_FROM
    ).items()
    second = run_workflow(communication_announcement, due_id, dagster_instance, eas_resources, store)

    assert second.success
    assert store.get(due_id).status is Status.SUCCEEDED
    sent = [m for m in mails(sandbox_session, due_id) if m["subject"].startswith("Announcement")]
    assert sorted(m["rcpt_to"][0] for m in sent) == sorted(members)  # each member once
    assert all(m["subject"] == "Announcement: The office move" for m in sent)
    assert "announcement.due" in [e.action for e in store.audit_trail(due_id)]


# -- an offboarding on the last day --------------------------------------------------------------


def leaver_with_accounts(staff, systems: AccountSystems):
    hired = staff.hire("Lee", "Leaver")
    person = person_of(hired)
    assert person is not None
    grants = [Grant(system, POLICY[system].default_level) for system in ("slack", "jira")]
    assert not any(change.failed for change in systems.grant(person, grants, f"test-{staff.tag}"))
    return person


def test_an_offboarding_with_a_future_last_day_revokes_access_on_that_day(
    store, eas_resources, dagster_instance, staff, systems, zone
):
    person = leaver_with_accounts(staff, systems)
    last_day = now_utc().astimezone(zone).date() + timedelta(days=5)
    text = f"offboard {person.email}, last day {last_day.isoformat()}"
    ents = [
        entity(text, "email", person.email),
        entity(text, "date", last_day.isoformat(), last_day.isoformat()),
    ]
    record = queued_request(store, text, OFFBOARD, ents)

    assert run_workflow(hr_offboarding, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    assert store.history(record.id)[-1].reason.startswith(f"offboarding of {person.full_name} scheduled")
    assert systems.slack_scim.client().user_by_email(person.email).active  # nothing revoked yet
    assert not any(e.action.startswith("access.") for e in store.audit_trail(record.id))
    due = scheduled_at(store, record.id)
    assert due == datetime.combine(last_day, OFFBOARDING_AT, tzinfo=zone).astimezone(UTC)

    fast_lane = eas_resources["fast_lane"]
    cursor, _ = launch_due(store, fast_lane, DeferredCursor(), due - timedelta(minutes=1))
    assert due_requests(store, record.id) == []
    launch_due(store, fast_lane, cursor, due)
    (due_id,) = due_requests(store, record.id)
    assert store.get(due_id).lane.value == "standard"  # no live fast-lane worker in this test

    assert run_workflow(hr_offboarding, due_id, dagster_instance, eas_resources, store).success

    assert store.get(due_id).status is Status.SUCCEEDED
    assert not systems.slack_scim.client().user_by_email(person.email).active
    jira = systems.jira.client()
    assert jira.user_groups(jira.user_by_email(person.email).account_id) == []
    revoked = {e.detail["system"] for e in store.audit_trail(due_id) if e.action == "access.revoked"}
    assert revoked >= {"slack", "jira"}


def test_an_offboarding_whose_last_day_is_today_or_past_revokes_at_once(
    store, eas_resources, dagster_instance, staff, systems, zone
):
    person = leaver_with_accounts(staff, systems)
    today = now_utc().astimezone(zone).date()
    for last_day in (today, today - timedelta(days=2)):
        text = f"offboard {person.email}, last day {last_day.isoformat()}"
        day = last_day.isoformat()
        record = queued_request(
            store, text, OFFBOARD, [entity(text, "email", person.email), entity(text, "date", day, day)]
        )
        assert run_workflow(hr_offboarding, record.id, dagster_instance, eas_resources, store).success
        assert store.get(record.id).status is Status.SUCCEEDED
        assert not any(e.action == SCHEDULED for e in store.audit_trail(record.id))
        assert "offboarding.due" in [e.action for e in store.audit_trail(record.id)]
    assert not systems.slack_scim.client().user_by_email(person.email).active
