"""JSON, XML and CSV conversion: round trips, and untrusted XML refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from eas_pipelines.transform import (
    UnsafeXMLError,
    XMLFormatError,
    convert,
    flatten,
    from_csv,
    from_json,
    from_xml,
    to_csv,
    to_json,
    to_xml,
    unflatten,
)

NESTED = {
    "VendorRef": {"value": "56", "name": "Acme & Sons <UK>"},
    "Line": [{"Amount": Decimal("100.25"), "Tags": ["a", "b"]}, {"Amount": 50, "Note": None}],
    "Paid": False,
    "Rate": 0.5,
    "Empty": [],
    "Blank": {},
    "Text": "  spaced  ",
}


def test_json_keeps_amounts_exact() -> None:
    text = to_json({"amount": Decimal("0.10"), "day": date(2024, 3, 15), "n": 3})
    assert text == '{"amount": 0.1, "day": "2024-03-15", "n": 3}'
    assert from_json('{"amount": 0.10}') == {"amount": Decimal("0.10")}


def test_xml_round_trip_keeps_types() -> None:
    text = to_xml(NESTED, root="Bill")
    assert text.startswith("<Bill>") and "&amp; Sons &lt;UK&gt;" in text
    assert from_xml(text) == NESTED


def test_xml_from_outside_reads_repeated_tags_as_lists() -> None:
    assert from_xml("<r><x>1</x><x>2</x><x>3</x><y>a</y></r>") == {"x": ["1", "2", "3"], "y": "a"}


def test_xml_refuses_unusable_keys_and_bad_input() -> None:
    with pytest.raises(XMLFormatError, match="not a usable XML element name"):
        to_xml({"1bad": 1})
    with pytest.raises(XMLFormatError, match="not well formed"):
        from_xml("<r><x></r>")
    with pytest.raises(XMLFormatError, match="marked int"):
        from_xml('<r type="int">x</r>')


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<r>&secret;</r>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE, b'<!DOCTYPE r SYSTEM "http://x/r.dtd"><r/>'])
def test_untrusted_xml_with_entities_or_dtd_is_refused(payload: str | bytes) -> None:
    with pytest.raises(UnsafeXMLError, match="DTDs, entities and external references are not allowed"):
        from_xml(payload)


def test_flatten_and_unflatten() -> None:
    record = {"a": {"b": 1}, "l": [{"x": 2}, {"x": 3}], "s": "t"}
    assert flatten(record) == {"a.b": 1, "l.0.x": 2, "l.1.x": 3, "s": "t"}
    assert unflatten(flatten(record)) == record
    with pytest.raises(ValueError, match="column separator"):
        flatten({"a.b": 1})


def test_csv_round_trip_of_nested_records() -> None:
    records = [
        {"VendorRef": {"value": "56", "name": "Acme, Inc."}, "Line": [{"Amount": "10"}, {"Amount": "20"}]},
        {"VendorRef": {"value": "7"}, "Line": [{"Amount": "5"}], "Memo": 'say "hi"\nbye'},
    ]
    text = to_csv(records)
    assert text.splitlines()[0] == "VendorRef.value,VendorRef.name,Line.0.Amount,Line.1.Amount,Memo"
    assert from_csv(text) == records
    assert from_csv("") == []


def test_csv_values_come_back_as_strings_the_models_accept() -> None:
    bill = {
        "VendorRef": {"value": "56"},
        "Line": [{"Amount": 12.5, "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}}}],
        "TxnDate": "2024-03-15",
        "DocNumber": "INV-1",
    }
    [restored] = from_csv(to_csv([bill]))
    assert restored["Line"][0]["Amount"] == "12.5"
    assert convert(restored, source="quickbooks", target="quickbooks") == convert(
        bill, source="quickbooks", target="quickbooks"
    )
