"""Who and what a scheduling request names, found in the tenant's directory through Graph.

People come as names (``employee``: "Dana Smith", "Lee"), addresses (``email``) or a whole
``department``; rooms as people say them (``room``: "the Everest room"). A name that matches no one,
or several people, is a refusal naming the problem: inviting the wrong Lee is worse than asking. An
address outside the directory is a guest: invited by e-mail, but nobody can see their calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.scheduling.slots import room_key
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarClient, Person, Room


class NotFound(LookupError):
    """The request names someone or something the directory cannot settle; the message says what."""


@dataclass(frozen=True)
class Organizer:
    """The mailbox the event is made in: the requester's own when they have one, else EAS's."""

    address: str
    name: str
    is_requester: bool


@dataclass(frozen=True)
class Invitees:
    people: tuple[Person, ...] = ()
    guests: tuple[str, ...] = ()  # addresses outside the directory


def organizer_of(client: OutlookCalendarClient, item: WorkItem, service_mailbox: str) -> Organizer:
    """The requester when their id is a directory address, else the service mailbox."""
    requester = item.requester
    if "@" in requester:
        person = client.person(requester)
        if person is not None:
            return Organizer(person.address, person.name, True)
    if not service_mailbox:
        raise NotFound(
            f"the requester {requester} has no mailbox and no organiser mailbox is configured "
            "(EAS_OUTLOOK_ORGANIZER)"
        )
    return Organizer(service_mailbox.lower(), "EAS Scheduler", False)


def invitees(client: OutlookCalendarClient, item: WorkItem, organizer: Organizer) -> Invitees:
    """Everyone the request names, once each, without the organiser; raises :class:`NotFound`."""
    people: dict[str, Person] = {}
    guests: list[str] = []
    problems: list[str] = []
    for name in item.values("employee"):
        matches = client.people_named(str(name))
        if not matches:
            problems.append(f"no one named {name!r} in the directory")
        elif len(matches) > 1:
            listed = ", ".join(f"{p.name} <{p.address}>" for p in matches[:5])
            problems.append(f"{name!r} could be {listed}: say which (an e-mail address settles it)")
        else:
            people.setdefault(matches[0].address, matches[0])
    for address in item.values("email"):
        person = client.person(str(address))
        if person is None:
            guests.append(str(address).lower())
        else:
            people.setdefault(person.address, person)
    for department in item.values("department"):
        members = client.department(str(department))
        if not members:
            problems.append(f"no one in the directory works in {department!r}")
        for person in members:
            people.setdefault(person.address, person)
    if problems:
        raise NotFound("; ".join(problems))
    people.pop(organizer.address, None)
    return Invitees(tuple(people.values()), tuple(dict.fromkeys(g for g in guests if g != organizer.address)))


def room_named(rooms: Sequence[Room], name: str) -> Room:
    """The room called ``name`` as people say it; raises :class:`NotFound` listing the rooms."""
    wanted = room_key(name)
    found = [room for room in rooms if room_key(room.name) == wanted]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(sorted(room.name for room in rooms)) or "none"
    raise NotFound(f"no room called {name!r} (rooms: {listed})")


def rooms_for(rooms: Sequence[Room], people: object) -> list[Room]:
    """Rooms that seat ``people`` (a quantity; any room when not a number), smallest first."""
    needed = people if isinstance(people, int) and people > 0 else 1
    fitting = sorted((r for r in rooms if r.capacity >= needed), key=lambda r: (r.capacity, r.name))
    if not fitting:
        raise NotFound(f"no room seats {needed} (largest: {max((r.capacity for r in rooms), default=0)})")
    return fitting
