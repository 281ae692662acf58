"""SAP supplier and material numbers are not PII; real phone numbers next to them still are.

The numbers below are chosen to trip the analyzer: ``9123456789`` and ``4155550100`` are valid phone
numbers (an Indian mobile, a North American number), ``1000088995`` passes the NHS check digit, so
each is masked when nothing says it is a business number (asserted first, so that a test passing
here means the exemption did it, not a number the analyzer would have ignored anyway).
"""

from __future__ import annotations

import pytest

from eas_pipelines.pii import detect, mask, mask_value
from eas_pipelines.pii.business_ids import is_business_number, is_number_field

PHONE_LIKE = "9123456789"
US_PHONE_LIKE = "4155550100"
NHS_LIKE = "1000088995"


def test_the_numbers_used_here_do_read_as_pii_on_their_own() -> None:
    assert mask(PHONE_LIKE) == "<PHONE_NUMBER>"
    assert mask(f"call {US_PHONE_LIKE}") == "call <PHONE_NUMBER>"
    assert [f.type for f in detect(NHS_LIKE)] == []  # starts with 1000: an SAP number (below)
    assert mask("NHS 943 476 5919") == "NHS <UK_NHS>"  # a real NHS number, written as one


@pytest.mark.parametrize(
    "text",
    [
        f"vendor {PHONE_LIKE}",
        f"Supplier: {PHONE_LIKE}",
        f"SAP supplier number {US_PHONE_LIKE} has no open PO",
        f"vendor no. {US_PHONE_LIKE}",
        f'{{"Supplier": "{PHONE_LIKE}", "SupplierName": "Acme"}}',
        f"InvoicingParty eq '{PHONE_LIKE}'",
        f"material {PHONE_LIKE} is out of stock",
        f"posted {NHS_LIKE} today",  # SAP's 1000... number range, no word needed
        "vendor 1000012345 in the SAP payload",
    ],
)
def test_sap_supplier_and_material_numbers_are_left_alone(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("supplier Acme, call +1 415 555 0100", "supplier Acme, call <PHONE_NUMBER>"),
        ("vendor contact (415) 555-0100", "vendor contact <PHONE_NUMBER>"),
        (f"please call {US_PHONE_LIKE} about the vendor", "please call <PHONE_NUMBER> about the vendor"),
        (f"supplier 1000012345, phone {PHONE_LIKE}", "supplier 1000012345, phone <PHONE_NUMBER>"),
        (f"vendor +91 {PHONE_LIKE}", "vendor <PHONE_NUMBER>"),  # international form: a phone
        ("supplier card 4111 1111 1111 1111", "supplier card ****1111"),
    ],
)
def test_real_phone_numbers_and_cards_stay_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_sap_payload_fields_keep_their_numbers_and_other_fields_do_not() -> None:
    payload = {
        "Supplier": PHONE_LIKE,
        "InvoicingParty": int(US_PHONE_LIKE),
        "Material": "000000000000000042",  # 18 digits (an old material number): over ten, masked as usual
        "to_Item": [{"PurchaseOrder": "4500000001", "supplier_id": PHONE_LIKE}],
        "ContactPhone": PHONE_LIKE,
        "DocumentHeaderText": f"call {US_PHONE_LIKE}",
    }
    masked = mask_value(payload)
    assert masked["Supplier"] == PHONE_LIKE and masked["InvoicingParty"] == int(US_PHONE_LIKE)
    assert masked["to_Item"] == [{"PurchaseOrder": "4500000001", "supplier_id": PHONE_LIKE}]
    assert masked["ContactPhone"] == "<PHONE_NUMBER>"
    assert masked["DocumentHeaderText"] == "call <PHONE_NUMBER>"


def test_the_rules() -> None:
    assert is_number_field("Supplier", "17300001") and is_number_field("supplier_id", 1000012345)
    assert not is_number_field("Supplier", "Acme Corp") and not is_number_field("Phone", PHONE_LIKE)
    assert not is_number_field("Supplier", "12345678901")  # eleven digits is no SAP number
    text = f"x {PHONE_LIKE} vendor {PHONE_LIKE}"
    assert not is_business_number(text, 2, 12) and is_business_number(text, 20, 30)
    assert not is_business_number("supplier 12345678", 9, 17)  # not ten digits
