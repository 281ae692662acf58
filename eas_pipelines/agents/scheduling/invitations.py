"""The iCalendar invitation (RFC 5545, ``METHOD:REQUEST``) sent by e-mail with each meeting.

Graph invites the tenant's mailboxes itself; the ``.ics`` reaches everyone else too (guests, other
calendar systems), and carries the event's ``iCalUId`` as its ``UID`` so that a calendar that also got
Graph's invitation merges the two into one event instead of showing it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import icalendar

PRODID = "-//EAS//Scheduling agent//EN"
ICS_FILENAME = "invite.ics"
ICS_MIME = "text/calendar"


def invitation(
    *,
    uid: str,
    subject: str,
    start: datetime,
    end: datetime,
    organizer: str,
    attendees: Sequence[tuple[str, str]],
    location: str = "",
    description: str = "",
    stamp: datetime | None = None,
    room: str | None = None,
) -> bytes:
    """The ``.ics`` of one meeting request; ``attendees`` are (address, name) pairs, ``room`` the
    address of a booked room (a ``CUTYPE=ROOM`` attendee, as calendar clients show rooms)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", subject)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer_value = icalendar.vCalAddress(f"mailto:{organizer}")
    organizer_value.params["cn"] = icalendar.vText(organizer)
    event.add("organizer", organizer_value)
    for address, name in attendees:
        attendee = icalendar.vCalAddress(f"mailto:{address}")
        attendee.params["cn"] = icalendar.vText(name or address)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee, encode=0)
    if room:
        resource = icalendar.vCalAddress(f"mailto:{room}")
        resource.params["cn"] = icalendar.vText(location or room)
        resource.params["cutype"] = icalendar.vText("ROOM")
        resource.params["role"] = icalendar.vText("NON-PARTICIPANT")
        resource.params["partstat"] = icalendar.vText("ACCEPTED")
        event.add("attendee", resource, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()
