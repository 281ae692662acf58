"""The scheduling agent's workflows: a meeting at a time everyone is free, and a room booked.

``scheduling_meeting_schedule``: plan (who, which room, which days, how long) -> find the slot
(free/busy of every attendee and the room through Graph's ``getSchedule``; an asked time that clashes
is refused with the clashes and the first free alternative) -> create the event in the organiser's
calendar (Graph invites the tenant's mailboxes; the room answers as its booking assistant does) ->
the iCalendar invitation (``.ics``) by e-mail to every attendee, guests included -> succeeded.

``scheduling_resource_booking``: plan (the named room, or the smallest one that seats the asked
number) -> check the room's free/busy (a clash is refused with the conflicting times) -> book it (an
event with the room as a ``resource`` attendee; a decline is a refusal) -> confirm to the requester.

The event is made once per request: its ``transactionId`` is ``<request id>:event``, so an op retried
after Graph created it gets the same event back; the e-mails are keyed per attendee. No approval:
both routes' policy is ``never``. A name the directory cannot settle, a clash, a day that has passed
end the request ``failed`` with the reason; Graph down fails the run (op retries, then the failure
sensor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.scheduling import slots
from eas_pipelines.agents.scheduling.directory import (
    NotFound,
    Organizer,
    invitees,
    organizer_of,
    room_named,
    rooms_for,
)
from eas_pipelines.agents.scheduling.invitations import ICS_FILENAME, ICS_MIME, invitation
from eas_pipelines.connectors.outlook_calendar import (
    Attendee,
    OutlookCalendarClient,
    OutlookCalendarResource,
    Person,
    Room,
)
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.routing import ROUTES
from eas_pipelines.runs import now_utc

MEETING_JOB = ROUTES["scheduling.meeting_schedule"].job or "scheduling_meeting_schedule"
BOOKING_JOB = ROUTES["scheduling.resource_booking"].job or "scheduling_resource_booking"


@dataclass(frozen=True)
class Plan:
    """A meeting or a booking as the workflow carries it from op to op."""

    item: WorkItem
    organizer: Organizer
    zone: str
    days: tuple[date, ...]
    length_minutes: int
    asked_time: time | None = None
    people: tuple[Person, ...] = ()
    guests: tuple[str, ...] = ()
    rooms: tuple[Room, ...] = ()  # a meeting's named room, or a booking's candidates (best first)
    start: datetime | None = None
    end: datetime | None = None
    room: Room | None = None  # the room booked
    event_id: str | None = None
    ical_uid: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.length_minutes)

    def with_(self, **changes: Any) -> Plan:
        return replace(self, **changes)

    def when(self) -> str:
        assert self.start is not None and self.end is not None
        start, end = self.start.astimezone(self.tz), self.end.astimezone(self.tz)
        return f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M} {self.zone}"


def _refusal(exc: VendorRejected) -> str | None:
    """Why Graph refused, when it is about this request; None (fail the run) for EAS's own access."""
    if exc.status in (401, 403) or exc.code is not None:  # the app's token or permissions
        return None
    return f"the calendar service refused: {exc}"


def _zone(resource: OutlookCalendarResource) -> ZoneInfo:
    try:
        return ZoneInfo(resource.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"EAS_OUTLOOK_TIME_ZONE {resource.time_zone!r} is not an IANA time zone") from exc


def _base_plan(
    item: WorkItem, client: OutlookCalendarClient, resource: OutlookCalendarResource, default: timedelta
) -> Plan:
    """Organiser, days, time and length of a request; raises NotFound/ValueError for a refusal."""
    zone = _zone(resource)
    today = now_utc().astimezone(zone).date()
    days = slots.search_days(item.value("date"), item.value("date_range"), today)
    if not days:
        raise NotFound("the asked days hold no working day from today on")
    if days[-1] < today:
        raise NotFound(f"{days[-1].isoformat()} has passed")
    asked, spoken = slots.time_of_day(item.text)
    length = slots.duration_of(item.value("duration"), spoken, default)
    return Plan(
        item=item,
        organizer=organizer_of(client, item, resource.organizer),
        zone=resource.time_zone,
        days=tuple(days),
        length_minutes=int(length.total_seconds() // 60),
        asked_time=asked,
    )


def _busy(plan: Plan, client: OutlookCalendarClient, names: dict[str, str]) -> list[slots.Busy] | str:
    """Everyone's busy times over the plan's days, or why a calendar could not be read."""
    start, end = slots.window(plan.days, plan.tz)
    schedules = client.schedules(plan.organizer.address, list(names), start, end)
    unreadable = [f"{names.get(a, a)}: {s.error}" for a, s in schedules.items() if s.error]
    if unreadable:
        return "cannot read the calendar of " + "; ".join(unreadable)
    return [
        slots.Busy(names.get(address, address), b.start, b.end, b.subject)
        for address, schedule in schedules.items()
        for b in schedule.busy
    ]


def _asked_slots(plan: Plan) -> list[slots.Slot] | str:
    """The asked time on each searched day that has not passed, or why none is left (all passed)."""
    assert plan.asked_time is not None
    now = now_utc()
    found = []
    for day in plan.days:
        start = slots.at(day, plan.asked_time, plan.tz)
        if start >= now:
            found.append(slots.Slot(start, start + plan.length))
    return found or f"{plan.asked_time:%H:%M} on {plan.days[-1].isoformat()} has passed"


def _timing(plan: Plan) -> dict[str, Any]:
    """The audit detail of a plan's days, length and asked time (meetings and bookings alike)."""
    return {
        "days": [d.isoformat() for d in plan.days],
        "minutes": plan.length_minutes,
        "asked_time": plan.asked_time.isoformat() if plan.asked_time else None,
    }


def _planning_refusal(exc: NotFound | ValueError | VendorRejected) -> str:
    """Why planning refuses the request; a vendor refusal about EAS's own access is raised again."""
    if isinstance(exc, VendorRejected):
        reason = _refusal(exc)
        if reason is None:
            raise exc
        return reason
    return str(exc)


# --- meeting ----------------------------------------------------------------------------------------


@workflow_step(Plan)
def plan_meeting(item: WorkItem, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """Who is invited (names, addresses, departments), which room, which days, how long."""
    client = outlook_calendar.client()
    try:
        plan = _base_plan(item, client, outlook_calendar, slots.DEFAULT_MEETING)
        found = invitees(client, item, plan.organizer)
        room_name = item.value("room")
        rooms = (room_named(client.rooms(), str(room_name)),) if room_name else ()
    except (NotFound, ValueError, VendorRejected) as exc:
        return Step.refused(_planning_refusal(exc))
    if not found.people and not found.guests:
        return Step.refused("name at least one person to meet (a name, an e-mail address or a department)")
    plan = plan.with_(people=found.people, guests=found.guests, rooms=rooms)
    return Step.passed(
        plan,
        "meeting.planned",
        organizer=plan.organizer.address,
        attendees=[p.address for p in plan.people],
        guests=list(plan.guests),
        room=rooms[0].name if rooms else None,
        **_timing(plan),
    )


@workflow_step(Plan)
def find_meeting_slot(plan: Plan, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """The asked time if everyone (and the room) is free then, else the first common free slot."""
    client = outlook_calendar.client()
    names = {p.address: p.name for p in plan.people}
    if plan.organizer.is_requester:
        names[plan.organizer.address] = plan.organizer.name
    for room in plan.rooms:
        names[room.address] = room.name
    busy = _busy(plan, client, names)
    if isinstance(busy, str):
        return Step.refused(busy)
    now = now_utc()
    if plan.asked_time is not None:
        asked = _asked_slots(plan)
        if isinstance(asked, str):
            return Step.refused(asked)
        slot = next((s for s in asked if not slots.conflicts(s, busy)), None)
        if slot is None:
            clash = slots.conflicts(asked[0], busy)
            other = slots.free_slots(plan.days, plan.length, busy, plan.tz, now)
            hint = f"; first time all are free: {_fmt(other[0], plan)}" if other else ""
            return Step.refused(
                f"not everyone is free at {_fmt(asked[0], plan)}: {slots.describe(clash, plan.tz)}{hint}",
                conflicts=len(clash),
            )
    else:
        found = slots.free_slots(plan.days, plan.length, busy, plan.tz, now)
        if not found:
            span = f"{plan.days[0].isoformat()} to {plan.days[-1].isoformat()}"
            return Step.refused(
                f"no {plan.length_minutes}-minute slot when all {len(names)} are free, {span}"
            )
        slot = found[0]
    chosen = plan.with_(start=slot.start, end=slot.end, room=plan.rooms[0] if plan.rooms else None)
    return Step.passed(
        chosen,
        "meeting.slot_found",
        start=slot.start.isoformat(),
        end=slot.end.isoformat(),
        calendars_checked=len(names),
        busy_items=len(busy),
    )


def _fmt(slot: slots.Slot, plan: Plan) -> str:
    return f"{slot.start.astimezone(plan.tz):%Y-%m-%d %H:%M} {plan.zone}"


def _subject(item: WorkItem, prefix: str) -> str:
    words = " ".join(item.text.split())
    return f"{prefix}: {words[:80]}{'...' if len(words) > 80 else ''}"


def _create(plan: Plan, client: OutlookCalendarClient, subject: str, attendees: list[Attendee]) -> Step:
    """The event in the organiser's calendar, once per request; a declining room is a refusal."""
    assert plan.start is not None and plan.end is not None
    try:
        event = client.create_event(
            plan.organizer.address,
            subject,
            plan.start,
            plan.end,
            attendees=attendees,
            transaction_id=plan.item.key("event"),
            location=plan.room,
            body=f'Requested through EAS: "{plan.item.text}" (request {plan.item.request_id}).',
        )
    except VendorRejected as exc:
        if (reason := _refusal(exc)) is None:
            raise
        return Step.refused(reason)
    if plan.room is not None and event.response_of(plan.room.address) == "declined":
        return Step.refused(f"{plan.room.name} declined {plan.when()}: it was booked in the meantime")
    made = plan.with_(event_id=event.id, ical_uid=event.ical_uid)
    return Step.passed(
        made,
        "calendar.event_created",
        event_id=event.id,
        ical_uid=event.ical_uid,
        organizer=plan.organizer.address,
        start=plan.start.isoformat(),
        end=plan.end.isoformat(),
        room=plan.room.name if plan.room else None,
        attendees=len(attendees),
    )


@workflow_step(Plan)
def create_meeting_event(plan: Plan, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """The meeting in the organiser's calendar, the attendees and the room invited by Graph."""
    attendees = [Attendee(address=p.address, name=p.name) for p in plan.people]
    attendees += [Attendee(address=g, name=g) for g in plan.guests]
    if plan.room is not None:
        attendees.append(Attendee(address=plan.room.address, name=plan.room.name, type="resource"))
    return _create(plan, outlook_calendar.client(), _subject(plan.item, "Meeting"), attendees)


@workflow_step(WorkResult, optional=False)
def send_invitations(plan: Plan, *, notifications: NotificationsResource) -> Step:
    """The ``.ics`` invitation by e-mail to each attendee, guests included; the requester told."""
    assert plan.start is not None and plan.end is not None and plan.ical_uid is not None
    item = plan.item
    subject = _subject(item, "Meeting")
    everyone = [(p.address, p.name) for p in plan.people] + [(g, g) for g in plan.guests]
    ics = invitation(
        uid=plan.ical_uid,
        subject=subject,
        start=plan.start,
        end=plan.end,
        organizer=plan.organizer.address,
        attendees=everyone,
        location=plan.room.name if plan.room else "",
        description=item.text,
        room=plan.room.address if plan.room else None,
    )
    email = notifications.email
    where = f" in {plan.room.name}" if plan.room else ""
    text = f"You are invited: {subject}\nWhen: {plan.when()}{where}\nOrganiser: {plan.organizer.name}\n"
    for address, _name in everyone:
        email.client().send(
            address,
            email.outgoing(f"Invitation: {subject} @ {plan.when()}"),
            email.outgoing(f"{text}\nEAS request {item.request_id}"),
            attachments=[(ICS_FILENAME, ics, ICS_MIME)],
            idempotency_key=item.key(f"invite:{address}"),
        )
    summary = f"meeting {plan.when()}{where} with {len(everyone)} invited"
    if not plan.organizer.is_requester:  # an organiser sees the meeting in their own calendar
        notifications.send(
            item.requester,
            f"Meeting scheduled: {plan.when()}",
            f"{subject}\nWhen: {plan.when()}{where}\nInvited: {', '.join(a for a, _ in everyone)}",
            request_id=item.request_id,
            idempotency_key=item.key("notify:scheduled"),
        )
    detail = {"event_id": plan.event_id, "start": plan.start.isoformat(), "invited": len(everyone)}
    return Step.passed(
        WorkResult(item, summary, detail), "invitations.sent", recipients=[a for a, _ in everyone]
    )


scheduling_meeting_schedule = workflow_job(
    name=MEETING_JOB,
    agent="scheduling",
    description="Schedule a meeting: attendees' free/busy, a common slot, the event, .ics invitations.",
    steps=(plan_meeting, find_meeting_slot, create_meeting_event, send_invitations),
)


# --- room booking -----------------------------------------------------------------------------------


@workflow_step(Plan)
def plan_booking(item: WorkItem, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """Which room (the named one, or those that seat the asked number), which days, how long."""
    client = outlook_calendar.client()
    try:
        plan = _base_plan(item, client, outlook_calendar, slots.DEFAULT_BOOKING)
        rooms = client.rooms()
        named = item.value("room")
        candidates = [room_named(rooms, str(named))] if named else rooms_for(rooms, item.value("quantity"))
    except (NotFound, ValueError, VendorRejected) as exc:
        return Step.refused(_planning_refusal(exc))
    plan = plan.with_(rooms=tuple(candidates))
    return Step.passed(
        plan,
        "booking.planned",
        rooms=[r.name for r in candidates],
        **_timing(plan),
    )


@workflow_step(Plan)
def check_room(plan: Plan, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """The room's free/busy: the asked time if it is free (else refused with the conflicting times),
    or the room's first free slot."""
    client = outlook_calendar.client()
    busy = _busy(plan, client, {r.address: r.name for r in plan.rooms})
    if isinstance(busy, str):
        return Step.refused(busy)
    now = now_utc()
    if plan.asked_time is not None:
        asked = _asked_slots(plan)
        if isinstance(asked, str):
            return Step.refused(asked)
        for room in plan.rooms:
            mine = [b for b in busy if b.who == room.name]
            slot = next((s for s in asked if not slots.conflicts(s, mine)), None)
            if slot is not None:
                return _room_found(plan, room, slot)
        clash = slots.conflicts(asked[0], busy)
        which = plan.rooms[0].name if len(plan.rooms) == 1 else f"every room that fits ({len(plan.rooms)})"
        return Step.refused(
            f"{which} is booked at {_fmt(asked[0], plan)}: {slots.describe(clash, plan.tz)}",
            conflicts=len(clash),
        )
    for room in plan.rooms:
        found = slots.free_slots(
            plan.days, plan.length, [b for b in busy if b.who == room.name], plan.tz, now
        )
        if found:
            return _room_found(plan, room, found[0])
    span = f"{plan.days[0].isoformat()} to {plan.days[-1].isoformat()}"
    return Step.refused(f"no room free for {plan.length_minutes} minutes, {span}")


def _room_found(plan: Plan, room: Room, slot: slots.Slot) -> Step:
    chosen = plan.with_(room=room, start=slot.start, end=slot.end)
    return Step.passed(
        chosen, "booking.room_free", room=room.name, start=slot.start.isoformat(), end=slot.end.isoformat()
    )


@workflow_step(Plan)
def book_room(plan: Plan, *, outlook_calendar: OutlookCalendarResource) -> Step:
    """The booking: an event in the organiser's calendar with the room as a ``resource`` attendee."""
    assert plan.room is not None
    attendee = Attendee(address=plan.room.address, name=plan.room.name, type="resource")
    return _create(
        plan, outlook_calendar.client(), _subject(plan.item, f"{plan.room.name} booking"), [attendee]
    )


@workflow_step(WorkResult, optional=False)
def confirm_booking(plan: Plan, *, notifications: NotificationsResource) -> Step:
    """Tell the requester which room is theirs, and when."""
    assert plan.room is not None and plan.start is not None
    item = plan.item
    notifications.send(
        item.requester,
        f"Booked: {plan.room.name}, {plan.when()}",
        f"{plan.room.name} (seats {plan.room.capacity}, {plan.room.building}) is booked for {plan.when()}.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:booked"),
    )
    summary = f"booked {plan.room.name} {plan.when()}"
    detail = {"event_id": plan.event_id, "room": plan.room.name, "start": plan.start.isoformat()}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


scheduling_resource_booking = workflow_job(
    name=BOOKING_JOB,
    agent="scheduling",
    description="Book a room: its free/busy, the booking (refused with the conflicting times), confirmation.",
    steps=(plan_booking, check_room, book_room, confirm_booking),
)
