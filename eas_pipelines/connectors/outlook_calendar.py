"""Outlook calendars through Microsoft Graph, as an app (MSAL client credentials), for scheduling.

Sign-in and calls shared with SharePoint (:mod:`.graph`): MSAL's ``ConfidentialClientApplication``
gets the app token (scope ``https://graph.microsoft.com/.default``) from the authority over a session
trusting ``ca_bundle``, instance discovery off; MSAL caches it. The app needs Graph's application
permissions ``Calendars.ReadWrite``, ``User.Read.All`` and ``Place.Read.All``.

Calls (Graph v1.0): people by ``GET /users`` (``$filter``), rooms by ``GET /places/microsoft.graph.room``
(following ``@odata.nextLink``), free/busy by ``POST /users/{id}/calendar/getSchedule`` (at most
:data:`MAX_SCHEDULES` addresses a call, so larger lists are split), events by ``POST /users/{id}/events``
with a ``transactionId`` (Graph's guard against a retried POST creating a second event), read back by
``GET /users/{id}/events/{id}`` and ``GET /users/{id}/calendarView``. Every time sent is UTC.

429 + ``Retry-After`` and 5xx are :class:`Transient`; other errors :class:`VendorRejected` with Graph's
message. An address getSchedule cannot see comes back as a :class:`Schedule` with ``error`` set (Graph
answers it so), not as a failed call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.graph import GRAPH_URL, GraphClient
from eas_pipelines.connectors.retry import VendorRejected

MAX_SCHEDULES = 20
PAGE_SIZE = 100
BUSY_STATUSES = frozenset({"busy", "oof", "tentative"})
"""Free/busy states that keep a slot from being offered (``free`` and ``workingElsewhere`` do not)."""


def graph_time(moment: datetime) -> dict[str, str]:
    """A ``dateTimeTimeZone`` in UTC, as Graph writes them (seven fractional digits)."""
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def parse_graph_time(value: dict[str, Any]) -> datetime:
    """An aware UTC datetime from a ``dateTimeTimeZone`` (every call asks for UTC)."""
    text = str(value["dateTime"]).removesuffix("Z")
    head, dot, fraction = text.partition(".")
    parsed = datetime.fromisoformat(f"{head}.{fraction[:6]}" if dot else head)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _quote(value: str) -> str:
    """A string literal of an OData ``$filter`` (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class Person(BaseModel):
    """A directory user with a mailbox."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    address: str
    department: str = ""

    @classmethod
    def from_graph(cls, user: dict[str, Any]) -> Person:
        return cls(
            id=user["id"],
            name=user.get("displayName") or user.get("mail") or user["id"],
            address=str(user.get("mail") or user.get("userPrincipalName") or "").lower(),
            department=user.get("department") or "",
        )


class Room(BaseModel):
    """A bookable room: a place backed by a room mailbox."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    address: str
    capacity: int = 0
    building: str = ""
    floor: int | None = None

    @classmethod
    def from_graph(cls, place: dict[str, Any]) -> Room:
        return cls(
            id=place["id"],
            name=place.get("displayName", ""),
            address=str(place.get("emailAddress", "")).lower(),
            capacity=place.get("capacity") or 0,
            building=place.get("building") or "",
            floor=place.get("floorNumber"),
        )


class BusyItem(BaseModel):
    """One item of a free/busy answer."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    status: str
    subject: str = ""


class Schedule(BaseModel):
    """One address's free/busy over the asked window; ``error`` when Graph could not see it."""

    model_config = ConfigDict(frozen=True)

    address: str
    items: tuple[BusyItem, ...] = ()
    error: str | None = None

    @property
    def busy(self) -> tuple[BusyItem, ...]:
        """The items that make a slot unavailable (busy, out of office, tentative)."""
        return tuple(item for item in self.items if item.status in BUSY_STATUSES)


class Attendee(BaseModel):
    """Someone (or a room: ``resource``) invited to an event, and their answer."""

    model_config = ConfigDict(frozen=True)

    address: str
    name: str = ""
    type: Literal["required", "optional", "resource"] = "required"
    response: str = "none"

    def to_graph(self) -> dict[str, Any]:
        return {
            "emailAddress": {"address": self.address, "name": self.name or self.address},
            "type": self.type,
        }


class Event(BaseModel):
    """A calendar event as one mailbox holds it."""

    model_config = ConfigDict(frozen=True)

    id: str
    ical_uid: str
    subject: str
    start: datetime
    end: datetime
    location: str = ""
    organizer: str = ""
    show_as: str = "busy"
    web_link: str = ""
    attendees: tuple[Attendee, ...] = ()

    @classmethod
    def from_graph(cls, event: dict[str, Any]) -> Event:
        return cls(
            id=event["id"],
            ical_uid=event.get("iCalUId", ""),
            subject=event.get("subject", ""),
            start=parse_graph_time(event["start"]),
            end=parse_graph_time(event["end"]),
            location=(event.get("location") or {}).get("displayName", ""),
            organizer=str(
                ((event.get("organizer") or {}).get("emailAddress") or {}).get("address", "")
            ).lower(),
            show_as=event.get("showAs", "busy"),
            web_link=event.get("webLink", ""),
            attendees=tuple(
                Attendee(
                    address=str(a["emailAddress"]["address"]).lower(),
                    name=a["emailAddress"].get("name", ""),
                    type=a.get("type", "required"),
                    response=(a.get("status") or {}).get("response", "none"),
                )
                for a in event.get("attendees") or []
            ),
        )

    def response_of(self, address: str) -> str | None:
        """What the attendee ``address`` answered (a room: accepted or declined), None if not invited."""
        return next((a.response for a in self.attendees if a.address == address.lower()), None)


class OutlookCalendarClient(GraphClient):
    """Typed Graph calendar calls; each is retried and guarded by the resource."""

    def __init__(self, resource: OutlookCalendarResource):
        super().__init__(
            resource,
            system="outlook_calendar",
            headers={"Accept": "application/json", "Prefer": 'outlook.timezone="UTC"'},
        )

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            page = self._request("GET", url, params=query).json()
            found += page.get("value", [])
            url, query = page.get("@odata.nextLink"), None  # absolute, carries its own query
        return found

    # directory ------------------------------------------------------------------------------------

    def person(self, address: str) -> Person | None:
        """The directory user whose mail is ``address``, or None."""
        found = self._pages("users", {"$filter": f"mail eq {_quote(address.lower())}", "$top": PAGE_SIZE})
        return Person.from_graph(found[0]) if found else None

    def people_named(self, name: str) -> list[Person]:
        """Users whose display name is ``name``, else those whose display name starts with it."""
        exact = self._pages("users", {"$filter": f"displayName eq {_quote(name)}", "$top": PAGE_SIZE})
        if exact:
            return [Person.from_graph(u) for u in exact]
        users = self._pages(
            "users", {"$filter": f"startswith(displayName,{_quote(name)})", "$top": PAGE_SIZE}
        )
        return [Person.from_graph(u) for u in users]

    def department(self, name: str) -> list[Person]:
        """The members of a department (``department eq``)."""
        users = self._pages("users", {"$filter": f"department eq {_quote(name)}", "$top": PAGE_SIZE})
        return [Person.from_graph(u) for u in users]

    def rooms(self) -> list[Room]:
        """Every room of the tenant (``/places/microsoft.graph.room``), following ``@odata.nextLink``."""
        return [Room.from_graph(p) for p in self._pages("places/microsoft.graph.room", {"$top": PAGE_SIZE})]

    # calendars ------------------------------------------------------------------------------------

    def schedules(
        self,
        mailbox: str,
        addresses: list[str],
        start: datetime,
        end: datetime,
        *,
        interval_minutes: int = 30,
    ) -> dict[str, Schedule]:
        """Free/busy of ``addresses`` between ``start`` and ``end``, asked as ``mailbox`` (by address)."""
        found: dict[str, Schedule] = {}
        unique = list(dict.fromkeys(a.lower() for a in addresses))
        for first in range(0, len(unique), MAX_SCHEDULES):
            body = {
                "schedules": unique[first : first + MAX_SCHEDULES],
                "startTime": graph_time(start),
                "endTime": graph_time(end),
                "availabilityViewInterval": interval_minutes,
            }
            answer = self._request("POST", f"users/{mailbox}/calendar/getSchedule", json=body).json()
            for entry in answer.get("value", []):
                address = str(entry.get("scheduleId", "")).lower()
                error = entry.get("error")
                items = tuple(
                    BusyItem(
                        start=parse_graph_time(i["start"]),
                        end=parse_graph_time(i["end"]),
                        status=i.get("status", "busy"),
                        subject=i.get("subject") or "",
                    )
                    for i in entry.get("scheduleItems") or []
                )
                found[address] = Schedule(
                    address=address, items=items, error=(error or {}).get("message") if error else None
                )
        return found

    def create_event(
        self,
        mailbox: str,
        subject: str,
        start: datetime,
        end: datetime,
        *,
        attendees: list[Attendee],
        transaction_id: str,
        location: Room | None = None,
        body: str = "",
    ) -> Event:
        """Create an event in ``mailbox``'s calendar, inviting ``attendees`` (a room as ``resource``).

        ``transaction_id`` makes a retried create answer the first one's event.
        """
        payload: dict[str, Any] = {
            "subject": subject,
            "body": {"contentType": "text", "content": body},
            "start": graph_time(start),
            "end": graph_time(end),
            "attendees": [a.to_graph() for a in attendees],
            "transactionId": transaction_id,
            "showAs": "busy",
        }
        if location is not None:
            payload["location"] = {
                "displayName": location.name,
                "locationEmailAddress": location.address,
                "locationType": "conferenceRoom",
            }
        return Event.from_graph(self._request("POST", f"users/{mailbox}/events", json=payload).json())

    def event(self, mailbox: str, event_id: str) -> Event | None:
        """One event of ``mailbox``'s calendar, or None."""
        try:
            return Event.from_graph(self._request("GET", f"users/{mailbox}/events/{event_id}").json())
        except VendorRejected as refused:
            if refused.status == 404:
                return None
            raise

    def calendar_view(self, mailbox: str, start: datetime, end: datetime) -> list[Event]:
        """The events of ``mailbox`` overlapping ``start``..``end``."""
        params = {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "endDateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        return [Event.from_graph(e) for e in self._pages(f"users/{mailbox}/calendarView", params)]


class OutlookCalendarResource(ConnectorResource):
    """Outlook calendars via Graph: the Entra authority, the app's id and secret (``EAS_OUTLOOK_*``)."""

    system = "outlook_calendar"

    authority: str = Field(description="https://login.microsoftonline.com/<tenant> (EAS_OUTLOOK_AUTHORITY)")
    client_id: str = Field(description="the app registration's id (EAS_OUTLOOK_CLIENT_ID)")
    client_secret: str = Field(description="its client secret (EAS_OUTLOOK_CLIENT_SECRET)")
    graph_url: str = Field(default=GRAPH_URL, description="Graph root with version (EAS_OUTLOOK_GRAPH_URL)")
    organizer: str = Field(
        default="",
        description=(
            "the mailbox EAS books from when the requester has none (EAS_OUTLOOK_ORGANIZER), "
            "e.g. a scheduling service account"
        ),
    )
    time_zone: str = Field(
        default="UTC",
        description="IANA zone of requests' times of day and of working hours (EAS_OUTLOOK_TIME_ZONE)",
    )

    def client(self) -> OutlookCalendarClient:
        return self.reused_client(OutlookCalendarClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> OutlookCalendarResource:
        optional = {
            field: value
            for field, value in (
                ("graph_url", optional_env("EAS_OUTLOOK_GRAPH_URL")),
                ("organizer", optional_env("EAS_OUTLOOK_ORGANIZER")),
                ("time_zone", optional_env("EAS_OUTLOOK_TIME_ZONE")),
            )
            if value is not None
        }
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            authority=dg.EnvVar("EAS_OUTLOOK_AUTHORITY"),
            client_id=dg.EnvVar("EAS_OUTLOOK_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_OUTLOOK_CLIENT_SECRET"),
            **optional,
        )
