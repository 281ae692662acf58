"""Detection and masking: canary PII never survives, cleared types pass, ordinary text is untouched."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from eas_pipelines.pii import Clearance, Finding, detect, for_system, mask, mask_value

EMAIL = "jane.doe@example.com"
PHONE = "+1 212-555-0187"
CARD = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"
SSN = "078-05-1120"
NINO = "AB 12 34 56 C"
CANARIES = {
    "EMAIL_ADDRESS": EMAIL,
    "PHONE_NUMBER": PHONE,
    "CREDIT_CARD": CARD,
    "IBAN_CODE": IBAN,
    "US_SSN": SSN,
    "UK_NINO": NINO,
}
TEXT = (
    f"Please pay {EMAIL} (call {PHONE}) by card {CARD} or to {IBAN}; SSN {SSN}, NINO {NINO}. "
    "Invoice INV-1042 for $12,400 dated 2024-03-15."
)


def leaked(masked: str) -> list[str]:
    """Canaries found in ``masked``, also with their separators removed (4111111111111111)."""
    squeeze = masked.replace(" ", "").replace("-", "")
    return [v for v in CANARIES.values() if v in masked or v.replace(" ", "").replace("-", "") in squeeze]


def test_canaries_never_appear_in_masked_text() -> None:
    masked = mask(TEXT)
    assert leaked(masked) == []
    for kind in ("EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "US_SSN", "UK_NINO"):
        assert f"<{kind}>" in masked
    assert "****1111" in masked  # cards keep their last four digits
    assert masked.endswith("Invoice INV-1042 for $12,400 dated 2024-03-15.")


def test_compact_and_dashed_spellings_are_masked_too() -> None:
    masked = mask("card 4111-1111-1111-1111, 4111111111111111; iban GB82WEST12345698765432; ssn 078 05 1120")
    assert "4111" not in masked.replace("****1111", "")
    assert "GB82" not in masked and "078" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "Invoice INV-1042 for $12,400 dated 2024-03-15",
        "Amount 12,400.50 EUR, PO 4500012345, due 15/04/2024",
        "Reference 1234 5678 9012 3456 is not a card (no Luhn)",
        "Quantity 9 at 1,250.00 each; cost centre 1010; order 123456789",
        "The vendor Acme Corp asked about their payment.",
    ],
)
def test_ordinary_text_amounts_and_ids_are_not_masked(text: str) -> None:
    assert mask(text) == text
    assert detect(text) == []


def test_a_non_luhn_sixteen_digit_number_is_not_a_card() -> None:
    assert mask("card 4111 1111 1111 1112") == "card 4111 1111 1111 1112"
    assert mask("card 4111 1111 1111 1111") == "card ****1111"


def test_detect_reports_type_position_and_score() -> None:
    findings = detect(f"mail {EMAIL} now")
    assert findings == [Finding("EMAIL_ADDRESS", 5, 5 + len(EMAIL), 1.0)]
    types = {f.type for f in detect(TEXT)}
    assert set(CANARIES) <= types


def test_extra_spans_from_the_nlp_service_are_masked() -> None:
    text = "Jane Doe asked for leave; manager Raj Patel approved."
    spans = [(0, 8, "PERSON"), (34, 43, "person")]
    assert mask(text, extra_spans=spans) == "<PERSON> asked for leave; manager <PERSON> approved."
    assert mask(text, extra_spans=spans, allowed=frozenset({"PERSON"})) == text
    with pytest.raises(ValueError, match="outside the text"):
        mask(text, extra_spans=[(0, 999, "PERSON")])


def test_allowed_types_pass_others_do_not() -> None:
    masked = mask(TEXT, allowed=frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"}))
    assert EMAIL in masked and PHONE in masked
    assert CARD not in masked and IBAN not in masked and SSN not in masked


def test_mask_value_recurses_over_payloads() -> None:
    payload = {
        "requester": {"email": EMAIL, "phones": [PHONE, "n/a"]},
        "notes": ("SSN " + SSN, 42),
        "card_number": 4111111111111111,
        EMAIL: "keys too",
        "amount": 12400.5,
        "approved": True,
    }
    masked = mask_value(payload)
    assert masked["requester"] == {"email": "<EMAIL_ADDRESS>", "phones": ["<PHONE_NUMBER>", "n/a"]}
    assert masked["notes"] == ("SSN <US_SSN>", 42)
    assert masked["card_number"] == "****1111"
    assert masked["<EMAIL_ADDRESS>"] == "keys too"
    assert (masked["amount"], masked["approved"]) == (12400.5, True)
    assert leaked(repr(masked)) == []


CLEARANCES = Clearance({"workday": {"EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER"}, "quickbooks": {"IBAN_CODE"}})


def test_for_system_masks_what_the_system_is_not_cleared_for() -> None:
    payload = {"text": TEXT}
    hr = for_system(payload, "workday", CLEARANCES)["text"]
    assert EMAIL in hr and PHONE in hr and SSN not in hr and CARD not in hr
    books = for_system(payload, "quickbooks", CLEARANCES)["text"]
    assert IBAN in books and EMAIL not in books
    unknown = for_system(payload, "slack", CLEARANCES)["text"]
    assert leaked(unknown) == []


def test_no_system_can_be_cleared_for_cards() -> None:
    with pytest.raises(ValueError, match="cannot be cleared for"):
        Clearance({"salesforce": {"credit_card"}})


def test_masking_a_short_sentence_takes_milliseconds() -> None:
    mask(TEXT)  # the analyzer is built once per process
    start = time.perf_counter()
    for _ in range(10):
        mask(f"Send the receipt to {EMAIL} please")
    assert (time.perf_counter() - start) / 10 < 0.05
    start = time.perf_counter()
    for _ in range(100):
        mask("Request approved by the manager")  # no digit, no @: no analysis at all
    assert (time.perf_counter() - start) / 100 < 0.001


def test_cards_are_masked_even_when_allowed() -> None:
    assert mask(f"card {CARD}", allowed=frozenset({"CREDIT_CARD"})) == "card ****1111"
    assert mask_value({"card": CARD}, allowed=frozenset({"CREDIT_CARD"})) == {"card": "****1111"}


def test_importing_and_the_fast_path_do_not_import_presidio() -> None:
    """Every layer imports this package: Presidio and spaCy (seconds) load only when text needs them."""
    code = (
        "import sys\n"
        "from eas_pipelines.pii import PiiLogFilter, mask, mask_value\n"
        "assert mask('Request approved by the manager') == 'Request approved by the manager'\n"
        "assert mask_value({'status': 'approved', 'ok': True}) == {'status': 'approved', 'ok': True}\n"
        "heavy = ('presidio_analyzer', 'presidio_anonymizer', 'spacy')\n"
        "loaded = sorted(m for m in heavy if m in sys.modules)\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    [
        "at 2026-12-06T05:21:43.169518 ok",
        "at 2028-08-20 22:43:16.957+00:00 ok",
        "at 2030-08-13T02:04:20.030533+00:00 ok",
        "latency 916269.835505 ms",
        "employee 344275, badge 1644240",
    ],
)
def test_timestamps_floats_and_ids_are_not_phone_numbers(text: str) -> None:
    assert mask(text) == text
    assert mask_value({"employee_id": 344275}) == {"employee_id": 344275}


@pytest.mark.parametrize(
    "phone",
    ["+1 212-555-0187", "(212) 555-0187", "2125550187", "+44 20 7946 0958", "07700 900123", "212.555.0187"],
)
def test_phone_numbers_as_people_write_them_are_masked(phone: str) -> None:
    assert mask(f"call {phone} now") == "call <PHONE_NUMBER> now"
