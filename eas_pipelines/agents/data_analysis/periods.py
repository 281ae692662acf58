"""Reporting periods: the dates a report covers, the monthly partitions it spans, how it is named.

A period is a closed range of calendar days (``start`` to ``end``, both included), as the NLP
service normalises a ``period`` or ``date_range`` entity (``{"start", "end"}`` ISO dates). The
assets are partitioned by calendar month; a request's period may be longer (a quarter) or shorter
(a week), so :meth:`Period.months` says which whole months it covers: those are the partitions a
request's report also materialises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dagster as dg

PARTITIONS_START = "2025-01-01"
"""First monthly partition of the report assets (the data the emulators and tests seed start there)."""

MONTHLY = dg.MonthlyPartitionsDefinition(start_date=PARTITIONS_START)
"""The report assets' partitions: one per calendar month, keyed by its first day ("2025-07-01")."""


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Calendar days ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def from_value(cls, value: Any) -> Period | None:
        """The period of a normalised ``period``/``date_range`` entity value; None if unreadable."""
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(date.fromisoformat(str(value["start"])), date.fromisoformat(str(value["end"])))
        except (KeyError, ValueError):
            return None

    @classmethod
    def month_of(cls, day: date) -> Period:
        first = day.replace(day=1)
        return cls(first, _first_of_next_month(first) - timedelta(days=1))

    @classmethod
    def previous_month(cls, today: date) -> Period:
        """The last complete calendar month before ``today``: what a report defaults to."""
        return cls.month_of(today.replace(day=1) - timedelta(days=1))

    @classmethod
    def month_to_date(cls, today: date) -> Period:
        """From the first of ``today``'s month to ``today``: what a KPI question defaults to."""
        return cls(today.replace(day=1), today)

    @classmethod
    def of_window(cls, window: dg.TimeWindow) -> Period:
        """A partition's time window (end exclusive, midnight UTC) as a period."""
        return cls(window.start.date(), (window.end - timedelta(microseconds=1)).date())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_utc(self) -> datetime:
        """The first instant of the period (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (UTC): ranges are ``start_utc <= t < end_utc``."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def previous(self) -> Period:
        """The period just before this one (what a KPI is compared with): as many whole months before
        a period of whole months (Q2 before Q3, January before February), else as many days."""
        months = self.months()
        if months and months[0].start == self.start and months[-1].end == self.end:
            end = self.start - timedelta(days=1)
            start = end.replace(day=1)
            for _ in range(len(months) - 1):
                start = (start - timedelta(days=1)).replace(day=1)
            return Period(start, end)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[Period]:
        """The calendar months lying wholly inside the period, oldest first (its monthly partitions)."""
        found = []
        first = self.start if self.start.day == 1 else _first_of_next_month(self.start)
        while first <= self.end:
            month = Period.month_of(first)
            if month.end <= self.end:
                found.append(month)
            first = _first_of_next_month(first)
        return found

    @property
    def partition_key(self) -> str | None:
        """The monthly partition key when the period is exactly one calendar month."""
        return self.start.isoformat() if self == Period.month_of(self.start) else None

    @property
    def label(self) -> str:
        """How people name it: "2025-07", "Q3 2025", "2025" or "2025-07-01 to 2025-07-14"."""
        if self.partition_key is not None:
            return self.start.strftime("%Y-%m")
        whole_months = self.months()
        if whole_months and whole_months[0].start == self.start and whole_months[-1].end == self.end:
            if len(whole_months) == 3 and self.start.month % 3 == 1:
                return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
            if len(whole_months) == 12 and self.start.month == 1:
                return str(self.start.year)
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def slug(self) -> str:
        """The period in a storage key: "2025-07-01_2025-09-30"."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"
