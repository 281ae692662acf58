"""Reporting periods ("Q3", "last month", "FY2026") as ``{"start", "end"}`` ISO dates.

A period names the span a report or metric covers, and reports mostly look back, so a
quarter, half or month without a year is the one in the reference date's year ("Q3"
asked in November 2026 is July to September 2026), unlike a date, which looks forward.
"last N days/weeks" are the complete days before the reference date (today excluded,
as analytics tools count); "last N months" the complete calendar months before the
current one. Quarters and halves are calendar ones; a fiscal year ("FY2026") is named
after the calendar year in which it ends and starts in ``FISCAL_YEAR_START_MONTH``
(January: fiscal years are calendar years until the business says otherwise).
Anything else a date range can say ("Nov 1 to 15", "next week") is read as one, looking
back too: a start without a year is the latest one on or before the reference date.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from nlp_service.text.dates import MONTH_RE, MONTHS, calendar_unit, clean, parse_date_range
from nlp_service.text.numbers import words_value

FISCAL_YEAR_START_MONTH = 1

_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_YEAR = r"(\d{4}|'?\d{2})"
_QUARTER = re.compile(rf"q([1-4])(?:\s*(fy)?\s*{_YEAR})?")
_YEAR_QUARTER = re.compile(r"(\d{4})\s*-?\s*q([1-4])")
_QUARTER_WORDS = re.compile(rf"({'|'.join(_ORDINALS)})\s+quarter(?:\s+(?:of\s+)?{_YEAR})?")
_HALF = re.compile(rf"h([12])(?:\s+{_YEAR})?")
_HALF_WORDS = re.compile(rf"(first|second|1st|2nd)\s+half(?:\s+(?:of\s+)?{_YEAR})?")
_FISCAL_YEAR = re.compile(rf"(?:fy|fiscal(?:\s+year)?)\s*-?\s*{_YEAR}")
_RELATIVE_FISCAL = re.compile(r"(this|current|last|previous|next)\s+(?:fy|fiscal\s+year|fiscal)")
_CALENDAR_YEAR = re.compile(r"(?:(?:calendar\s+)?year\s+)?(\d{4})")
_MONTH = re.compile(rf"({MONTH_RE})(?:\s+{_YEAR})?")
_TO_DATE = {"ytd": "year", "year to date": "year", "qtd": "quarter", "quarter to date": "quarter"}
_TO_DATE |= {"mtd": "month", "month to date": "month", "wtd": "week", "week to date": "week"}
_LAST_COUNT = re.compile(r"(?:last|past|previous|trailing)\s+(.+?)\s+(day|week|month)s")


def parse_period(text: str, reference: date) -> dict[str, str] | None:
    """``{"start", "end"}`` ISO dates of a period phrase, or ``None`` when unclear."""
    phrase = clean(text)
    bounds = _period_bounds(phrase, reference)
    if bounds is None:
        return parse_date_range(text, reference, look_back=True)
    return {"start": bounds[0].isoformat(), "end": bounds[1].isoformat()}


def _period_bounds(text: str, reference: date) -> tuple[date, date] | None:
    for reader in (_quarter, _half, _fiscal_year, _to_date, _last_count, _year_or_month):
        if bounds := reader(text, reference):
            return bounds
    return None


def _year(digits: str | None, reference: date) -> int:
    if digits is None:
        return reference.year
    digits = digits.lstrip("'")
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _months(year: int, first_month: int, count: int) -> tuple[date, date]:
    first = date(year, 1, 1) + relativedelta(months=first_month - 1)
    return first, first + relativedelta(months=count, days=-1)


def _fiscal_year_bounds(year: int) -> tuple[date, date]:
    """Fiscal year ``year``: the twelve months ending in calendar year ``year``."""
    start_year = year if FISCAL_YEAR_START_MONTH == 1 else year - 1
    return _months(start_year, FISCAL_YEAR_START_MONTH, 12)


def _quarter(text: str, reference: date) -> tuple[date, date] | None:
    """Quarters: "Q3", "Q3 2026", "2026 Q3", "Q1 FY27" (a fiscal quarter), "third quarter of 2025"."""
    if match := _QUARTER.fullmatch(text):
        quarter, year = int(match.group(1)), _year(match.group(3), reference)
        if match.group(2):
            fiscal_start, _ = _fiscal_year_bounds(year)
            first = fiscal_start + relativedelta(months=3 * (quarter - 1))
            return first, first + relativedelta(months=3, days=-1)
    elif match := _YEAR_QUARTER.fullmatch(text):
        quarter, year = int(match.group(2)), int(match.group(1))
    elif match := _QUARTER_WORDS.fullmatch(text):
        quarter, year = _ORDINALS[match.group(1)], _year(match.group(2), reference)
    else:
        return None
    return _months(year, 3 * quarter - 2, 3)


def _half(text: str, reference: date) -> tuple[date, date] | None:
    """Halves: "H1", "H2 2025", "first half of 2026"."""
    match = _HALF.fullmatch(text) or _HALF_WORDS.fullmatch(text)
    if not match:
        return None
    half = 1 if match.group(1) in ("1", "first", "1st") else 2
    return _months(_year(match.group(2), reference), 6 * half - 5, 6)


def _fiscal_year(text: str, reference: date) -> tuple[date, date] | None:
    """Fiscal years: "FY2026", "FY26", "fiscal 2026", "this fiscal year", "last FY"."""
    if match := _FISCAL_YEAR.fullmatch(text):
        return _fiscal_year_bounds(_year(match.group(1), reference))
    if match := _RELATIVE_FISCAL.fullmatch(text):
        offset = {"last": -1, "previous": -1, "next": 1}.get(match.group(1), 0)
        current = reference.year + (
            1 if FISCAL_YEAR_START_MONTH > 1 and reference.month >= FISCAL_YEAR_START_MONTH else 0
        )
        return _fiscal_year_bounds(current + offset)
    return None


def _to_date(text: str, reference: date) -> tuple[date, date] | None:
    """To-date periods ("YTD", "month to date"): from the start of the unit to the reference date."""
    unit = _TO_DATE.get(text)
    return (calendar_unit(unit, reference)[0], reference) if unit else None


def _last_count(text: str, reference: date) -> tuple[date, date] | None:
    """Trailing periods: "last 30 days", "past 2 weeks", "last 3 months" (complete units before today)."""
    match = _LAST_COUNT.fullmatch(text)
    if not match:
        return None
    count_text = match.group(1)
    found = words_value(count_text.split())
    count = int(count_text) if count_text.isdigit() else (found[0] if found else None)
    if not count:
        return None
    if match.group(2) == "month":
        first_of_month = date(reference.year, reference.month, 1)
        return first_of_month - relativedelta(months=count), first_of_month - timedelta(days=1)
    days = count * (7 if match.group(2) == "week" else 1)
    return reference - timedelta(days=days), reference - timedelta(days=1)


def _year_or_month(text: str, reference: date) -> tuple[date, date] | None:
    """Whole years and months: "2026", "calendar year 2025", "March", "March 2026"."""
    if match := _CALENDAR_YEAR.fullmatch(text):
        return _months(int(match.group(1)), 1, 12)
    if match := _MONTH.fullmatch(text):
        return _months(_year(match.group(2), reference), MONTHS[match.group(1).rstrip(".")], 1)
    return None
