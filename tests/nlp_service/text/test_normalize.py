"""Normalised entity values, all against a fixed reference date: Saturday 2026-11-28."""

from __future__ import annotations

import json
import random
from datetime import date, datetime

import pytest

from nlp_service.text.normalize import normalize

REF = date(2026, 11, 28)  # a Saturday


def check(entity_type: str, cases: list[tuple[str, object]], reference: date = REF) -> None:
    """Every text normalises to its expected value (all failures reported at once)."""
    wrong = [
        (text, expected, got)
        for text, expected in cases
        if (got := normalize(entity_type, text, reference)) != expected
    ]
    assert not wrong, "\n".join(f"{t!r}: expected {e!r}, got {g!r}" for t, e, g in wrong)


def money(amount: float, currency: str | None) -> dict[str, object]:
    return {"amount": amount, "currency": currency}


def span(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def test_amount() -> None:
    check(
        "amount",
        [
            ("$12,400", money(12400.0, "USD")),
            ("12,400 USD", money(12400.0, "USD")),
            ("EUR 500", money(500.0, "EUR")),
            ("€1,250.50", money(1250.5, "EUR")),
            ("3.2k dollars", money(3200.0, "USD")),
            ("12.400,50 €", money(12400.5, "EUR")),
            ("£99.99", money(99.99, "GBP")),
            ("¥5000", money(5000.0, "JPY")),
            ("$1.5M", money(1_500_000.0, "USD")),
            ("2 million euros", money(2_000_000.0, "EUR")),
            ("500 canadian dollars", money(500.0, "CAD")),
            ("A$50", money(50.0, "AUD")),
            ("300 bucks", money(300.0, "USD")),
            ("1 200 €", money(1200.0, "EUR")),
            ("CHF 200", money(200.0, "CHF")),
            ("usd 12", money(12.0, "USD")),
            ("five hundred pounds", money(500.0, "GBP")),
            ("12,400", money(12400.0, None)),
            ("-$50", money(50.0, "USD")),
        ],
    )


def test_amount_without_a_number_or_beyond_reason_is_none() -> None:
    check("amount", [("$", None), ("dollars", None), ("", None), ("lots", None), ("9" * 40, None)])


def test_currency() -> None:
    check(
        "currency",
        [
            ("euros", "EUR"),
            ("usd", "USD"),
            ("£", "GBP"),
            ("$", "USD"),
            ("Canadian dollars", "CAD"),
            ("yen", "JPY"),
            ("SEK", "SEK"),
            ("TRY", "TRY"),  # upper case: any ISO 4217 code
            ("try", None),  # lower case: only common codes, "try" is a word
            ("shells", None),
        ],
    )


def test_date() -> None:
    check(
        "date",
        [
            ("March 3", "2027-03-03"),  # already passed this year: next year's
            ("Dec 3", "2026-12-03"),
            ("Nov 28", "2026-11-28"),  # today counts as the next occurrence
            ("2027-03-15", "2027-03-15"),
            ("03/15", "2027-03-15"),
            ("3/15/2027", "2027-03-15"),
            ("15/03/2027", "2027-03-15"),  # first number over 12: day/month
            ("15.03.2027", "2027-03-15"),
            ("12/1/26", "2026-12-01"),
            ("tomorrow", "2026-11-29"),
            ("today", "2026-11-28"),
            ("yesterday", "2026-11-27"),
            ("the day after tomorrow", "2026-11-30"),
            ("next Friday", "2026-12-04"),
            ("Friday", "2026-12-04"),
            ("this Friday", "2026-12-04"),
            ("Sat", "2026-11-28"),
            ("last Friday", "2026-11-27"),
            ("Friday next week", "2026-12-04"),
            ("in 3 days", "2026-12-01"),
            ("in two weeks", "2026-12-12"),
            ("a week from now", "2026-12-05"),
            ("3 days ago", "2026-11-25"),
            ("in a month", "2026-12-28"),
            ("the 5th", "2026-12-05"),
            ("the 31st", "2026-12-31"),
            ("end of month", "2026-11-30"),
            ("end of the year", "2026-12-31"),
            ("end of next month", "2026-12-31"),
            ("EOW", "2026-12-04"),  # end of week is Friday
            ("start of next month", "2026-12-01"),
            ("start of month", "2026-12-01"),
            ("Mar 3rd", "2027-03-03"),
            ("Mar. 3rd, 2027", "2027-03-03"),
            ("3rd of March", "2027-03-03"),
            ("Fri, Dec 4", "2026-12-04"),
            ("on Monday morning", "2026-11-30"),
            ("tomorrow at 3pm", "2026-11-29"),
            ("by Dec 1st.", "2026-12-01"),
            ("Feb 29", "2028-02-29"),  # waits for a leap year
        ],
    )


def test_next_weekday_is_next_weeks_and_bare_weekday_is_the_nearest() -> None:
    monday = date(2026, 11, 23)
    check("date", [("Friday", "2026-11-27"), ("next Friday", "2026-12-04"), ("Monday", "2026-11-23")], monday)


def test_unreadable_dates_are_none() -> None:
    check(
        "date",
        [
            ("", None),
            ("soon", None),
            ("Feb 30", None),
            ("13/13/2027", None),
            ("the 32nd", None),
            ("next week", None),  # a range, not a date
            ("7", None),  # a bare number is not a date
            ("in 999999 years", None),
        ],
    )


def test_date_range() -> None:
    check(
        "date_range",
        [
            ("March 3 to 7", span("2027-03-03", "2027-03-07")),
            ("Mar 3 through Mar 7", span("2027-03-03", "2027-03-07")),
            ("March 3-7", span("2027-03-03", "2027-03-07")),
            ("June 10 - 14", span("2027-06-10", "2027-06-14")),
            ("Dec 22 - Jan 2", span("2026-12-22", "2027-01-02")),  # crosses the year
            ("Dec 28 – 3", span("2026-12-28", "2027-01-03")),  # a bare end day before the start rolls on
            ("next week", span("2026-11-30", "2026-12-06")),  # Monday to Sunday
            ("this week", span("2026-11-23", "2026-11-29")),
            ("from the 3rd to the 7th", span("2026-12-03", "2026-12-07")),
            ("3/3 - 3/7", span("2027-03-03", "2027-03-07")),
            ("3/3-3/7", span("2027-03-03", "2027-03-07")),
            ("tomorrow until friday", span("2026-11-29", "2026-12-04")),
            ("friday until monday", span("2026-12-04", "2026-12-07")),
            ("between March 3 and 7", span("2027-03-03", "2027-03-07")),
            ("3-7 March", span("2027-03-03", "2027-03-07")),
            ("3 to 7 March 2027", span("2027-03-03", "2027-03-07")),
            ("2027-03-01 - 2027-03-05", span("2027-03-01", "2027-03-05")),
            ("Mar 3 - Mar 7 2028", span("2028-03-03", "2028-03-07")),
            ("Nov 25 - Dec 2", span("2026-11-25", "2026-12-02")),  # under way: keeps this year's
            ("from the 25th to the 30th", span("2026-11-25", "2026-11-30")),
            ("this weekend", span("2026-11-28", "2026-11-29")),
            ("next weekend", span("2026-12-05", "2026-12-06")),
            ("rest of the week", span("2026-11-28", "2026-11-29")),
            ("the week of Dec 14", span("2026-12-14", "2026-12-20")),
            ("next 3 days", span("2026-11-29", "2026-12-01")),
            ("March", span("2027-03-01", "2027-03-31")),
            ("last month", span("2026-10-01", "2026-10-31")),
            ("tomorrow", span("2026-11-29", "2026-11-29")),  # one day
        ],
    )


def test_range_under_way_keeps_the_current_occurrence() -> None:
    check("date_range", [("March 3 to 7", span("2027-03-03", "2027-03-07"))], date(2027, 3, 5))


def test_unreadable_date_ranges_are_none() -> None:
    check(
        "date_range",
        [
            ("", None),
            ("garbage to nonsense", None),
            ("Dec 22 2026 - Jan 2 2026", None),  # an explicit end before the start
            ("tomorrow until yesterday", None),
        ],
    )


def test_period() -> None:
    check(
        "period",
        [
            ("Q3", span("2026-07-01", "2026-09-30")),  # the reference year's quarter
            ("Q1", span("2026-01-01", "2026-03-31")),
            ("Q3 2025", span("2025-07-01", "2025-09-30")),
            ("2026 Q1", span("2026-01-01", "2026-03-31")),
            ("third quarter", span("2026-07-01", "2026-09-30")),
            ("Q1 FY27", span("2027-01-01", "2027-03-31")),
            ("FY2026", span("2026-01-01", "2026-12-31")),
            ("FY26", span("2026-01-01", "2026-12-31")),
            ("last fiscal year", span("2025-01-01", "2025-12-31")),
            ("this quarter", span("2026-10-01", "2026-12-31")),
            ("last quarter", span("2026-07-01", "2026-09-30")),
            ("last month", span("2026-10-01", "2026-10-31")),
            ("this month", span("2026-11-01", "2026-11-30")),
            ("next year", span("2027-01-01", "2027-12-31")),
            ("H2", span("2026-07-01", "2026-12-31")),
            ("first half of 2025", span("2025-01-01", "2025-06-30")),
            ("YTD", span("2026-01-01", "2026-11-28")),
            ("last 30 days", span("2026-10-29", "2026-11-27")),
            ("past 2 weeks", span("2026-11-14", "2026-11-27")),
            ("last 3 months", span("2026-08-01", "2026-10-31")),
            ("March", span("2026-03-01", "2026-03-31")),  # periods look back: this year's March
            ("2025", span("2025-01-01", "2025-12-31")),
            ("Nov 1 to Nov 15", span("2026-11-01", "2026-11-15")),
            ("Nov 1 to 15", span("2026-11-01", "2026-11-15")),  # ranges in periods look back too
            ("Monday to Friday", span("2026-11-23", "2026-11-27")),
            ("whenever", None),
            ("Q5", None),
            ("", None),
        ],
    )


def test_email() -> None:
    check(
        "email",
        [
            ("Dana@Acme.COM", "dana@acme.com"),
            (" dana.o'neil+hr@acme.co.uk,", "dana.o'neil+hr@acme.co.uk"),
            ("<bob@x.io>", "bob@x.io"),
            ("mailto:A@B.co", "a@b.co"),
            ("not an email", None),
            ("dana@", None),
        ],
    )


@pytest.mark.parametrize(
    ("entity_type", "text", "expected"),
    [
        ("invoice_id", "#4411", "4411"),
        ("invoice_id", "inv-1042,", "INV-1042"),
        ("ticket_id", "(tck-88)", "TCK-88"),
        ("po_number", "PO#7781", "PO#7781"),
        ("request_id", "req_55.", "REQ_55"),
        ("sku", "ab-12-x", "AB-12-X"),
        ("tracking_number", "1Z 999 AA1 01", "1Z999AA101"),
        ("sku", "---", None),
    ],
)
def test_ids(entity_type: str, text: str, expected: str | None) -> None:
    assert normalize(entity_type, text, REF) == expected


def test_quantity() -> None:
    check(
        "quantity",
        [
            ("250", 250),
            ("1,000", 1000),
            ("1.000", 1000),
            ("1.5k", 1500),
            ("twelve", 12),
            ("twenty five", 25),
            ("a dozen", 12),
            ("two hundred and ten", 210),
            ("3 laptops", 3),
            ("2.5", None),
            ("a", None),
            ("several", None),
        ],
    )


def test_duration() -> None:
    check(
        "duration",
        [
            ("30 minutes", 30),
            ("45m", 45),
            ("2 hours", 120),
            ("1.5 hrs", 90),
            ("an hour", 60),
            ("half an hour", 30),
            ("a half hour", 30),
            ("quarter of an hour", 15),
            ("an hour and a half", 90),
            ("two and a half hours", 150),
            ("1h30", 90),
            ("1 hour 30 minutes", 90),
            ("2:15", 135),
            ("about 20 mins", 20),
            ("2 days", 2880),
            ("30", None),
            ("hours", None),
            ("forever", None),
        ],
    )


def test_priority() -> None:
    check(
        "priority",
        [
            ("urgent", "P0"),
            ("critical", "P0"),
            ("P0", "P0"),
            ("sev1", "P0"),
            ("ASAP", "P0"),
            ("high", "P1"),
            ("high priority", "P1"),
            ("normal", "P1"),
            ("P1", "P1"),
            ("sev 2", "P1"),
            ("low", "P2"),
            ("P2", "P2"),
            ("P4", "P2"),
            ("whenever", "P2"),
            ("not urgent", "P2"),
            ("no rush", "P2"),
            ("banana", None),
        ],
    )


def test_leave_type() -> None:
    check(
        "leave_type",
        [
            ("Vacation", "vacation"),
            ("annual leave", "vacation"),
            ("holiday", "vacation"),
            ("sick leave", "sick"),
            ("maternity leave", "parental"),
            ("PTO", "pto"),
            ("paid time off", "pto"),
            ("bereavement leave", "bereavement"),
            ("Study Leave", "study leave"),
        ],
    )


def test_other_types_are_cleaned_text() -> None:
    check(
        "vendor",
        [
            ("  Acme Inc. ", "Acme Inc."),
            ("(Acme)", "Acme"),
            ('"Globex",', "Globex"),
            ("   ", None),
            ("", None),
        ],
    )
    assert normalize("employee", "Zoë \t Müller", REF) == "Zoë Müller"
    assert normalize("channel", "#general", REF) == "#general"
    assert normalize("some_new_type", " x ", REF) == "x"


def test_datetime_reference_is_used_as_its_date() -> None:
    assert normalize("date", "tomorrow", datetime(2026, 11, 28, 23, 59)) == "2026-11-29"


_TYPES = [
    "amount",
    "currency",
    "date",
    "date_range",
    "period",
    "email",
    "invoice_id",
    "tracking_number",
    "quantity",
    "duration",
    "priority",
    "leave_type",
    "vendor",
]
_GARBAGE = [
    "",
    " ",
    "\x00",
    "🎉",
    "-",
    "--",
    "$$$",
    "9" * 500,
    "in 99999999 years",
    "1e400",
    "Feb 31 - Feb 30",
]


@pytest.mark.parametrize("entity_type", _TYPES)
def test_garbage_never_raises_and_values_are_json(entity_type: str) -> None:
    rng = random.Random(entity_type)
    alphabet = "aeiouxyz019 ,.-/$€£:#'()🎉Q"
    texts = _GARBAGE + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(300)]
    for text in texts:
        value = normalize(entity_type, text, REF)
        json.dumps(value, allow_nan=False)
    assert normalize(entity_type, None, REF) is None  # type: ignore[arg-type]


def test_overlong_text_is_not_parsed_but_strings_are_kept() -> None:
    long_range = "March 3 - " + "- " * 60 + "7"
    assert normalize("date_range", long_range, REF) is None
    assert normalize("vendor", "Acme " * 40, REF) == ("Acme " * 40).strip()
    long_email = "a" * 60 + "@" + "b" * 60 + ".com"
    assert normalize("email", long_email, REF) == long_email


@pytest.mark.parametrize("entity_type", ["amount", "date", "date_range", "period", "quantity", "duration"])
def test_gibberish_is_none(entity_type: str) -> None:
    assert normalize(entity_type, "blorp glarb", REF) is None
