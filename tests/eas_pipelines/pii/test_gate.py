"""The gate before the analyzer: PII still found, the analyzer (and its phone recognizer) skipped
where nothing could be found, the cache bounded; checked by counting analyzer calls, not by timing."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator

import pytest

from eas_pipelines.pii import detect, gate, mask, mask_value, masking
from eas_pipelines.pii.engine import ENTITIES, LANGUAGE, PHONE_REGIONS, engines
from eas_pipelines.pii.gate import MIN_DIGITS, PHONE_SEPARATORS, candidate_entities, plausible_phone

PHONE = "PHONE_NUMBER"


@pytest.fixture
def analyzed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[str, ...]]]]:
    """Every call of the analyzer while the test runs: (text, entities asked for); cache cleared."""
    analyzer, _ = engines()
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = analyzer.analyze

    def spy(text: str, *args, **kwargs):
        calls.append((text, tuple(kwargs.get("entities") or ())))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(analyzer, "analyze", spy)
    masking._analyze_cached.cache_clear()
    yield calls
    masking._analyze_cached.cache_clear()


def ungated(text: str) -> set[tuple[str, int, int, float]]:
    """What masking found before the gate: every recognizer, then the phone plausibility filter."""
    analyzer, _ = engines()
    return {
        (r.entity_type, r.start, r.end, r.score)
        for r in analyzer.analyze(text, language=LANGUAGE, entities=list(ENTITIES))
        if r.entity_type != PHONE or plausible_phone(text, r.start, r.end)
    }


def found(text: str) -> set[tuple[str, int, int, float]]:
    return {(f.type, f.start, f.end, f.score) for f in detect(text)}


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("+44 20 7946 0958", PHONE),
        ("(212) 555-0187", PHONE),
        ("212.555.0187", PHONE),
        ("2125550187", PHONE),
        ("+1 212-555-0187", PHONE),
        ("16.88", PHONE),  # a German pager number: phonenumbers accepts four digits
        ("4111 1111 1111 1111", "CREDIT_CARD"),
        ("4111-1111-1111-1111", "CREDIT_CARD"),
        ("GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
        ("QA69DOHBABCDEFGHIJKLMNOPQRSTU", "IBAN_CODE"),  # two digits only: the check digits
        ("AB123456C", "UK_NINO"),
        ("078-05-1120", "US_SSN"),
        ("943 476 5919", "UK_NHS"),
        ("jane.doe@example.com", "EMAIL_ADDRESS"),
    ],
)
def test_pii_passes_the_gate_and_is_masked(
    value: str, kind: str, analyzed: list[tuple[str, tuple[str, ...]]]
) -> None:
    text = f"see {value} now"
    assert kind in candidate_entities(text)
    masked = mask(text)
    assert value not in masked and masked.startswith("see ") and masked.endswith(" now")
    assert any(kind in entities for _, entities in analyzed)
    assert found(text) == ungated(text)


def test_a_qatari_iban_of_letters_is_valid() -> None:
    """The IBAN above is made up: its check digits must still be right for the test to mean anything."""
    iban = "QA69DOHBABCDEFGHIJKLMNOPQRSTU"
    number = (iban[4:] + iban[:4]).translate({ord(c): str(int(c, 36)) for c in string.ascii_uppercase})
    assert int(number) % 97 == 1


@pytest.mark.parametrize(
    "text",
    [
        'Started execution of step "post_invoice".',
        'Finished execution of step "x" in 12.3ms.',
        "12.3ms",
        "2026-12-06T17:13:11.123456+00:00",
        "2026-12-07 08:00:01",
        "129.50",
        "amount 12,400.50 EUR",
        "INV-20491",
        "PO 4500000001",  # a valid German number, but only with its trunk prefix
        "Run 6b0d549b-6f03-475a-9600-a35a099950d8 succeeded.",
        "Started process for run (pid: 7749).",
        "vendor_id=100234 cost_center=1010",
    ],
)
def test_text_without_possible_pii_is_not_analyzed(
    text: str, analyzed: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert mask(text) == text
    assert mask_value({"value": text}) == {"value": text}
    assert analyzed == []
    assert ungated(text) == set()


@pytest.mark.parametrize(
    "text",
    ["ssn 219-09-9999 on file", "card 4111-1111-1111-1111 declined", "mail jane.doe@example.com now"],
)
def test_the_phone_recognizer_runs_only_where_a_number_could_be(
    text: str, analyzed: list[tuple[str, tuple[str, ...]]]
) -> None:
    mask(text)
    ((_, entities),) = analyzed
    assert entities and PHONE not in entities


def test_short_texts_are_analyzed_once_long_ones_each_time(
    analyzed: list[tuple[str, tuple[str, ...]]],
) -> None:
    short = "call (212) 555-0187"
    assert mask(short) == mask(short) == "call <PHONE_NUMBER>"
    assert len(analyzed) == 1
    long = short + " " + "x" * masking.CACHED_TEXT_LENGTH
    mask(long), mask(long)
    assert len(analyzed) == 3
    assert masking._analyze_cached.cache_info().maxsize == masking.CACHE_SIZE


def test_the_separators_are_those_of_phonenumbers() -> None:
    from phonenumbers.phonenumberutil import _VALID_PUNCTUATION

    def chars(body: str) -> set[str]:
        return {chr(c) for c in range(0x10000) if re.fullmatch(f"[{body}]", chr(c), re.IGNORECASE)}

    assert chars(PHONE_SEPARATORS) == chars(_VALID_PUNCTUATION)


def test_no_valid_phone_number_has_fewer_digits_than_the_gate_asks_for() -> None:
    """The gate's MIN_DIGITS: the shortest valid national number of the regions the recognizer
    reads (Germany's: four digits), and of any number written with its country code."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import SUPPORTED_REGIONS

    def shortest(region: str) -> int:
        metadata = PhoneMetadata.metadata_for_region(region)
        general = tuple(metadata.general_desc.possible_length or ())
        return (
            min(
                n
                for kind in gate._NUMBER_TYPES
                if (desc := getattr(metadata, kind, None)) is not None and desc.national_number_pattern
                for n in (tuple(desc.possible_length or ()) or general)
                if n > 0
            )
            if metadata is not None and metadata.general_desc is not None
            else 99
        )

    assert min(shortest(region) for region in PHONE_REGIONS) == MIN_DIGITS
    international = min(
        len(str(PhoneMetadata.metadata_for_region(r).country_code)) + shortest(r) for r in SUPPORTED_REGIONS
    )
    assert international >= MIN_DIGITS


def test_the_recognizer_reads_the_regions_the_gate_checks() -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    analyzer, _ = engines()
    (phone,) = [r for r in analyzer.registry.recognizers if isinstance(r, PhoneRecognizer)]
    assert tuple(phone.supported_regions) == PHONE_REGIONS == PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS


def test_the_matcher_internals_the_gate_uses_are_there() -> None:
    """Without them the gate still works (it parses and validates only), but lets more through."""
    import phonenumbers
    from phonenumbers import phonenumbermatcher

    assert callable(getattr(phonenumbers.PhoneNumberMatcher("", "US"), "_parse_and_verify", None))
    assert callable(getattr(phonenumbermatcher, "_is_national_prefix_present_if_required", None))


# Differential check: generated text full of near-misses finds exactly what it found ungated.

_SEPARATORS = list(" -./()[]~x\u2013\u2014\u00a0") + [
    " - ",
    ") ",
    " (",
    "/ ",
    ". ",
    ", ",
    ":",
    "+",
    "#",
    " ext ",
]


def _generated(rnd: random.Random) -> str:
    def digits(n: int) -> str:
        return "".join(rnd.choice(string.digits) for _ in range(n))

    def groups() -> str:
        parts = [digits(rnd.randint(1, 5)) for _ in range(rnd.randint(1, 5))]
        return "".join(
            p + (rnd.choice(_SEPARATORS) if i < len(parts) - 1 else "") for i, p in enumerate(parts)
        )

    token = rnd.choice(
        [
            groups,
            groups,
            lambda: rnd.choice(["+1 ", "+44 ", "+49 ", "(+44) ", "+683 ", "0", "030 ", "16 "]) + groups(),
            lambda: f"({digits(3)}) {digits(3)}-{digits(4)}",
            lambda: digits(rnd.randint(4, 12)) + rnd.choice(["", " ext. 12", " x12", "# 448-87", "b", "T"]),
            lambda: f"{digits(3)}{rnd.choice('- .')}{digits(2)}{rnd.choice('- .')}{digits(4)}",
            lambda: f"2026-{digits(2)}-{digits(2)}T{digits(2)}:{digits(2)}:{digits(2)}.{digits(6)}+00:00",
            lambda: f"{digits(rnd.randint(1, 6))}{rnd.choice('.,')}{digits(2)}",
            lambda: "".join(rnd.choice("0123456789abcdef") for _ in range(8)) + "-" + digits(4),
            lambda: rnd.choice(["AB", "ce"]) + " " + digits(2) + " " + digits(2) + " " + digits(2) + " C",
        ]
    )
    return " ".join(token() for _ in range(rnd.choice([1, 1, 2, 3])))


def test_gated_analysis_finds_what_ungated_analysis_finds() -> None:
    rnd = random.Random(20261206)
    texts = [_generated(rnd) for _ in range(400)]
    differences = [(text, found(text) ^ ungated(text)) for text in texts if found(text) != ungated(text)]
    assert differences == []
    assert sum(1 for text in texts if any(kind == PHONE for kind, *_ in ungated(text))) > 50
