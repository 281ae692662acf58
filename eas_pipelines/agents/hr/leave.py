"""Leave rules, free of Dagster: dates, working days, notice and blackout windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.blackouts import Blackout
from eas_pipelines.resources.connectors.leave import pool_of

DEFAULT_LEAVE_TYPE = "vacation"
NOTICE_EXEMPT = frozenset({"sick", "bereavement"})
"""Nobody plans to be ill: these may start today or even be recorded after the fact."""


@dataclass(frozen=True)
class LeaveRequest:
    """The leave a request asks for, as the workflow carries it from op to op."""

    item: WorkItem
    employee_id: str
    employee_name: str
    employee_contact: str
    approver: str
    approver_contact: str
    leave_type: str
    start: date
    end: date
    working_days: int
    balance_after: float | None = None

    def with_(self, **changes: Any) -> LeaveRequest:
        return replace(self, **changes)

    @property
    def label(self) -> str:
        span = self.start.isoformat() if self.start == self.end else f"{self.start} to {self.end}"
        return f"{self.leave_type} for {self.employee_name}, {span} ({self.working_days} working day(s))"


def _iso(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def leave_dates(item: WorkItem) -> tuple[date, date] | str:
    """(start, end) from a date_range ``{"start", "end"}`` or a single date; else what is wrong."""
    span = item.value("date_range")
    if isinstance(span, dict):
        start, end = _iso(span.get("start")), _iso(span.get("end"))
        if start is None or end is None:
            return "the leave dates could not be read"
    else:
        start = end = _iso(item.value("date"))
        if start is None:
            return "the request gives no leave dates"
    if end < start:
        return f"the leave ends ({end}) before it starts ({start})"
    return start, end


def working_days(start: date, end: date) -> int:
    """Monday to Friday between ``start`` and ``end`` inclusive (public holidays are not modelled)."""
    days = (end - start).days + 1
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    for offset in range(rest):
        if (start + timedelta(days=full_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def notice_problem(leave_type: str, start: date, today: date, notice_days: int) -> str | None:
    """Planned leave must be asked for ``notice_days`` ahead; sick and bereavement leave need none."""
    if leave_type in NOTICE_EXEMPT:
        return None
    if (start - today).days < notice_days:
        return (
            f"{leave_type} must be requested at least {notice_days} day(s) ahead: it starts {start}, "
            f"{(start - today).days} day(s) from {today}"
        )
    return None


def blackout_problem(leave_type: str, start: date, end: date, blackouts: Sequence[Blackout]) -> str | None:
    """Vacation may not overlap a blackout window (the company close, a release freeze...)."""
    if pool_of(leave_type) != "vacation":
        return None
    for blackout in blackouts:
        if blackout.overlaps(start, end):
            return f"{leave_type} from {start} to {end} overlaps the blackout window {blackout.spec}"
    return None
