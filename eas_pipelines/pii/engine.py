"""The Presidio analyzer EAS masks with: pattern recognizers only, built once, nothing downloaded.

Why no NLP model: a spaCy model is a download at run time (forbidden, and hundreds of MB) and its
person-name guesses come from EAS's own NLP service instead (``extra_spans`` in
:func:`eas_pipelines.pii.masking.mask`). Presidio's :class:`NoOpNlpEngine` returns empty NLP
artifacts, so only the self-contained recognizers run: regex plus each one's checksum (Luhn for
cards, mod-97 for IBANs, the NHS check digit) or library validation (``phonenumbers``).

Two of Presidio's recognizers are adjusted, both tested:

* e-mail: Presidio validates the domain with ``tldextract``'s default extractor, which fetches the
  public-suffix list over the network the first time; ours uses the snapshot shipped inside
  ``tldextract`` (``suffix_list_urls=()``, no cache directory).
* US SSN: Presidio drops the published sample numbers (``078-05-1120``, ``123-45-6789``); a
  masker must not, since a real person was issued 078-05-1120 and a "sample" in a log is still a
  well-formed SSN. The other validity rules (no 000/666 area, no zero group) stay.

Only results scoring at least :data:`SCORE_THRESHOLD` count, which drops Presidio's "very weak"
SSN patterns (any 9 digits, 0.05) that would otherwise mask purchase-order numbers.
"""

from __future__ import annotations

import threading

import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine

LANGUAGE = "en"
SCORE_THRESHOLD = 0.4
"""Presidio's phone matches score 0.4, medium-strength patterns 0.5, validated checksums 1.0."""

_OFFLINE_TLDS = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer validating the domain against the bundled public-suffix snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDS(pattern_text).fqdn != ""


class MaskingSsnRecognizer(UsSsnRecognizer):
    """Presidio's SSN recognizer without its exemption of the published sample numbers."""

    SAMPLES = frozenset({"078051120", "123456789", "987654320"})

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(c for c in pattern_text if c.isdigit())
        if digits in self.SAMPLES and len(digits) != len(pattern_text):  # formatted: 078-05-1120
            return False
        return super().invalidate_result(pattern_text)


def recognizers() -> list[EntityRecognizer]:
    """One instance of each recognizer EAS uses (see :data:`ENTITIES` for what they find)."""
    return [
        OfflineEmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        MaskingSsnRecognizer(),
        UsItinRecognizer(),
        UkNinoRecognizer(),
        NhsRecognizer(),
    ]


ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "US_ITIN",
    "UK_NINO",
    "UK_NHS",
)
"""The types the pattern recognizers find; ``PERSON`` and others come only as extra spans."""

_lock = threading.Lock()
_engines: tuple[AnalyzerEngine, AnonymizerEngine] | None = None


def engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    """The process's analyzer and anonymizer, built on first use (a few seconds: imports, regexes)."""
    global _engines
    if _engines is None:
        with _lock:
            if _engines is None:
                registry = RecognizerRegistry(supported_languages=[LANGUAGE])
                for recognizer in recognizers():
                    registry.add_recognizer(recognizer)
                analyzer = AnalyzerEngine(
                    registry=registry,
                    nlp_engine=NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}]),
                    supported_languages=[LANGUAGE],
                    default_score_threshold=SCORE_THRESHOLD,
                )
                _engines = (analyzer, AnonymizerEngine())
    return _engines
