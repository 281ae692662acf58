"""Normalisation rules: each documented spelling, and refusals that name the input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from eas_pipelines.transform.normalize import (
    company_key,
    normalize_company_name,
    normalize_currency,
    normalize_person_name,
    normalize_whitespace,
    parse_amount,
    parse_date,
    parse_money,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [("USD", "USD"), ("usd", "USD"), (" eur ", "EUR"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"),
     ("¥", "JPY"), ("C$", "CAD"), ("euros", "EUR"), ("chf", "CHF")],
)  # fmt: skip
def test_currency_spellings_give_the_iso_code(text: str, code: str) -> None:
    assert normalize_currency(text) == code


@pytest.mark.parametrize("text", ["XYZ", "dollars and cents", "", "US"])
def test_unknown_currency_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="currency"):
        normalize_currency(text)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12,400.50", "12400.50", None),
        ("1.234,56 EUR", "1234.56", "EUR"),
        ("$12,400", "12400", "USD"),
        ("12.400,00", "12400.00", None),
        ("1,234,567.891", "1234567.891", None),
        ("12,5", "12.5", None),
        ("0.125", "0.125", None),
        ("1.234", "1234", None),  # one separator + three digits: thousands
        ("1'234.50 CHF", "1234.50", "CHF"),
        ("€ 99", "99", "EUR"),
        ("(1,234.00)", "-1234.00", None),
        ("100.00-", "-100.00", None),
        ("-$12.00", "-12.00", "USD"),
        ("GBP 1 234,50", "1234.50", "GBP"),
        ("42", "42", None),
    ],
)
def test_amount_rules(text: str, amount: str, currency: str | None) -> None:
    assert parse_money(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["abc", "1,23,4", "$", "12 EUR USD", "1.2.3,4,5", ""])
def test_unreadable_amounts_are_refused_naming_the_input(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_amount(text)


def test_numbers_are_amounts_without_float_noise() -> None:
    assert parse_amount(0.1) == Decimal("0.1")
    assert parse_amount(7) == Decimal(7)
    with pytest.raises(ValueError):
        parse_amount(float("nan"))
    with pytest.raises(ValueError):
        parse_amount(True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-03-15T23:10:00Z", date(2024, 3, 15)),
        ("20240315", date(2024, 3, 15)),
        ("15.03.2024", date(2024, 3, 15)),
        ("03.04.2024", date(2024, 4, 3)),  # dotted: day first
        ("03/04/2024", date(2024, 3, 4)),  # slashed: month first by default
        ("March 15, 2024", date(2024, 3, 15)),
        ("15 Mar 2024", date(2024, 3, 15)),
        ("/Date(1710460800000)/", date(2024, 3, 15)),  # SAP OData V2
        ("/Date(1710460800000+0000)/", date(2024, 3, 15)),
    ],
)
def test_date_rules(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_dayfirst_reads_slashed_dates_the_european_way() -> None:
    assert parse_date("03/04/2024", dayfirst=True) == date(2024, 4, 3)


@pytest.mark.parametrize("text", ["March 2024", "", "32/01/2024", "not a date", "20241399"])
def test_incomplete_or_invalid_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


def test_names() -> None:
    assert normalize_whitespace("  a \t b\n c ") == "a b c"
    assert normalize_person_name("  JANE   O'NEIL-SMITH ") == "Jane O'Neil-Smith"
    assert normalize_person_name("jan van der berg") == "Jan van der Berg"
    assert normalize_person_name("Ronald  McDonald") == "Ronald McDonald"  # mixed case kept
    assert normalize_company_name("ACME  corp.") == "ACME Corp"
    assert normalize_company_name("Acme Co., Ltd.") == "Acme Co Ltd"
    assert normalize_company_name("Acme, incorporated") == "Acme Inc"
    assert normalize_company_name("Company") == "Company"


def test_company_key_matches_spellings_of_one_company() -> None:
    spellings = ["ACME Corp.", "Acme Corporation", "acme, inc", "Acme Co., Ltd.", "  ACME  "]
    assert {company_key(s) for s in spellings} == {"acme"}
    assert company_key("Müller & Söhne GmbH") == "muller and sohne"
    assert company_key("Company") == "company"
    assert company_key("Acme Widgets") != company_key("Acme")
