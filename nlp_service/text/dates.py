"""Dates and date ranges said relative to the day of the request, as ISO strings.

Requests schedule things ("book leave March 3 to 7", "pay it next Friday"), so a date
given without its year or month is the next one on or after the reference date. Weeks
run Monday to Sunday (ISO 8601). Only a fixed grammar of English forms is understood,
by pre-compiled regular expressions: a general date parser (``dateparser``) was measured
at about 0.7 ms per call, too slow for the request path, and guesses where this module
answers ``None``.

Conventions, beyond "future first":

* "3/15" and "3/15/2027" are US month/day; "15/3/2027" (first number over 12) is day/month;
  "15.03.2027" (dots) is day.month.year.
* "Friday" and "this Friday" are the next Friday on or after the reference date; "next
  Friday" is the Friday of next week (Monday-based); "last Friday" the most recent one
  before the reference date.
* "end of week" is Friday (the working week), "end of month/quarter/year" its last day;
  "start of month" is the first 1st on or after the reference date.
* A range end without a year or month ("March 3 to 7", "Dec 22 - Jan 2", "tomorrow until
  Friday") is the first such day on or after the start. A range whose start is partial and
  already began ("March 3 to 7" said on March 5) keeps the current occurrence.
* A single date as a range is a one-day range; a range whose explicit end is before its
  start gives ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from dateutil.relativedelta import relativedelta

from nlp_service.text.numbers import words_value

MONTHS = {
    **dict.fromkeys(("jan", "january"), 1),
    **dict.fromkeys(("feb", "february"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("may",), 5),
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
WEEKDAYS = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
UNITS = ("week", "month", "quarter", "year")


def _names(words: dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


MONTH_RE = rf"(?:{_names(MONTHS)})\.?"
WEEKDAY_RE = rf"(?:{_names(WEEKDAYS)})\.?"
_D = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(\d{4}|'\d{2})"

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_US_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?")
_US_DASH = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4}|\d{2})")
_EU_DOT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})")
_MONTH_DAY = re.compile(rf"(?:{WEEKDAY_RE}\s+)?({MONTH_RE})\s+{_D}(?:\s+{_YEAR})?")
_DAY_MONTH = re.compile(rf"(?:{WEEKDAY_RE}\s+)?{_D}(?:\s+of)?\s+({MONTH_RE})(?:\s+{_YEAR})?")
_ORDINAL_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)")
_BARE_DAY = re.compile(r"(\d{1,2})")
_IN_COUNT = re.compile(r"in\s+(.+?)\s+(day|week|month|year)s?")
_COUNT_FROM_NOW = re.compile(r"(.+?)\s+(day|week|month|year)s?\s+(from now|from today|later|hence|ago)")
_WEEKDAY = re.compile(
    rf"(?:(this coming|this|coming|next|last|past|previous)\s+)?({WEEKDAY_RE})(?:\s+(this|next|last)\s+week)?"
)
_BOUNDARY = re.compile(
    r"(end|start|beginning)\s+of\s+(?:the\s+)?(?:(this|current|next|last)\s+)?(week|month|quarter|year)"
)
_BOUNDARY_SHORT = {"eow": ("end", "week"), "eom": ("end", "month"), "eoq": ("end", "quarter")}
_BOUNDARY_SHORT |= {"eoy": ("end", "year"), "month end": ("end", "month"), "year end": ("end", "year")}
_RELATIVE_DAYS = {
    **dict.fromkeys(("today", "tonight", "now", "eod", "cob", "end of day", "close of business"), 0),
    **dict.fromkeys(("tomorrow", "tmrw", "tmr", "tomorow", "2morrow"), 1),
    **dict.fromkeys(("day after tomorrow", "the day after tomorrow"), 2),
    "yesterday": -1,
    "day before yesterday": -2,
}
_OFFSETS = {None: 0, "this": 0, "current": 0, "coming": 1, "next": 1, "last": -1, "previous": -1, "past": -1}

_FILLER = re.compile(r"^(?:(?:on|by|for|due|from|between|starting|around|about|the)\s+)+")
_TIME_OF_DAY = re.compile(
    r"(?:\s+(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midnight|eod|cob"
    r"|(?:in\s+the\s+)?(?:morning|afternoon|evening|night)))+$"
)
_EDGE_PUNCTUATION = ".,;:!?()[]{}\"'"

# Range forms that name a whole span ("next week") rather than two ends.
_UNIT_RANGE = re.compile(rf"(this|current|next|coming|last|previous|past)\s+({'|'.join(UNITS)})")
_WEEKEND = re.compile(r"(?:(this|next|last|coming)\s+)?weekend")
_REST_OF = re.compile(r"(?:the\s+)?rest\s+of\s+(?:the\s+|this\s+)?(week|month|year)")
_WEEK_OF = re.compile(r"(?:the\s+)?week\s+of\s+(.+)")
_NEXT_DAYS = re.compile(r"(?:the\s+)?(?:next|coming)\s+(.+?)\s+days")
_MONTH_ONLY = re.compile(rf"(?:the\s+month\s+of\s+)?({MONTH_RE})(?:\s+{_YEAR})?")
# Two ISO dates hold five dashes; more candidates than this are not a range worth reading.
_MAX_SEPARATORS = 8
_RANGE_SEPARATOR = re.compile(r"\s*(?:\b(?:to|through|thru|until|till|til|and)\b|[–—-])\s*")


@dataclass(frozen=True)
class DateSpec:
    """A date as said: fixed, or partial (a month and day, a day of month, a weekday).

    A partial date is resolved against an anchor: the reference date for a single date,
    the start for the end of a range.
    """

    fixed: date | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None

    @property
    def calendar_partial(self) -> bool:
        """A day with an unstated year or month, which can also be resolved backwards."""
        return self.fixed is None and self.day is not None

    def on_or_after(self, anchor: date) -> date | None:
        if self.fixed is not None:
            return self.fixed
        if self.weekday is not None:
            return anchor + timedelta(days=(self.weekday - anchor.weekday()) % 7)
        if self.month is not None:
            return _first_valid(anchor, self.month, self.day, step=1)
        return _first_valid(anchor, None, self.day, step=1)

    def on_or_before(self, anchor: date) -> date | None:
        if self.fixed is not None:
            return self.fixed
        if self.weekday is not None:
            return anchor - timedelta(days=(anchor.weekday() - self.weekday) % 7)
        return _first_valid(anchor, self.month, self.day, step=-1)


def _first_valid(anchor: date, month: int | None, day: int | None, step: int) -> date | None:
    """First existing ``month``/``day`` (any month when ``None``) from ``anchor`` in direction ``step``.

    Years are tried for a month and day (February 29 waits for a leap year), months for a
    day alone ("the 31st" skips 30-day months).
    """
    if day is None:
        return None
    for shift in range(0, 9 * step if month else 14 * step, step):
        if month:
            candidate = _safe_date(anchor.year + shift, month, day)
        else:
            first = date(anchor.year, anchor.month, 1) + relativedelta(months=shift)
            candidate = _safe_date(first.year, first.month, day)
        if candidate and (candidate >= anchor if step > 0 else candidate <= anchor):
            return candidate
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def clean(text: str) -> str:
    """Lower-case, single-spaced text without edge punctuation, fillers or a time of day."""
    text = " ".join(text.lower().replace(",", " ").replace("’", "'").split()).strip(_EDGE_PUNCTUATION)
    text = _FILLER.sub("", text.strip())
    without_time = _TIME_OF_DAY.sub("", text)
    return without_time or text


def calendar_unit(unit: str, reference: date, offset: int = 0) -> tuple[date, date]:
    """First and last day of the week/month/quarter/year ``offset`` units from the reference's."""
    if unit == "week":
        monday = reference - timedelta(days=reference.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    first_month = (reference.month - 1) // months * months + 1
    first = date(reference.year, first_month, 1) + relativedelta(months=months * offset)
    return first, first + relativedelta(months=months, days=-1)


def _year(digits: str | None) -> int | None:
    if digits is None:
        return None
    digits = digits.lstrip("'")
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _spec(month: int, day: int, year: int | None) -> DateSpec | None:
    """A month/day with an optional year; ``None`` for impossible days ("Feb 30")."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is None:
        return DateSpec(month=month, day=day) if _safe_date(2000, month, day) else None
    fixed = _safe_date(year, month, day)
    return DateSpec(fixed=fixed) if fixed else None


def _numeric_spec(text: str) -> DateSpec | None:
    """ISO, US slash/dash and European dot dates."""
    if match := _ISO.fullmatch(text):
        return _spec(int(match.group(2)), int(match.group(3)), int(match.group(1)))
    if match := _US_SLASH.fullmatch(text) or _US_DASH.fullmatch(text):
        month, day = int(match.group(1)), int(match.group(2))
        if month > 12 >= day:
            month, day = day, month
        return _spec(month, day, _year(match.group(3)))
    if match := _EU_DOT.fullmatch(text):
        return _spec(int(match.group(2)), int(match.group(1)), _year(match.group(3)))
    return None


def _named_month_spec(text: str) -> DateSpec | None:
    """Dates naming their month: "March 3", "Mar 3rd 2027", "Fri Mar 3", "3 March", "3rd of March"."""
    if match := _MONTH_DAY.fullmatch(text):
        month, day, year = match.group(1), match.group(2), match.group(3)
    elif match := _DAY_MONTH.fullmatch(text):
        day, month, year = match.group(1), match.group(2), match.group(3)
    else:
        return None
    return _spec(MONTHS[month.rstrip(".")], int(day), _year(year))


def _count(text: str) -> int | None:
    """A small count: digits, number words or an article ("in a week")."""
    if text.isdigit():
        return int(text)
    if text in ("a", "an", "one"):
        return 1
    if text in ("a couple of", "a couple", "couple of"):
        return 2
    found = words_value(text.split())
    return found[0] if found and found[1] == len(text.split()) else None


def _relative_spec(text: str, reference: date) -> DateSpec | None:
    """Days counted from the reference: "tomorrow", "in 3 days", "2 weeks from now", "a month ago"."""
    if text in _RELATIVE_DAYS:
        return DateSpec(fixed=reference + timedelta(days=_RELATIVE_DAYS[text]))
    match = _IN_COUNT.fullmatch(text)
    sign = 1
    if not match:
        match = _COUNT_FROM_NOW.fullmatch(text)
        if not match:
            return None
        sign = -1 if match.group(3) == "ago" else 1
    count = _count(match.group(1))
    if count is None:
        return None
    step = relativedelta(**{match.group(2) + "s": sign * count})
    return DateSpec(fixed=reference + step)


def _weekday_spec(text: str, reference: date) -> DateSpec | None:
    """Weekdays: "Friday", "this Friday", "next Friday" (next week's), "last Friday", "Friday next week"."""
    match = _WEEKDAY.fullmatch(text)
    if not match:
        return None
    modifier, weekday = match.group(1) or match.group(3), WEEKDAYS[match.group(2).rstrip(".")]
    if modifier in (None, "this coming", "coming") or (modifier == "this" and match.group(1)):
        return DateSpec(weekday=weekday)
    if modifier in ("last", "past", "previous") and match.group(1):
        return DateSpec(fixed=reference - timedelta(days=(reference.weekday() - weekday - 1) % 7 + 1))
    monday, _ = calendar_unit("week", reference, _OFFSETS[modifier])
    return DateSpec(fixed=monday + timedelta(days=weekday))


def _boundary_spec(text: str, reference: date) -> DateSpec | None:
    """Edges of a calendar unit: "end of month", "eow", "start of next quarter"."""
    if text in _BOUNDARY_SHORT:
        edge, unit, modifier = *_BOUNDARY_SHORT[text], None
    elif match := _BOUNDARY.fullmatch(text):
        edge, modifier, unit = match.group(1), match.group(2), match.group(3)
    else:
        return None
    offset = _OFFSETS[modifier]
    if unit == "week" and edge == "end":
        if offset == 0:
            return DateSpec(fixed=reference + timedelta(days=(4 - reference.weekday()) % 7))
        return DateSpec(fixed=calendar_unit("week", reference, offset)[0] + timedelta(days=4))
    first, last = calendar_unit(unit, reference, offset)
    if edge == "end":
        return DateSpec(fixed=last)
    if first < reference and modifier is None:
        first, _ = calendar_unit(unit, reference, 1)  # "start of month" on the 28th: the next one
    return DateSpec(fixed=first)


def parse_date_spec(text: str, reference: date, bare_day: bool = False) -> DateSpec | None:
    """What a cleaned date phrase says; ``bare_day`` also accepts "7" (the end of "March 3-7")."""
    for parser in (_numeric_spec, _named_month_spec):
        if spec := parser(text):
            return spec
    for relative in (_relative_spec, _weekday_spec, _boundary_spec):
        if spec := relative(text, reference):
            return spec
    match = _ORDINAL_DAY.fullmatch(text) or (bare_day and _BARE_DAY.fullmatch(text))
    if match and 1 <= int(match.group(1)) <= 31:
        return DateSpec(day=int(match.group(1)))
    return None


def parse_date(text: str, reference: date) -> str | None:
    """ISO date of a single date phrase, or ``None``."""
    spec = parse_date_spec(clean(text), reference)
    resolved = spec.on_or_after(reference) if spec else None
    return resolved.isoformat() if resolved else None


def parse_date_range(text: str, reference: date, look_back: bool = False) -> dict[str, str] | None:
    """``{"start", "end"}`` ISO dates of a range phrase, or ``None``.

    ``look_back`` places a start without its year, month or week on or before the
    reference date instead of after it: reporting periods ("Nov 1 to 15") mostly look back.
    """
    text = clean(text)
    bounds = _named_range(text, reference) or _two_ended_range(text, reference, look_back)
    if bounds is None:
        spec = parse_date_spec(text, reference)
        day = (spec.on_or_before(reference) if look_back else spec.on_or_after(reference)) if spec else None
        bounds = (day, day) if day else None
    if bounds is None or bounds[1] < bounds[0]:
        return None
    return {"start": bounds[0].isoformat(), "end": bounds[1].isoformat()}


def _named_range(text: str, reference: date) -> tuple[date, date] | None:
    """Ranges named as a whole: "next week", "this weekend", "rest of the month", "week of March 3"."""
    if match := _UNIT_RANGE.fullmatch(text):
        return calendar_unit(match.group(2), reference, _OFFSETS[match.group(1)])
    if text == "week after next":
        return calendar_unit("week", reference, 2)
    if match := _WEEKEND.fullmatch(text):
        monday, _ = calendar_unit("week", reference, _OFFSETS[match.group(1)])
        return monday + timedelta(days=5), monday + timedelta(days=6)
    if match := _REST_OF.fullmatch(text):
        return reference, calendar_unit(match.group(1), reference)[1]
    if match := _WEEK_OF.fullmatch(text):
        spec = parse_date_spec(clean(match.group(1)), reference)
        day = spec.on_or_after(reference) if spec else None
        return calendar_unit("week", day) if day else None
    if (match := _NEXT_DAYS.fullmatch(text)) and (count := _count(match.group(1))):
        return reference + timedelta(days=1), reference + timedelta(days=count)
    if match := _MONTH_ONLY.fullmatch(text):
        return _month_range(MONTHS[match.group(1).rstrip(".")], _year(match.group(2)), reference)
    return None


def _month_range(month: int, year: int | None, reference: date) -> tuple[date, date]:
    """A whole month; without a year the current or next occurrence."""
    if year is None:
        year = reference.year if month >= reference.month else reference.year + 1
    first = date(year, month, 1)
    return first, first + relativedelta(months=1, days=-1)


def _two_ended_range(text: str, reference: date, look_back: bool) -> tuple[date, date] | None:
    """Two-ended ranges: "March 3 to 7", "Dec 22 - Jan 2", "from the 3rd to the 7th", "tomorrow until friday".

    Every separator is tried in turn ("2027-03-01 - 2027-03-05" has five dashes) until
    both sides read as dates.
    """
    for separator in islice(_RANGE_SEPARATOR.finditer(text), _MAX_SEPARATORS):
        left_text, right_text = clean(text[: separator.start()]), clean(text[separator.end() :])
        left = parse_date_spec(left_text, reference) or _day_before_month(left_text, right_text)
        right = parse_date_spec(right_text, reference, bare_day=True) if left else None
        if left and right:
            return _resolve_ends(left, right, reference, look_back)
    return None


def _day_before_month(left: str, right: str) -> DateSpec | None:
    """The start of "3-7 March" / "3 to 7 March 2027": a day in the month the end names."""
    day = _BARE_DAY.fullmatch(left) or _ORDINAL_DAY.fullmatch(left)
    end = (_numeric_spec(right) or _named_month_spec(right)) if day else None
    if end is None:
        return None
    if end.fixed:
        return _spec(end.fixed.month, int(day.group(1)), end.fixed.year)
    return _spec(end.month, int(day.group(1)), None)


def _resolve_ends(
    left: DateSpec, right: DateSpec, reference: date, look_back: bool
) -> tuple[date, date] | None:
    """Place a range's two ends: the start from the reference date, the end from the start."""
    if right.fixed and left.calendar_partial:
        start = left.on_or_before(right.fixed)
        return (start, right.fixed) if start else None
    if look_back:
        start = left.on_or_before(reference)
        end = right.on_or_after(start) if start else None
        return (start, end) if start and end else None
    start = left.on_or_after(reference)
    end = right.on_or_after(start) if start else None
    if start is None or end is None:
        return None
    if left.calendar_partial:
        earlier = left.on_or_before(reference - timedelta(days=1))
        earlier_end = right.on_or_after(earlier) if earlier else None
        if earlier and earlier_end and earlier_end >= reference:
            return earlier, earlier_end  # the range is under way: "March 3 to 7" said on March 5
    return start, end
