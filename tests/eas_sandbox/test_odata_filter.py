"""The OData V2 ``$filter`` evaluator the SAP emulator uses: literals, types, null, precedence, limits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from eas_sandbox.vendors.odata_filter import (
    BOOLEAN,
    DATETIME,
    DECIMAL,
    STRING,
    Term,
    matches,
    parse_filter,
    parse_odata_datetime,
    stored_datetime,
    string_equalities,
)

PROPERTIES = {"Name": STRING, "Amount": DECIMAL, "Posted": DATETIME, "Final": BOOLEAN}
JULY_1 = datetime(2025, 7, 1, tzinfo=UTC)


def _row(
    name: str = "", amount: str | None = None, posted: datetime | None = None, final: bool | None = None
):
    row: dict = {"Name": name}
    if amount is not None:
        row["Amount"] = amount
    if posted is not None:
        row["Posted"] = f"/Date({int(posted.timestamp() * 1000)})/"
    if final is not None:
        row["Final"] = final
    return row


def test_literals_take_the_property_type():
    (conjunction,) = parse_filter(
        PROPERTIES,
        "Name eq 'O''Brien' and Amount ge 12.5M and Posted lt datetime'2025-07-01T00:00' and Final ne true",
    )
    assert conjunction == (
        Term("Name", "eq", "O'Brien", STRING),
        Term("Amount", "ge", Decimal("12.5"), DECIMAL),
        Term("Posted", "lt", JULY_1, DATETIME),
        Term("Final", "ne", True, BOOLEAN),
    )


def test_dates_are_instants_in_utc():
    assert parse_odata_datetime("2025-07-01T02:00:00+02:00") == JULY_1
    assert parse_odata_datetime("2025-06-30T23:59:59.9999999") == datetime(
        2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert stored_datetime("/Date(1751328000000)/") == JULY_1
    assert stored_datetime("/Date(1751328000000+0000)/") == JULY_1
    assert stored_datetime("") is None and stored_datetime(None) is None


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("Amount eq 2000", _row(amount="2000.00"), True),
        ("Amount gt 999.99", _row(amount="1000"), True),
        ("Amount lt 10", _row(amount="9.5"), True),
        ("Amount lt 10", _row(), False),  # null is neither less nor more
        ("Amount ne 10", _row(), True),  # but it is not 10
        ("Posted ge datetime'2025-07-01T00:00:00'", _row(posted=JULY_1), True),
        ("Posted gt datetime'2025-07-01T00:00:00'", _row(posted=JULY_1), False),
        ("Posted le datetimeoffset'2025-07-01T00:00:00Z'", _row(posted=JULY_1), True),
        ("Posted le datetime'2025-07-01T00:00:00'", _row(), False),
        ("Name gt 'B'", _row("Bob"), True),
        ("Name lt 'B'", _row("Bob"), False),
        ("Name eq ''", _row(), True),  # a missing string reads as ''
        ("Final eq false", _row(final=False), True),
        ("Final eq false", _row(), False),
        ("Name eq 'a' or Amount gt 1 and Final eq true", _row("x", amount="2", final=True), True),
        ("(Name eq 'a' or Amount gt 1) and Final eq true", _row("a", amount="0", final=False), False),
    ],
)
def test_comparisons(text, row, expected):
    assert matches(row, parse_filter(PROPERTIES, text)) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Amount gt 'x'",
        "Amount gt 'NaN'",
        "Posted gt '2025-07-01'",
        "Posted gt datetime'2025-02-30T00:00:00'",
        "Final lt true",
        "Final eq 'true'",
        "Name eq null",
        "Name lk 'a'",
        "Other eq 'a'",
        "Amount gt 1x",
    ],
)
def test_what_is_not_understood_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_filter(PROPERTIES, text)


def test_only_string_equalities_narrow_the_store_read():
    (conjunction,) = parse_filter(
        PROPERTIES, "Name eq 'A' and Amount eq 5 and Posted ge datetime'2025-07-01T00:00'"
    )
    assert string_equalities(conjunction) == {"Name": "A"}
    (ranges,) = parse_filter(PROPERTIES, "Name ge 'A' and Name ne 'B' and Name eq ''")
    assert string_equalities(ranges) == {}
