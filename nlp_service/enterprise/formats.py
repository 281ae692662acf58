"""Formatted entity values: money, dates, periods, quantities, durations and identifiers.

Each function draws one surface form from the formats people actually type, so that the
model sees every format the value normaliser (``nlp_service.text``) has to understand.
The conventions are part of the data set's contract:

* ``amount`` includes an attached currency symbol, code or word ("$12,400", "EUR 500",
  "3.2k dollars"); a bare currency mention is a ``currency`` value (lexicon).
* ``date`` is one day; ``date_range`` is the whole range as one span ("March 3 to 7").
* ``quantity`` is the number only ("250"); a unit word after it ("units") is ``O``.
* times of day ("at 3pm") are not an entity and stay ``O``.
"""

from __future__ import annotations

import random
import string

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_YEARS = (2026, 2027)


_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{_SUFFIXES.get(day % 10, 'th')}"


def _month_name(rng: random.Random, month: int) -> str:
    return MONTHS[month - 1] if rng.random() < 0.6 else MONTH_ABBREVIATIONS[month - 1]


# --- money ------------------------------------------------------------------------------

_SYMBOLS = ("$", "$", "$", "€", "€", "£", "¥")
_CODES = ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "INR")
_WORDS = ("dollars", "euros", "pounds", "bucks")


def _number(rng: random.Random) -> float:
    band = rng.random()
    if band < 0.3:
        return round(rng.uniform(8, 999), 2) if rng.random() < 0.3 else float(rng.randint(8, 999))
    if band < 0.85:
        return float(rng.randint(10, 999) * rng.choice((10, 10, 100)) + rng.choice((0, 0, 0, 50, 25)))
    return float(rng.randint(10, 250) * 10_000)


def _plain(value: float, rng: random.Random, decimals: bool | None = None) -> str:
    cents = value != int(value) if decimals is None else decimals
    pattern = "{:,.2f}" if cents else "{:,.0f}"
    text = pattern.format(value)
    return text if rng.random() < 0.75 else text.replace(",", "")


def _short(value: float) -> str:
    """3200 -> "3.2k", 1_500_000 -> "1.5M" (only used where the value rounds cleanly)."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1000:g}k"


def amount(rng: random.Random) -> str:
    value = _number(rng)
    style = rng.random()
    if value >= 1000 and value % 100 == 0 and style < 0.15:
        short = _short(value)
        return f"${short}" if rng.random() < 0.5 else f"{short} {rng.choice(('dollars', 'euros', 'USD'))}"
    if style < 0.45:
        symbol = rng.choice(_SYMBOLS)
        return symbol + _plain(value if symbol != "¥" else float(int(value) * 100), rng)
    if style < 0.65:
        return f"{_plain(value, rng)} {rng.choice(_CODES)}"
    if style < 0.8:
        return f"{rng.choice(_CODES)} {_plain(value, rng)}"
    if style < 0.95:
        return f"{_plain(value, rng, decimals=False)} {rng.choice(_WORDS)}"
    return _plain(value, rng, decimals=True)


# --- dates --------------------------------------------------------------------------------


def _absolute_date(rng: random.Random) -> str:
    month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.choice(_YEARS)
    style = rng.randrange(9)
    if style == 0:
        return f"{_month_name(rng, month)} {day}"
    if style == 1:
        return f"{_month_name(rng, month)} {ordinal(day)}"
    if style == 2:
        return f"{day} {_month_name(rng, month)}"
    if style == 3:
        return f"{year}-{month:02d}-{day:02d}"
    if style == 4:
        return f"{month:02d}/{day:02d}"
    if style == 5:
        return f"{month}/{day}"
    if style == 6:
        return f"the {ordinal(day)}"
    if style == 7:
        return f"{MONTHS[month - 1]} {day}, {year}"
    return f"{rng.choice(WEEKDAYS)} the {ordinal(day)}"


_FUTURE_RELATIVE = (
    "tomorrow", "today", "the day after tomorrow", "end of month", "next {weekday}", "this {weekday}",
    "next {weekday}", "{weekday}",
)  # fmt: skip
_PAST_RELATIVE = ("yesterday", "today", "last {weekday}", "the day before yesterday", "last {weekday}")


def _relative(rng: random.Random, forms: tuple[str, ...]) -> str:
    return rng.choice(forms).format(weekday=rng.choice(WEEKDAYS))


_SHORT_WEEKDAYS = ("mon", "tue", "tues", "wed", "thu", "thurs", "fri", "Mon", "Tue", "Wed", "Thu", "Fri")
_SHORT_RELATIVE = ("tmrw", "tomorrow", "today", "tmr", "tonight")


def _short_day(rng: random.Random) -> str:
    """A day as typed in a hurry: "fri", "next fri", "tmrw", "thurs"."""
    if rng.random() < 0.3:
        return rng.choice(_SHORT_RELATIVE)
    day = rng.choice(_SHORT_WEEKDAYS)
    return day if rng.random() < 0.7 else f"{rng.choice(('next', 'this'))} {day}"


def date(rng: random.Random, variant: str = "") -> str:
    """A single day. Variants fit the words around the slot.

    ``on``: after "on" (absolute dates and weekdays); ``past``: no preposition, the day
    lies behind us ("yesterday", "March 3"); ``short``: terse requests ("pto fri",
    "off tmrw"); default: no preposition or after "for"/"by"/"due", any day ("tomorrow",
    "next Friday", "03/15").
    """
    if variant == "short":
        return _short_day(rng)
    if variant == "on":
        return rng.choice(WEEKDAYS) if rng.random() < 0.2 else _absolute_date(rng)
    if variant == "past":
        return _relative(rng, _PAST_RELATIVE) if rng.random() < 0.5 else _absolute_date(rng)
    return _relative(rng, _FUTURE_RELATIVE) if rng.random() < 0.45 else _absolute_date(rng)


def _span_range(rng: random.Random) -> str:
    """A range written as its two ends ("March 3 to 7"), which reads right after "from"."""
    month, start = rng.randint(1, 12), rng.randint(1, 20)
    end = start + rng.randint(1, 8)
    name, abbreviation = MONTHS[month - 1], MONTH_ABBREVIATIONS[month - 1]
    next_abbreviation = MONTH_ABBREVIATIONS[month % 12]
    year = rng.choice(_YEARS)
    joiner = rng.choice(("to", "through", "until", "-", "to", "thru"))
    forms = (
        f"{name} {start} {joiner} {end}" if joiner != "-" else f"{name} {start}-{end}",
        f"{abbreviation} {start} {joiner} {abbreviation} {end}",
        f"{abbreviation} {start}-{end}",
        f"{abbreviation} {rng.randint(20, 28)} - {next_abbreviation} {rng.randint(1, 6)}",
        f"{month}/{start} to {month}/{end}",
        f"{year}-{month:02d}-{start:02d} to {year}-{month:02d}-{end:02d}",
        f"{rng.choice(WEEKDAYS[:3])} to {rng.choice(WEEKDAYS[3:5])}",
        f"the {ordinal(start)} to the {ordinal(end)}",
        f"{name} {ordinal(start)} through the {ordinal(end)}",
    )
    return rng.choice(forms)


_NAMED_RANGES = (
    "next week", "this week", "the week of {month} {day}", "the first week of {month}",
    "the last two weeks of {month}", "the rest of the week", "the next two weeks", "next month",
    "the whole of {month}", "next {weekday} through Friday",
)  # fmt: skip
_PAST_RANGES = (
    "last week", "the past 7 days", "the past two weeks", "the last 24 hours", "the last 30 days",
    "the past month", "earlier this week",
)  # fmt: skip


def date_range(rng: random.Random, variant: str = "") -> str:
    """A range of days, always one span.

    ``from``: after "from" ("March 3 to 7", never "next week"); ``past``: behind us
    ("last week", "Feb 3 to Feb 10"); default: any upcoming range.
    """
    if variant == "from":
        return _span_range(rng)
    if variant == "past":
        return rng.choice(_PAST_RANGES) if rng.random() < 0.55 else _span_range(rng)
    if rng.random() < 0.5:
        return _span_range(rng)
    return rng.choice(_NAMED_RANGES).format(
        month=rng.choice(MONTHS), day=rng.randint(1, 28), weekday=rng.choice(WEEKDAYS[:3])
    )


_PERIODS = (
    "Q{q}", "Q{q} {year}", "last month", "this month", "last quarter", "this quarter", "FY{year}",
    "FY{yy}", "H{h}", "H{h} {year}", "YTD", "year to date", "month to date", "last year", "this year",
    "{year}", "{month}", "{month} {year}", "week {week}", "Q{q} FY{yy}",
)  # fmt: skip


def period(rng: random.Random) -> str:
    """A reporting period ("Q3", "FY2026", "last month")."""
    year = rng.choice((2024, 2025, 2026, 2027))
    return rng.choice(_PERIODS).format(
        q=rng.randint(1, 4), year=year, yy=year % 100, h=rng.randint(1, 2), month=rng.choice(MONTHS),
        week=rng.randint(1, 52),
    )  # fmt: skip


def quantity(rng: random.Random) -> str:
    """The number only; unit words stay outside the span."""
    band = rng.random()
    if band < 0.4:
        return str(rng.randint(1, 50))
    if band < 0.8:
        return str(rng.randint(5, 99) * 10)
    value = rng.randint(10, 200) * 100
    return f"{value:,}" if rng.random() < 0.5 else str(value)


_DURATIONS = (
    "{m} minutes", "{m} mins", "{m} min", "{h} hours", "{h} hrs", "an hour", "half an hour", "1 hour",
    "90 minutes", "{h}.5 hours", "an hour and a half", "{d} days", "a day", "15 minutes", "45 minutes",
    "{mw} minutes", "{hw} hours", "{dw} days",
)  # fmt: skip
_MINUTE_WORDS = ("ten", "fifteen", "twenty", "thirty", "forty five", "forty")
_COUNT_WORDS = ("two", "three", "four", "five")


def duration(rng: random.Random) -> str:
    """A length of time, in digits or in words ("30 mins", "an hour", "two hours")."""
    return rng.choice(_DURATIONS).format(
        m=rng.choice((10, 15, 20, 25, 30, 40, 45, 60)), h=rng.randint(2, 4), d=rng.randint(2, 5),
        mw=rng.choice(_MINUTE_WORDS), hw=rng.choice(_COUNT_WORDS[:3]), dw=rng.choice(_COUNT_WORDS),
    )  # fmt: skip


# --- identifiers --------------------------------------------------------------------------


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(count - 1))


def _hex(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(count))


def invoice_id(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.6:
        return f"INV-{_digits(rng, rng.randint(4, 6))}"
    if style < 0.75:
        return f"inv-{_digits(rng, rng.randint(4, 5))}"
    if style < 0.9:
        return f"INV-{rng.choice(_YEARS)}-{rng.randint(1, 999):04d}"
    return f"INV{_digits(rng, 5)}"


def po_number(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.6:
        return f"PO-{_digits(rng, 5)}"
    if style < 0.75:
        return f"po-{_digits(rng, rng.randint(4, 5))}"
    if style < 0.9:
        return f"PO{_digits(rng, 6)}"
    return f"PO-{rng.choice(_YEARS)}-{rng.randint(1, 999):03d}"


def ticket_id(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.45:
        return f"TCK-{_digits(rng, 4)}"
    if style < 0.6:
        return f"#{_digits(rng, rng.randint(4, 5))}"
    if style < 0.7:
        return f"tck-{_digits(rng, 4)}"
    return f"{rng.choice(('CS', 'SUP', 'TKT', 'HD'))}-{_digits(rng, rng.randint(4, 5))}"


def request_id(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"REQ-{_hex(rng, 6)}"
    if style < 0.65:
        return f"req-{_hex(rng, 8)}"
    if style < 0.85:
        variant = rng.choice("89ab")
        return f"{_hex(rng, 8)}-{_hex(rng, 4)}-4{_hex(rng, 3)}-{variant}{_hex(rng, 3)}-{_hex(rng, 12)}"
    return f"REQ-{_digits(rng, 5)}"


def tracking_number(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.4:  # UPS
        shipper = "".join(rng.choice(string.digits + string.ascii_uppercase) for _ in range(6))
        return f"1Z{shipper}{rng.randint(1, 99):02d}{_digits(rng, 8)}"
    if style < 0.65:  # USPS
        return f"9400{_digits(rng, 18)}"
    if style < 0.85:  # FedEx
        return _digits(rng, 12)
    return f"JD{_digits(rng, 16)}"  # DHL


def sku(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"SKU-{_digits(rng, 5)}"
    if style < 0.6:
        return f"sku-{_digits(rng, 5)}"
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(2, 3)))
    if style < 0.85:
        return f"{letters}-{_digits(rng, 4)}-{rng.choice(string.ascii_uppercase)}"
    return f"{letters}-{_digits(rng, 3)}-{rng.choice(('BLK', 'WHT', 'RED', 'LG', 'SM', 'XL'))}"
