"""The Presidio analyzer EAS masks with: pattern recognizers only, built once, nothing downloaded.

Why no NLP model: a spaCy model is a download at run time (forbidden, and hundreds of MB) and its
person-name guesses come from EAS's own NLP service instead (``extra_spans`` in
:func:`eas_pipelines.pii.masking.mask`). Presidio's :class:`NoOpNlpEngine` returns empty NLP
artifacts, so only the self-contained recognizers run: regex plus each one's checksum (Luhn for
cards, mod-97 for IBANs, the NHS check digit) or library validation (``phonenumbers``). The two
recognizers EAS adjusts are in :mod:`eas_pipelines.pii.recognizers`.

Why Presidio is imported inside :func:`engines`: importing it (and spaCy with it) takes seconds,
and every layer of EAS imports this package; a process pays that only when it first masks text
that might hold PII (see :func:`eas_pipelines.pii.gate.might_hold_pii`), not when it merely
imports the package. The build hides ``torch`` and ``transformers`` from Presidio's optional-dependency
probes (:mod:`eas_pipelines.pii.import_guard`): loading them was most of the build's seconds, and the
pattern-only analyzer uses neither.

Only results scoring at least :data:`SCORE_THRESHOLD` count, which drops Presidio's "very weak"
SSN patterns (any 9 digits, 0.05) that would otherwise mask purchase-order numbers.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

LANGUAGE = "en"
SCORE_THRESHOLD = 0.4
"""Presidio's phone matches score 0.4, medium-strength patterns 0.5, validated checksums 1.0."""

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

PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")
"""The regions whose national-format numbers the phone recognizer finds (Presidio's default set);
named here because :mod:`eas_pipelines.pii.gate` checks numbers against the same regions."""

_lock = threading.Lock()
_building = threading.local()
_engines: tuple[AnalyzerEngine, AnonymizerEngine] | None = None


def engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    """The process's analyzer and anonymizer, built on first use (a few seconds: imports, regexes)."""
    global _engines
    if _engines is None:
        if getattr(_building, "active", False):
            raise RuntimeError("the PII engines were asked for while this thread is building them")
        with _lock:
            if _engines is None:
                _building.active = True
                try:
                    _engines = _build()
                finally:
                    _building.active = False
    return _engines


def _build() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    from eas_pipelines.pii.import_guard import without_deep_learning

    with without_deep_learning():
        return _build_presidio()


def _build_presidio() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_anonymizer import AnonymizerEngine

    from eas_pipelines.pii.recognizers import recognizers

    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in recognizers():
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}]),
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
    )
    return analyzer, AnonymizerEngine()
