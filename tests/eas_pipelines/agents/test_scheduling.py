"""The scheduling agent end to end against the Outlook calendar (Graph) and e-mail emulators, plus its
rules (times of day, free slots, rooms) and the iCalendar invitation.

Each end-to-end test resets the emulators, adds its own people and rooms, fills their calendars
through the connector as their owners would, then reads the effect back: the events in each mailbox
through Graph, the invitations in the SMTP emulator's store. Days are Mondays weeks ahead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from eas_pipelines.agents.scheduling import scheduling_meeting_schedule, scheduling_resource_booking, slots
from eas_pipelines.agents.scheduling.directory import NotFound, room_named, rooms_for
from eas_pipelines.agents.scheduling.invitations import invitation
from eas_pipelines.connectors.outlook_calendar import (
    Attendee,
    OutlookCalendarClient,
    OutlookCalendarResource,
    Room,
)
from eas_pipelines.store import Status
from eas_sandbox.vendors import outlook_calendar as emulator
from tests.eas_pipelines.dagster_support import (
    entity,
    make_resources,
    next_monday,
    queued_request,
    run_workflow,
)

MEETING = "scheduling.meeting_schedule"
BOOKING = "scheduling.resource_booking"
UTC_ZONE = ZoneInfo("UTC")


def tag() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture
def calendar(sandbox, sandbox_session, redis_url, redis_key_prefix) -> Iterator[OutlookCalendarClient]:
    """A Graph client on the (reset) emulator, to fill calendars and read the workflow's events back."""
    env = sandbox_session.env
    resource = OutlookCalendarResource(
        authority=env["EAS_OUTLOOK_AUTHORITY"],
        client_id=env["EAS_OUTLOOK_CLIENT_ID"],
        client_secret=env["EAS_OUTLOOK_CLIENT_SECRET"],
        graph_url=env["EAS_OUTLOOK_GRAPH_URL"],
        ca_bundle=env["EAS_CONNECTOR_CA_BUNDLE"],
        redis_url=redis_url,
        breaker_prefix=f"{redis_key_prefix}reader",
    )
    with closing(resource.client()) as client:
        yield client


def person(sandbox_session, name: str, department: str = "Engineering") -> str:
    """A new directory user; their address."""
    user = emulator.user_record(name, department)
    sandbox_session.sandbox.records.put(emulator.NAME, emulator.USERS, user["id"], user)
    return user["mail"]


def room(sandbox_session, name: str, capacity: int = 8) -> str:
    made = emulator.room_record(name, capacity)
    sandbox_session.sandbox.records.put(emulator.NAME, emulator.ROOMS, made["id"], made)
    return made["emailAddress"]


def busy(
    calendar: OutlookCalendarClient,
    owner: str,
    start: datetime,
    end: datetime,
    subject: str,
    room: str | None = None,
) -> None:
    """An event the owner made themselves (in ``room``, booked as a resource)."""
    attendees = [Attendee(address=room, type="resource")] if room else []
    calendar.create_event(owner, subject, start, end, attendees=attendees, transaction_id=uuid.uuid4().hex)


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def mails_to(sandbox_session, address: str, request_id: str) -> list[dict]:
    return [
        m
        for m in sandbox_session.sandbox.records.all("email", "messages")
        if address in m.get("rcpt_to", []) and request_id in m.get("body_text", "")
    ]


def actions(store, request_id: str) -> list[str]:
    """The workflow steps' audit entries, oldest first (not the request's transitions)."""
    trail = store.audit_trail(request_id)
    return [e.action for e in trail if e.actor == "scheduling" and not e.action.startswith("request.")]


# --- end to end -------------------------------------------------------------------------------------


def test_meeting_takes_the_first_slot_everyone_is_free_and_sends_ics_invitations(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    me = person(sandbox_session, f"Maya Requester{t}")
    ana = person(sandbox_session, f"Ana Quill{t}")
    guest = f"partner-{t}@acme.test"
    orion = room(sandbox_session, f"Room-{t}")
    day = next_monday(3)
    busy(calendar, ana, on(day, 9), on(day, 10, 30), "Standup")
    busy(calendar, me, on(day, 10, 30), on(day, 11), "Focus time")
    text = f"schedule a meeting with Ana Quill{t} and {guest} on Monday in Room-{t} for 45 minutes"
    entities = [
        entity(text, "employee", f"Ana Quill{t}"),
        entity(text, "email", guest),
        entity(text, "date", "Monday", value=day.isoformat()),
        entity(text, "room", f"Room-{t}"),
        entity(text, "duration", "45 minutes", value=45),
    ]
    record = queued_request(store, text, MEETING, entities, client_id=me)

    result = run_workflow(scheduling_meeting_schedule, record.id, dagster_instance, eas_resources, store)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED, done.last_error
    focus, event = calendar.calendar_view(me, on(day, 0), on(day, 23))
    assert focus.subject == "Focus time"
    assert (event.start, event.end) == (on(day, 11), on(day, 11, 45))  # after both of them are free
    assert event.location == f"Room-{t}" and event.response_of(orion) == "accepted"
    assert {a.address for a in event.attendees} == {ana, guest, orion}
    assert [e.ical_uid for e in calendar.calendar_view(ana, on(day, 11), on(day, 12))] == [event.ical_uid]
    assert [e.ical_uid for e in calendar.calendar_view(orion, on(day, 0), on(day, 23))] == [event.ical_uid]
    for address in (ana, guest):
        (mail,) = mails_to(sandbox_session, address, record.id)
        assert mail["subject"].startswith("Invitation: Meeting: schedule a meeting")
        assert [(a["filename"], a["content_type"]) for a in mail["attachments"]] == [
            ("invite.ics", "text/calendar")
        ]
    assert actions(store, record.id) == [
        "meeting.planned",
        "meeting.slot_found",
        "calendar.event_created",
        "invitations.sent",
        "workflow.completed",
    ]


def test_an_asked_time_that_clashes_is_refused_with_the_clash_and_an_alternative(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    ana = person(sandbox_session, f"Ana Quill{t}")
    day = next_monday(4)
    busy(calendar, ana, on(day, 13, 30), on(day, 14, 30), "Design review")
    text = f"set up a call with Ana Quill{t} on Monday at 2pm"
    entities = [
        entity(text, "employee", f"Ana Quill{t}"),
        entity(text, "date", "Monday", value=day.isoformat()),
    ]
    record = queued_request(store, text, MEETING, entities)

    assert run_workflow(
        scheduling_meeting_schedule, record.id, dagster_instance, eas_resources, store
    ).success

    done = store.get(record.id)
    assert done.status is Status.FAILED
    reason = done.last_error or ""
    assert f"not everyone is free at {day.isoformat()} 14:00 UTC" in reason
    assert f"Ana Quill{t} {day.isoformat()} 13:30-14:30 (Design review)" in reason
    assert f"first time all are free: {day.isoformat()} 09:00 UTC" in reason
    assert calendar.calendar_view(emulator.ORGANIZER, on(day, 0), on(day, 23)) == []  # nothing booked


def test_a_department_with_no_common_free_time_is_refused(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    team = f"Platform{t}"
    kai = person(sandbox_session, f"Kai Free{t}", team)
    person(sandbox_session, f"Lu Free{t}", team)
    day = next_monday(9)
    busy(calendar, kai, on(day, 9), on(day, 17), "Offsite")
    text = f"put a sync with {team} on the calendar for Monday"
    entities = [entity(text, "department", team), entity(text, "date", "Monday", value=day.isoformat())]
    record = queued_request(store, text, MEETING, entities)

    assert run_workflow(
        scheduling_meeting_schedule, record.id, dagster_instance, eas_resources, store
    ).success

    done = store.get(record.id)
    assert done.status is Status.FAILED
    assert done.last_error == f"no 30-minute slot when all 2 are free, {day.isoformat()} to {day.isoformat()}"
    planned = next(e for e in store.audit_trail(record.id) if e.action == "meeting.planned")
    assert len(planned.detail["attendees"]) == 2


def test_an_unknown_attendee_is_refused(store, eas_resources, dagster_instance, sandbox_session, calendar):
    text = f"schedule a meeting with Nobody Known{tag()} on Monday"
    entities = [entity(text, "employee", text.split("with ")[1].split(" on")[0])]
    record = queued_request(store, text, MEETING, entities)

    assert run_workflow(
        scheduling_meeting_schedule, record.id, dagster_instance, eas_resources, store
    ).success

    done = store.get(record.id)
    assert done.status is Status.FAILED and "no one named 'Nobody Known" in (done.last_error or "")


def test_a_room_is_booked_for_the_asked_range(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    address = room(sandbox_session, f"Room-{t}", capacity=6)
    day = next_monday(5)
    text = f"book Room-{t} on Monday from 2 to 4"
    entities = [entity(text, "room", f"Room-{t}"), entity(text, "date", "Monday", value=day.isoformat())]
    record = queued_request(store, text, BOOKING, entities)

    result = run_workflow(scheduling_resource_booking, record.id, dagster_instance, eas_resources, store)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED, done.last_error
    (booking,) = calendar.calendar_view(address, on(day, 0), on(day, 23))
    assert (booking.start, booking.end, booking.organizer) == (on(day, 14), on(day, 16), emulator.ORGANIZER)
    (held,) = calendar.calendar_view(emulator.ORGANIZER, on(day, 14), on(day, 16))
    assert held.response_of(address) == "accepted" and held.location == f"Room-{t}"
    (confirmation,) = mails_to(sandbox_session, f"{record.client_id}@example.com", record.id)
    assert confirmation["subject"].startswith(f"Booked: Room-{t}, Mon {day.isoformat()} 14:00-16:00 UTC")
    assert actions(store, record.id) == [
        "booking.planned",
        "booking.room_free",
        "calendar.event_created",
        "notifications.sent",
        "workflow.completed",
    ]


def test_a_booked_room_is_refused_with_the_conflicting_times(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    address = room(sandbox_session, f"Room-{t}")
    someone = person(sandbox_session, f"Omar Early{t}")
    day = next_monday(6)
    busy(calendar, someone, on(day, 14, 30), on(day, 15, 30), "Budget review", address)
    text = f"reserve Room-{t} on Monday at 3pm for 30 minutes"
    entities = [
        entity(text, "room", f"Room-{t}"),
        entity(text, "date", "Monday", value=day.isoformat()),
        entity(text, "duration", "30 minutes", value=30),
    ]
    record = queued_request(store, text, BOOKING, entities)

    assert run_workflow(
        scheduling_resource_booking, record.id, dagster_instance, eas_resources, store
    ).success

    done = store.get(record.id)
    assert done.status is Status.FAILED
    assert done.last_error == (
        f"Room-{t} is booked at {day.isoformat()} 15:00 UTC: "
        f"Room-{t} {day.isoformat()} 14:30-15:30 (Budget review)"
    )
    assert len(calendar.calendar_view(address, on(day, 0), on(day, 23))) == 1  # only Omar's


def test_a_room_for_a_number_of_people_is_the_smallest_free_one_that_fits(
    store, eas_resources, dagster_instance, sandbox_session, calendar
):
    t = tag()
    small, big, bigger = (room(sandbox_session, f"R{n}-{t}", capacity=n) for n in (4, 15, 16))
    day = next_monday(7)
    busy(calendar, person(sandbox_session, f"Grace Busy{t}"), on(day, 10), on(day, 11), "Offsite prep", big)
    text = "book a room for 15 people on Monday at 10am"
    entities = [
        entity(text, "quantity", "15", value=15),
        entity(text, "date", "Monday", value=day.isoformat()),
    ]
    record = queued_request(store, text, BOOKING, entities)

    assert run_workflow(
        scheduling_resource_booking, record.id, dagster_instance, eas_resources, store
    ).success

    assert store.get(record.id).status is Status.SUCCEEDED
    assert calendar.calendar_view(small, on(day, 0), on(day, 23)) == []
    (booking,) = calendar.calendar_view(bigger, on(day, 0), on(day, 23))  # 15 seats were taken
    assert (booking.start, booking.end) == (on(day, 10), on(day, 11))


def test_graph_down_fails_the_run(
    store, dagster_instance, sandbox, migrated_database_url, redis_url, redis_key_prefix
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, max_attempts=1, initial_backoff_s=0.01
    )
    sandbox.fault("error", "outlook_calendar", count=100, status=503)
    text = "book the Everest room on Monday at 9am"
    entities = [
        entity(text, "room", "the Everest room"),
        entity(text, "date", "Monday", next_monday(8).isoformat()),
    ]
    record = queued_request(store, text, BOOKING, entities)

    result = run_workflow(scheduling_resource_booking, record.id, dagster_instance, resources, store)

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # the failure sensor retries or fails it
    sandbox.reset()


# --- rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "minutes"),
    [
        ("meet at 2pm", time(14), None),
        ("call at 4:30", time(16, 30), None),
        ("standup at 9", time(9), None),
        ("at 12am sharp", time(0), None),
        ("lunch at noon", time(12), None),
        ("book it from 2 to 4pm", time(14), 120),
        ("from 9:30am until 11", time(9, 30), 90),
        ("a room for 10 people", None, None),
        ("a room at 10 people", None, None),
        ("with dana@eas.example.com", None, None),
    ],
)
def test_time_of_day(text, start, minutes):
    found, length = slots.time_of_day(text)
    assert found == start
    assert length == (timedelta(minutes=minutes) if minutes else None)


def test_free_slots_skip_busy_time_weekends_and_the_past():
    monday = date(2030, 1, 7)
    busy = [
        slots.Busy("a", on(monday, 9), on(monday, 10, 15)),
        slots.Busy("b", on(monday, 10, 30), on(monday, 11)),
    ]
    hour = timedelta(hours=1)
    found = slots.free_slots([monday], hour, busy, UTC_ZONE, now=on(monday, 0), limit=3)
    assert [(s.start.hour, s.start.minute) for s in found] == [(11, 0), (11, 30), (12, 0)]
    late = slots.free_slots([monday], hour, [], UTC_ZONE, now=on(monday, 15, 10))
    assert [(s.start.hour, s.start.minute) for s in late] == [(15, 30)]  # on the grid, not in the past
    assert slots.free_slots([monday], hour, [], UTC_ZONE, now=on(monday, 16, 10)) == []
    assert slots.working_days(date(2030, 1, 4), date(2030, 1, 8)) == [
        date(2030, 1, 4),
        date(2030, 1, 7),
        date(2030, 1, 8),
    ]
    assert slots.search_days(None, None, date(2030, 1, 5)) == [date(2030, 1, n) for n in (7, 8, 9, 10, 11)]
    assert slots.search_days(None, {"start": "2030-01-01", "end": "2030-01-08"}, date(2030, 1, 7)) == [
        date(2030, 1, 7),
        date(2030, 1, 8),
    ]


def test_working_hours_are_read_in_the_configured_zone():
    monday = date(2030, 1, 7)
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in January
    (slot,) = slots.free_slots([monday], timedelta(minutes=30), [], berlin, now=on(monday, 0))
    assert slot.start == on(monday, 8)
    assert slots.at(monday, time(14), berlin) == on(monday, 13)


def test_conflicts_and_their_description():
    monday = date(2030, 1, 7)
    slot = slots.Slot(on(monday, 14), on(monday, 15))
    busy = [
        slots.Busy("Lee", on(monday, 14, 30), on(monday, 16), "1:1"),
        slots.Busy("Ana", on(monday, 13), on(monday, 14)),  # ends as the slot starts: no clash
        slots.Busy("Dana", on(monday, 13, 30), on(monday, 14, 15)),
    ]
    clash = slots.conflicts(slot, busy)
    assert [b.who for b in clash] == ["Dana", "Lee"]
    assert slots.describe(clash, UTC_ZONE) == "Dana 2030-01-07 13:30-14:15; Lee 2030-01-07 14:30-16:00 (1:1)"


def test_duration_and_rooms():
    assert slots.duration_of(45, None, slots.DEFAULT_MEETING) == timedelta(minutes=45)
    assert slots.duration_of(None, timedelta(hours=2), slots.DEFAULT_MEETING) == timedelta(hours=2)
    assert slots.duration_of(None, None, slots.DEFAULT_BOOKING) == timedelta(hours=1)
    assert slots.duration_of(24 * 60, None, slots.DEFAULT_MEETING) == slots.MAX_DURATION
    rooms = [
        Room(id="1", name="Everest", address="everest@x", capacity=12),
        Room(id="2", name="Huddle Room 3", address="huddle@x", capacity=3),
    ]
    assert room_named(rooms, "the Everest room").id == "1"
    assert room_named(rooms, "huddle room 3").id == "2"
    with pytest.raises(NotFound, match="no room called 'the Fuji room' \\(rooms: Everest, Huddle Room 3\\)"):
        room_named(rooms, "the Fuji room")
    assert [r.name for r in rooms_for(rooms, 2)] == ["Huddle Room 3", "Everest"]
    with pytest.raises(NotFound, match="no room seats 30"):
        rooms_for(rooms, 30)


def test_the_invitation_is_an_icalendar_request():
    ics = invitation(
        uid="UID-1",
        subject="Design review",
        start=on(date(2030, 1, 7), 14),
        end=on(date(2030, 1, 7), 15),
        organizer="dana@eas.example.com",
        attendees=[("lee@eas.example.com", "Lee Wong")],
        location="Everest",
        room="everest@eas.example.com",
    )
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == "UID-1" and str(event["summary"]) == "Design review"
    assert event.decoded("dtstart") == on(date(2030, 1, 7), 14)
    assert str(event["organizer"]) == "mailto:dana@eas.example.com"
    people, resource = event["attendee"]
    assert str(people) == "mailto:lee@eas.example.com" and people.params["PARTSTAT"] == "NEEDS-ACTION"
    assert resource.params["CUTYPE"] == "ROOM"
