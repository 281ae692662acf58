"""Detecting and masking PII in text, payloads and per-system clearances.

Why masking at EAS's edges: requests, audit entries and logs carry what people typed (e-mails,
card numbers, bank details) and each enterprise system may only see what it is cleared for. The
replacement says what was there without keeping any of it: ``<EMAIL_ADDRESS>``, ``<US_SSN>``;
cards keep their last four digits (``****1111``, the most PCI DSS allows to be shown) so a
reviewer can still tell two cards apart. Overlapping findings are both masked (the union of
their spans); a type the caller is cleared for is left as written.

Most text cannot hold any type EAS detects, and the analyzer is costly (the phone recognizer
runs ``phonenumbers``' matcher once per region), so :mod:`eas_pipelines.pii.gate` decides first,
from cheap regex checks, which recognizers could find anything: text with no ``@``, no four digits
close together and no IBAN start skips the analyzer (and the import of Presidio) altogether
(``Finished execution of step "x" in 12.3ms.``); other text is analyzed only for the types it
could hold, the phone recognizer only where a piece of digits passes ``plausible_phone`` and is a
valid number of a supported region. Each check is a necessary condition of a finding, so nothing
the analyzer would find is skipped. Short texts (audit values: codes, names, amounts) repeat, so
their findings are cached (bounded: :data:`CACHED_TEXT_LENGTH`, :data:`CACHE_SIZE`). Extra spans
always apply. SAP's supplier and material numbers are not phone (or NHS) numbers, though a bare run of
ten digits can read as one (:mod:`eas_pipelines.pii.business_ids`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eas_pipelines.pii.business_ids import NUMBER_TYPES, is_business_number, is_number_field
from eas_pipelines.pii.engine import LANGUAGE, engines
from eas_pipelines.pii.gate import PHONE, candidate_entities, might_hold_pii, plausible_phone

if TYPE_CHECKING:
    from presidio_anonymizer.entities import OperatorConfig

CARD = "CREDIT_CARD"
NEVER_CLEARED: frozenset[str] = frozenset({CARD})
"""Types no system may be cleared for: card numbers never leave EAS unmasked (``allowed`` ignores them)."""

Span = tuple[int, int, str]
"""``(start, end, TYPE)`` of a value found by someone else (the NLP service's ``PERSON``, ...)."""


@dataclass(frozen=True)
class Finding:
    """One detected value: its type, where it is, and how sure the recognizer was (0..1)."""

    type: str
    start: int
    end: int
    score: float


_local = threading.local()


def masking_in_progress() -> bool:
    """Whether this thread is masking now (building the engines included).

    Presidio logs while it is imported and while it analyzes; the log filter and processor drop
    such records rather than mask them, which would re-enter the masking (and, while the engines
    are being built, wait forever for this very thread).
    """
    return getattr(_local, "depth", 0) > 0


@contextmanager
def _masking() -> Iterator[None]:
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _card_tail(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    return "****" + "".join(digits[-4:])


@functools.cache
def _operators() -> dict[str, OperatorConfig]:
    """How each type is replaced; built on first masking (Presidio is imported only then)."""
    from presidio_anonymizer.entities import OperatorConfig

    return {
        "DEFAULT": OperatorConfig("replace"),  # "<ENTITY_TYPE>"
        CARD: OperatorConfig("custom", {"lambda": _card_tail}),
    }


CACHED_TEXT_LENGTH = 128
"""Texts up to this length have their findings cached (audit values, short log lines)."""
CACHE_SIZE = 4096
"""How many such texts the cache keeps (least recently used go first)."""


def _analyze(text: str) -> list[Finding]:
    if not might_hold_pii(text):
        return []  # the fast path: no analyzer, and Presidio not even imported
    if len(text) <= CACHED_TEXT_LENGTH:
        return list(_analyze_cached(text))
    return list(_analyze_text(text))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _analyze_cached(text: str) -> tuple[Finding, ...]:
    return _analyze_text(text)


def _analyze_text(text: str) -> tuple[Finding, ...]:
    entities = candidate_entities(text)
    if not entities:
        return ()  # digits, but none any recognizer could match (a timestamp, an amount)
    analyzer, _ = engines()
    return tuple(
        Finding(r.entity_type, r.start, r.end, r.score)
        for r in analyzer.analyze(text, language=LANGUAGE, entities=list(entities))
        if (r.entity_type != PHONE or plausible_phone(text, r.start, r.end))
        and not (r.entity_type in NUMBER_TYPES and is_business_number(text, r.start, r.end))
    )


def _extra(text: str, extra_spans: Iterable[Span]) -> list[Finding]:
    results = []
    for start, end, kind in extra_spans:
        if not (0 <= start < end <= len(text)):
            raise ValueError(f"span ({start}, {end}, {kind}) is outside the text (length {len(text)})")
        results.append(Finding(kind.upper(), start, end, 1.0))
    return results


def detect(text: str, extra_spans: Iterable[Span] = ()) -> list[Finding]:
    """The PII in ``text``, in order of position (extra spans included as score 1.0 findings)."""
    with _masking():
        return sorted(_analyze(text) + _extra(text, extra_spans), key=lambda f: (f.start, f.end))


def mask(text: str, *, allowed: frozenset[str] = frozenset(), extra_spans: Iterable[Span] = ()) -> str:
    """``text`` with each detected value not of an ``allowed`` type replaced (module docstring).

    :data:`NEVER_CLEARED` types are masked even when named in ``allowed``.
    """
    allowed = allowed - NEVER_CLEARED
    spans = _extra(text, extra_spans)
    if not spans and not might_hold_pii(text):
        return text
    with _masking():
        findings = [f for f in _analyze(text) + spans if f.type not in allowed]
        if not findings:
            return text
        from presidio_anonymizer.entities import ConflictResolutionStrategy, RecognizerResult

        _, anonymizer = engines()
        return anonymizer.anonymize(
            text=text,
            analyzer_results=[RecognizerResult(f.type, f.start, f.end, f.score) for f in findings],
            operators=_operators(),
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        ).text


def mask_value(value: Any, *, allowed: frozenset[str] = frozenset()) -> Any:
    """Every string inside dicts, lists and tuples masked (keys too); other scalars as they are,
    except integers whose digits are PII (a card number stored as a number).

    The value of an SAP number field (``{"Supplier": "1000012345"}``:
    :func:`~eas_pipelines.pii.business_ids.is_number_field`) is not taken for a phone or NHS number.
    """
    if isinstance(value, str):
        return mask(value, allowed=allowed)
    if isinstance(value, Mapping):
        return {
            mask_value(k, allowed=allowed): mask_value(
                v, allowed=allowed | NUMBER_TYPES if is_number_field(k, v) else allowed
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(mask_value(item, allowed=allowed) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask(str(value), allowed=allowed)
        return value if masked == str(value) else masked
    return value


@dataclass(frozen=True)
class Clearance:
    """Which PII types each system may receive; a system not named is cleared for none.

    ``Clearance({"workday": {"EMAIL_ADDRESS", "PERSON"}})``. Naming a type of
    :data:`NEVER_CLEARED` is refused at construction.
    """

    systems: Mapping[str, Iterable[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {name: frozenset(t.upper() for t in types) for name, types in self.systems.items()}
        for name, types in frozen.items():
            if types & NEVER_CLEARED:
                raise ValueError(f"{name!r} cannot be cleared for {sorted(types & NEVER_CLEARED)}")
        object.__setattr__(self, "systems", frozen)

    def allowed(self, system: str) -> frozenset[str]:
        return self.systems.get(system, frozenset())  # type: ignore[return-value]


def for_system(payload: Any, system: str, clearances: Clearance) -> Any:
    """``payload`` with what ``system`` is not cleared for masked (recursively, like :func:`mask_value`)."""
    return mask_value(payload, allowed=clearances.allowed(system))
