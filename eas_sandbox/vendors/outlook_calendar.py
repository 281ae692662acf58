"""Outlook calendars through Microsoft Graph (``/outlook_calendar/v1.0/...``), and the Entra ID endpoints
MSAL's client-credentials flow uses (``/outlook_calendar/{tenant}/...``), as an app with
``Calendars.ReadWrite``, ``User.Read.All`` and ``Place.Read.All`` application permissions would see them.

Graph (v1.0), each path as Microsoft documents it:

- ``GET /users`` with ``$filter`` (``mail eq '..'``, ``displayName eq '..'``, ``department eq '..'``,
  ``startswith(displayName,'..')``; other clauses answer 400 ``Request_UnsupportedQuery``), ``$top``;
  ``GET /users/{id | userPrincipalName}``.
- ``GET /places/microsoft.graph.room``: the tenant's rooms (``emailAddress``, ``displayName``,
  ``capacity``, ``building``...), paged by ``$top`` with an absolute ``@odata.nextLink``.
- ``POST /users/{id}/calendar/getSchedule`` ``{schedules, startTime, endTime, availabilityViewInterval}``:
  per address its ``scheduleItems`` (status ``free|tentative|busy|oof|workingElsewhere``),
  ``availabilityView`` (one digit per interval) and ``workingHours``; an unknown address gets an
  ``error`` entry instead (``ErrorMailRecipientNotFound``), not a failed call. At most 20 schedules a
  call (unconfirmed: answered 400 here).
- ``POST /users/{id}/events`` (and ``/calendar/events``): 201 with the event (``id``, ``iCalUId``,
  ``webLink``...). Exchange copies the meeting to each attendee's mailbox: people get it
  ``tentative`` (not yet answered); a room mailbox (``type: resource``) auto-accepts when free and
  declines on a conflict, as Exchange's resource booking assistant does; the organiser's copy records
  each answer in ``attendees[].status``. ``transactionId`` is Graph's guard against a client's retried
  POST: a second POST with the same one in the same mailbox answers the first event (Graph's exact
  answer is unconfirmed; this is the conservative reading).
- ``GET /users/{id}/events/{event-id}``; ``GET /users/{id}/calendarView?startDateTime=&endDateTime=``.

Times are ``dateTimeTimeZone`` objects; the emulator speaks UTC only (another ``timeZone`` answers 400;
a real mailbox converts). Errors ``{"error": {"code", "message", "innerError"}}``; throttling 429 +
``Retry-After``. Seeded: a few people (Engineering and Finance) and four rooms.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, Store
from eas_sandbox.vendors.graph import EntraApp, error

NAME = "outlook_calendar"
TENANT = "6f1c7c1e-5a3b-4d2a-9c11-eas000000002"
CLIENT_ID, CLIENT_SECRET = "9a4e1d20-eas0-4c1d-8f5e-calendar0001", "sandbox-outlook-calendar-secret"
DOMAIN = "eas.example.com"
ORGANIZER = f"eas-scheduler@{DOMAIN}"
USERS, ROOMS, EVENTS = "users", "rooms", "events"
MAX_SCHEDULES = 20
DEFAULT_TOP = 100
STATUS_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
WORKING_HOURS = {
    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "startTime": "08:00:00.0000000",
    "endTime": "17:00:00.0000000",
    "timeZone": {"name": "UTC"},
}

SEEDED_USERS = (
    ("Dana Smith", "Engineering"),
    ("Lee Wong", "Engineering"),
    ("Priya Patel", "Engineering"),
    ("Omar Haddad", "Finance"),
    ("Grace Kim", "Finance"),
)
SEEDED_ROOMS = (
    ("Everest", 12, "HQ", 4),
    ("Fuji", 6, "HQ", 3),
    ("Kilimanjaro", 20, "HQ", 5),
    ("Huddle Room 3", 3, "HQ", 2),
)

APP = EntraApp(NAME, TENANT, CLIENT_ID, CLIENT_SECRET)


graph = APIRouter(dependencies=[Depends(APP.authenticated)])


# --- directory -------------------------------------------------------------------------------------


def user_record(display_name: str, department: str = "", mail: str | None = None) -> dict[str, Any]:
    """A directory user as stored (and answered): tests add their own people with it."""
    given, _, surname = display_name.partition(" ")
    address = (mail or f"{display_name.lower().replace(' ', '.')}@{DOMAIN}").lower()
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{address}")),
        "displayName": display_name,
        "givenName": given,
        "surname": surname,
        "mail": address,
        "userPrincipalName": address,
        "department": department,
    }


def room_record(display_name: str, capacity: int, building: str = "HQ", floor: int = 1) -> dict[str, Any]:
    """A room (a ``microsoft.graph.room`` place backed by a room mailbox) as stored and answered."""
    address = f"{re.sub(r'[^a-z0-9]+', '-', display_name.lower()).strip('-')}@{DOMAIN}"
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"room:{address}")),
        "displayName": display_name,
        "emailAddress": address,
        "capacity": capacity,
        "building": building,
        "floorNumber": floor,
        "bookingType": "standard",
        "isWheelChairAccessible": True,
    }


_FILTERS = (
    (re.compile(r"^(mail|displayName|department|userPrincipalName) eq '((?:[^']|'')*)'$"), "eq"),
    (re.compile(r"^startswith\((displayName|mail|givenName|surname),'((?:[^']|'')*)'\)$"), "startswith"),
)


def _user_filter(clause: str) -> tuple[str, str, str] | None:
    for pattern, op in _FILTERS:
        found = pattern.match(clause.strip())
        if found:
            return found.group(1), op, found.group(2).replace("''", "'")
    return None


@graph.get("/v1.0/users")
def list_users(request: Request, store: Store) -> Response:
    rows = store.all(NAME, USERS)
    clause = request.query_params.get("$filter")
    if clause:
        parsed = _user_filter(clause)
        if parsed is None:
            return error(400, "Request_UnsupportedQuery", f"Unsupported query: {clause}")
        field, op, value = parsed
        wanted = value.lower()
        if op == "eq":
            rows = [r for r in rows if str(r.get(field, "")).lower() == wanted]
        else:
            rows = [r for r in rows if str(r.get(field, "")).lower().startswith(wanted)]
    top = int(request.query_params.get("$top", DEFAULT_TOP))
    return JSONResponse({"@odata.context": "$metadata#users", "value": rows[:top]})


def _mailbox(store: Records, ident: str) -> dict[str, Any] | None:
    """A user's or a room's mailbox by id, mail or userPrincipalName (Graph takes either)."""
    wanted = ident.lower()
    for row in store.all(NAME, USERS):
        if wanted in (row["id"], row["mail"], row["userPrincipalName"]):
            return {"id": row["id"], "address": row["mail"], "name": row["displayName"], "room": False}
    for row in store.all(NAME, ROOMS):
        if wanted in (row["id"], row["emailAddress"]):
            return {"id": row["id"], "address": row["emailAddress"], "name": row["displayName"], "room": True}
    return None


def _no_mailbox(ident: str) -> Response:
    return error(404, "ErrorInvalidUser", f"The requested user '{ident}' is invalid.")


@graph.get("/v1.0/users/{ident}")
def get_user(ident: str, store: Store) -> Response:
    wanted = ident.lower()
    found = next((r for r in store.all(NAME, USERS) if wanted in (r["id"], r["mail"])), None)
    if found is None:
        return error(404, "Request_ResourceNotFound", f"Resource '{ident}' does not exist.")
    return JSONResponse(found)


@graph.get("/v1.0/places/microsoft.graph.room")
def list_rooms(request: Request, store: Store) -> Response:
    rows = store.all(NAME, ROOMS)
    try:
        top = int(request.query_params.get("$top", DEFAULT_TOP))
        skip = int(request.query_params.get("$skip", "0"))
    except ValueError:
        return error(400, "BadRequest", "Invalid $top or $skip.")
    body: dict[str, Any] = {
        "@odata.context": "$metadata#places/microsoft.graph.room",
        "value": rows[skip : skip + top],
    }
    if skip + top < len(rows):
        body["@odata.nextLink"] = str(request.url.include_query_params(**{"$top": top, "$skip": skip + top}))
    return JSONResponse(body)


# --- calendars -------------------------------------------------------------------------------------


class BadTime(ValueError):
    pass


def _time(value: Any) -> datetime:
    """A ``dateTimeTimeZone`` in UTC (Graph writes 7 fractional digits; Python reads 6)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise BadTime("expected a dateTimeTimeZone object")
    if value.get("timeZone", "UTC") not in ("UTC", "Etc/UTC"):
        raise BadTime(f"time zone {value.get('timeZone')!r}: this emulator speaks UTC only")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value["dateTime"].removesuffix("Z"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadTime(f"bad dateTime {value['dateTime']!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _events_of(store: Records, address: str) -> list[dict[str, Any]]:
    return store.find(NAME, EVENTS, {"mailbox": address})


def _overlapping(store: Records, address: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    found = []
    for event in _events_of(store, address):
        if event.get("isCancelled") or event.get("showAs") == "free":
            continue
        if _time(event["start"]) < end and start < _time(event["end"]):
            found.append(event)
    return sorted(found, key=lambda e: e["start"]["dateTime"])


async def _json_body(request: Request) -> dict[str, Any] | Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "BadRequest", "Unable to read JSON request payload.")
    if not isinstance(body, dict):
        return error(400, "BadRequest", "Expected a JSON object.")
    return body


@graph.post("/v1.0/users/{ident}/calendar/getSchedule")
async def get_schedule(ident: str, request: Request, store: Store) -> Response:
    if _mailbox(store, ident) is None:
        return _no_mailbox(ident)
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    schedules = body.get("schedules")
    if not isinstance(schedules, list) or not schedules or not all(isinstance(s, str) for s in schedules):
        return error(400, "ErrorInvalidParameter", "schedules: a list of SMTP addresses is required.")
    if len(schedules) > MAX_SCHEDULES:
        return error(400, "ErrorInvalidParameter", f"At most {MAX_SCHEDULES} schedules per request.")
    try:
        start, end = _time(body.get("startTime")), _time(body.get("endTime"))
    except BadTime as exc:
        return error(400, "ErrorInvalidParameter", str(exc))
    interval = int(body.get("availabilityViewInterval") or 30)
    if end <= start or not 5 <= interval <= 1440:
        return error(400, "ErrorInvalidParameter", "endTime must follow startTime; interval 5..1440 minutes.")
    answers = []
    for address in schedules:
        mailbox = _mailbox(store, address)
        if mailbox is None:
            answers.append(
                {
                    "scheduleId": address,
                    "availabilityView": "",
                    "scheduleItems": [],
                    "error": {
                        "message": f"Mailbox {address} not found or not accessible.",
                        "responseCode": "ErrorMailRecipientNotFound",
                    },
                }
            )
            continue
        events = _overlapping(store, mailbox["address"], start, end)
        view, moment = [], start
        while moment < end:
            upto = moment + timedelta(minutes=interval)
            states = [e["showAs"] for e in events if _time(e["start"]) < upto and moment < _time(e["end"])]
            view.append(max((STATUS_DIGIT.get(s, "2") for s in states), default="0"))
            moment = upto
        answers.append(
            {
                "scheduleId": address,
                "availabilityView": "".join(view),
                "scheduleItems": [
                    {
                        "isPrivate": False,
                        "status": e["showAs"],
                        "subject": e.get("subject", ""),
                        "location": (e.get("location") or {}).get("displayName", ""),
                        "start": e["start"],
                        "end": e["end"],
                    }
                    for e in events
                ],
                "workingHours": WORKING_HOURS,
            }
        )
    return JSONResponse(
        {"@odata.context": "$metadata#Collection(microsoft.graph.scheduleInformation)", "value": answers}
    )


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("mailbox", "master")}


@graph.post("/v1.0/users/{ident}/events")
@graph.post("/v1.0/users/{ident}/calendar/events")
async def create_event(ident: str, request: Request, store: Store) -> Response:
    organizer = _mailbox(store, ident)
    if organizer is None:
        return _no_mailbox(ident)
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    try:
        start, end = _time(body.get("start")), _time(body.get("end"))
    except BadTime as exc:
        return error(400, "ErrorInvalidRequest", str(exc))
    if end <= start:
        return error(400, "ErrorInvalidRequest", "The event's end must be after its start.")
    transaction = body.get("transactionId")
    if transaction:
        again = store.find(NAME, EVENTS, {"mailbox": organizer["address"], "transactionId": transaction})
        if again:  # a retried POST: the first one's event (unconfirmed; see the module's docstring)
            return JSONResponse(_public(again[0]), 201)
    master = str(uuid.uuid4())
    ical_uid = "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper()
    attendees = []
    for attendee in body.get("attendees") or []:
        address = str(((attendee or {}).get("emailAddress") or {}).get("address", "")).lower()
        if not address:
            return error(400, "ErrorInvalidRecipients", "An attendee has no emailAddress.address.")
        attendees.append(
            {
                "type": attendee.get("type", "required"),
                "emailAddress": {"address": address, "name": attendee["emailAddress"].get("name", address)},
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            }
        )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {
        "iCalUId": ical_uid,
        "subject": body.get("subject", ""),
        "body": body.get("body") or {"contentType": "text", "content": ""},
        "start": _graph_time(start),
        "end": _graph_time(end),
        "location": body.get("location") or {"displayName": ""},
        "organizer": {"emailAddress": {"address": organizer["address"], "name": organizer["name"]}},
        "isCancelled": False,
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "master": master,
    }
    for attendee in attendees:
        mailbox = _mailbox(store, attendee["emailAddress"]["address"])
        if mailbox is None or mailbox["address"] == organizer["address"]:
            continue  # an external guest: invited by mail, no copy here
        if mailbox["room"]:  # the resource booking assistant: accept when free, else decline
            if _overlapping(store, mailbox["address"], start, end):
                attendee["status"] = {"response": "declined", "time": now}
                continue
            attendee["status"] = {"response": "accepted", "time": now}
            show_as, response = "busy", "accepted"
        else:
            show_as, response = "tentative", "notResponded"
        _store_copy(
            store, common, mailbox["address"], show_as=show_as, response=response, attendees=attendees
        )
    made = _store_copy(
        store,
        common,
        organizer["address"],
        show_as=body.get("showAs", "busy"),
        response="organizer",
        attendees=attendees,
        transaction=transaction,
    )
    return JSONResponse(_public(made), 201)


def _store_copy(
    store: Records,
    common: dict[str, Any],
    address: str,
    *,
    show_as: str,
    response: str,
    attendees: list[dict[str, Any]],
    transaction: str | None = None,
) -> dict[str, Any]:
    event_id = "AAMkAD" + uuid.uuid4().hex
    record = {
        **common,
        "id": event_id,
        "mailbox": address,
        "showAs": show_as,
        "isOrganizer": response == "organizer",
        "responseStatus": {"response": response, "time": common["createdDateTime"]},
        "attendees": attendees,
        "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}&exvsurl=1&path=/calendar/item",
    }
    if transaction:
        record["transactionId"] = transaction
    store.insert(NAME, EVENTS, record, key=event_id)
    return record


@graph.get("/v1.0/users/{ident}/events/{event_id}")
def get_event(ident: str, event_id: str, store: Store) -> Response:
    mailbox = _mailbox(store, ident)
    if mailbox is None:
        return _no_mailbox(ident)
    event = store.get(NAME, EVENTS, event_id)
    if event is None or event["mailbox"] != mailbox["address"]:
        return error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    return JSONResponse(_public(event))


@graph.get("/v1.0/users/{ident}/calendarView")
def calendar_view(ident: str, request: Request, store: Store) -> Response:
    mailbox = _mailbox(store, ident)
    if mailbox is None:
        return _no_mailbox(ident)
    query = request.query_params
    try:
        start = _time({"dateTime": query.get("startDateTime", ""), "timeZone": "UTC"})
        end = _time({"dateTime": query.get("endDateTime", ""), "timeZone": "UTC"})
    except BadTime:
        return error(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.")
    events = [
        e
        for e in _events_of(store, mailbox["address"])
        if _time(e["start"]) < end and start < _time(e["end"])
    ]
    events.sort(key=lambda e: e["start"]["dateTime"])
    return JSONResponse({"value": [_public(e) for e in events]})


# --- the vendor ------------------------------------------------------------------------------------


def _seed(records: Records) -> None:
    if records.count(NAME, ROOMS):
        return
    for name, department in SEEDED_USERS:
        user = user_record(name, department)
        records.put(NAME, USERS, user["id"], user)
    scheduler = user_record("EAS Scheduler", "IT", ORGANIZER)
    records.put(NAME, USERS, scheduler["id"], scheduler)
    for name, capacity, building, floor in SEEDED_ROOMS:
        room = room_record(name, capacity, building, floor)
        records.put(NAME, ROOMS, room["id"], room)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {**APP.env(endpoints, "EAS_OUTLOOK"), "EAS_OUTLOOK_ORGANIZER": ORGANIZER}


VENDOR = APP.vendor(graph, env=_env, seed=_seed)
