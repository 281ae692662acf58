"""Scheduling rules, free of Dagster and of Graph: when a request means, and which slot is free.

The NLP service extracts dates (``date``: an ISO day, ``date_range``: ``{"start", "end"}``) and
durations (``duration``: minutes) but not times of day ("at 2pm" stays plain text), so
:func:`time_of_day` reads those from the text. A request's times are read in one time zone (the
calendar connector's ``time_zone``) and every slot is computed in UTC.

A slot is offered only inside working hours (:data:`WORK_START`..:data:`WORK_END`, Monday to
Friday), on the :data:`STEP` grid, never in the past, and only when no one's busy time (busy, out of
office or tentative: an unanswered invitation still holds the time) overlaps it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WORK_START, WORK_END = time(9, 0), time(17, 0)
STEP = timedelta(minutes=30)
SEARCH_DAYS = 5
"""Working days searched when the request names no day."""
DEFAULT_MEETING = timedelta(minutes=30)
DEFAULT_BOOKING = timedelta(minutes=60)
MAX_DURATION = timedelta(hours=8)

_HOUR = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(rf"\bfrom\s+{_HOUR}\s*(?:to|until|till|-|–)\s*{_HOUR}", re.IGNORECASE)
_AT = re.compile(rf"(?:\bat|@)\s*{_HOUR}(?!\s*(?:people|persons|of us|%|\d))", re.IGNORECASE)
_NAMED = {"noon": time(12, 0), "midday": time(12, 0)}
_NAMED_AT = re.compile(r"\b(?:at\s+)?(noon|midday)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Busy:
    """Someone's (or a room's) time that a slot must not overlap."""

    who: str
    start: datetime
    end: datetime
    subject: str = ""


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time | None:
    """A time of day; without am/pm an office hour is meant ("at 3" is 15:00, "at 9" 09:00)."""
    h, m = int(hour), int(minute or 0)
    suffix = (meridiem or "").replace(".", "").lower()
    if m > 59 or h > 23 or (suffix and not 1 <= h <= 12):
        return None
    if suffix == "pm" and h != 12:
        h += 12
    elif suffix == "am" and h == 12:
        h = 0
    elif not suffix and 1 <= h <= 7:
        h += 12
    return time(h, m)


def time_of_day(text: str) -> tuple[time | None, timedelta | None]:
    """The start time a request's text names ("at 2pm", "at noon", "from 2 to 4"), and the length a
    "from .. to .." range gives; (None, None) when it names none."""
    ranged = _RANGE.search(text)
    if ranged:
        first = _clock(*ranged.group(1, 2, 3))
        # "from 2 to 4pm": the end's am/pm applies to the start when the start has none
        second = _clock(*ranged.group(4, 5, 6))
        if first is not None and ranged.group(3) is None and ranged.group(6):
            first = _clock(ranged.group(1), ranged.group(2), ranged.group(6)) or first
        if first is not None and second is not None and second > first:
            start = datetime.combine(date.min, first)
            return first, datetime.combine(date.min, second) - start
    at = _AT.search(text)
    if at:
        found = _clock(*at.group(1, 2, 3))
        if found is not None:
            return found, None
    named = _NAMED_AT.search(text)
    if named:
        return _NAMED[named.group(1).lower()], None
    return None, None


def duration_of(minutes: object, spoken: timedelta | None, default: timedelta) -> timedelta:
    """The meeting's length: a ``duration`` entity (minutes), else a spoken range, else ``default``."""
    if isinstance(minutes, int | float) and minutes > 0:
        return min(timedelta(minutes=float(minutes)), MAX_DURATION)
    return spoken or default


def working_days(first: date, last: date) -> list[date]:
    """Monday-to-Friday days from ``first`` to ``last`` (inclusive)."""
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def search_days(day: object, day_range: object, today: date) -> list[date]:
    """The days to look in: the asked day, the asked range's working days, else the next ones."""
    if isinstance(day, str):
        return [date.fromisoformat(day)]
    if isinstance(day_range, dict) and day_range.get("start") and day_range.get("end"):
        first, last = date.fromisoformat(day_range["start"]), date.fromisoformat(day_range["end"])
        return working_days(max(first, today), last)
    days: list[date] = []
    day_ = today
    while len(days) < SEARCH_DAYS:
        if day_.weekday() < 5:
            days.append(day_)
        day_ += timedelta(days=1)
    return days


def at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``clock`` in ``zone``, as UTC."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def window(days: Sequence[date], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC span from the first day's start of work to the last day's end."""
    return at(days[0], WORK_START, zone), at(days[-1], WORK_END, zone)


def conflicts(slot: Slot, busy: Iterable[Busy]) -> list[Busy]:
    """The busy times overlapping ``slot``, earliest first."""
    return sorted(
        (b for b in busy if b.start < slot.end and slot.start < b.end), key=lambda b: (b.start, b.who)
    )


def _round_up(moment: datetime, origin: datetime) -> datetime:
    """``moment`` moved forward onto the :data:`STEP` grid that starts at ``origin``."""
    steps = -(-(moment - origin) // STEP)
    return origin + max(steps, 0) * STEP


def free_slots(
    days: Sequence[date],
    length: timedelta,
    busy: Iterable[Busy],
    zone: ZoneInfo,
    now: datetime,
    limit: int = 1,
) -> list[Slot]:
    """Up to ``limit`` free slots of ``length`` in working hours of ``days``, earliest first."""
    busy = list(busy)
    found: list[Slot] = []
    for day in days:
        opens, closes = at(day, WORK_START, zone), at(day, WORK_END, zone)
        start = _round_up(max(opens, now), opens)
        while start + length <= closes:
            slot = Slot(start, start + length)
            clash = conflicts(slot, busy)
            if not clash:
                found.append(slot)
                if len(found) >= limit:
                    return found
                start += STEP
            else:  # jump past the earliest clash's end
                start = _round_up(min(b.end for b in clash), opens)
    return found


def busy_by_address(schedules: Mapping[str, Iterable[Busy]]) -> list[Busy]:
    return [b for items in schedules.values() for b in items]


def describe(busy: Sequence[Busy], zone: ZoneInfo) -> str:
    """ "Dana Smith 14:00-15:00 (Design review)" for each, in the request's time zone."""

    def hm(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%H:%M")

    return "; ".join(
        f"{b.who} {b.start.astimezone(zone):%Y-%m-%d} {hm(b.start)}-{hm(b.end)}"
        + (f" ({b.subject})" if b.subject else "")
        for b in busy
    )


def room_key(name: str) -> str:
    """A room's name as people say it, compared loosely ("the Everest room" ~ "Everest")."""
    words = re.sub(r"[^a-z0-9.]+", " ", name.lower()).split()
    kept = [w for w in words if w not in {"the", "room"}] or words
    return " ".join(kept)
