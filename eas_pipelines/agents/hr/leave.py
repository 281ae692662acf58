"""Leave rules, free of Dagster: leave types, dates, working days, notice and blackout windows.

The agent speaks of leave in the words people use ("PTO", "annual leave", "sick"); BambooHR in its
company's time-off types ("Vacation", "Sick", "Personal"). :func:`pool_of` folds the words onto
one leave type each and :func:`time_off_type` names the BambooHR type that type is booked as, so
the mapping lives in one place, next to the rules that depend on it (blackouts apply to vacation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.blackouts import Blackout

DEFAULT_LEAVE_TYPE = "vacation"
POOLS: dict[str, str] = {
    "pto": "vacation",
    "annual": "vacation",
    "holiday": "vacation",
    "sick leave": "sick",
    "personal day": "personal",
}
"""Leave types that draw on another one's balance ("pto" is vacation); the NLP service's canonical
names (vacation, sick, parental, pto, personal, bereavement, unpaid, jury_duty) plus a few words."""
TIME_OFF_TYPES: dict[str, str] = {
    "vacation": "Vacation",
    "sick": "Sick",
    "personal": "Personal",
    "parental": "Parental Leave",
    "bereavement": "Bereavement",
    "unpaid": "Unpaid Leave",
    "jury_duty": "Jury Duty",
}
"""Leave type -> the BambooHR time-off type it is booked as. Each company names its own types: one
that BambooHR does not have (the demo company has only Vacation, Sick and Personal) is refused
before the manager is asked, naming the types it does have."""
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
    bamboohr_id: int
    """BambooHR's numeric id of the employee: what its API calls take (``employee_id`` is the
    readable id approvals and messages use: the work email's local part, "dana.smith")."""
    time_off_type: str
    """The BambooHR time-off type the leave is booked as ("Vacation" for PTO)."""
    balance_after: float | None = None
    time_off_request_id: int | None = None

    def with_(self, **changes: Any) -> LeaveRequest:
        return replace(self, **changes)

    @property
    def label(self) -> str:
        span = self.start.isoformat() if self.start == self.end else f"{self.start} to {self.end}"
        return f"{self.leave_type} for {self.employee_name}, {span} ({self.working_days} working day(s))"


def pool_of(leave_type: str) -> str:
    """The leave type whose balance ``leave_type`` draws on ("pto" -> "vacation")."""
    key = leave_type.strip().lower()
    return POOLS.get(key, key)


def time_off_type(leave_type: str) -> str:
    """The BambooHR time-off type name a leave type is booked as ("pto" -> "Vacation"); a type the
    agent does not map keeps its own name, for BambooHR to know or refuse."""
    pool = pool_of(leave_type)
    return TIME_OFF_TYPES.get(pool, pool)


def employee_key(name: str) -> str:
    """A readable id from a name: "Dana Smith" -> "dana.smith" (for a person without a work email)."""
    return ".".join(re.sub(r"[^a-z0-9 ]+", " ", name.lower()).split()) or name.lower()


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
    if pool_of(leave_type) in NOTICE_EXEMPT:
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
