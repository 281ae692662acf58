"""Detecting and masking PII in text, payloads and per-system clearances.

Why masking at EAS's edges: requests, audit entries and logs carry what people typed (e-mails,
card numbers, bank details) and each enterprise system may only see what it is cleared for. The
replacement says what was there without keeping any of it: ``<EMAIL_ADDRESS>``, ``<US_SSN>``;
cards keep their last four digits (``****1111``, the most PCI DSS allows to be shown) so a
reviewer can still tell two cards apart. Overlapping findings are both masked (the union of
their spans); a type the caller is cleared for is left as written.

Text with neither a digit nor an ``@`` cannot hold any pattern type EAS detects, so it skips the
analyzer (log lines are mostly such text); extra spans still apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig

from eas_pipelines.pii.engine import ENTITIES, LANGUAGE, engines

CARD = "CREDIT_CARD"
NEVER_CLEARED: frozenset[str] = frozenset({CARD})
"""Types no system may be cleared for: card numbers never leave EAS unmasked."""

Span = tuple[int, int, str]
"""``(start, end, TYPE)`` of a value found by someone else (the NLP service's ``PERSON``, ...)."""


@dataclass(frozen=True)
class Finding:
    """One detected value: its type, where it is, and how sure the recognizer was (0..1)."""

    type: str
    start: int
    end: int
    score: float


def _card_tail(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    return "****" + "".join(digits[-4:])


_OPERATORS = {
    "DEFAULT": OperatorConfig("replace"),  # "<ENTITY_TYPE>"
    CARD: OperatorConfig("custom", {"lambda": _card_tail}),
}


def _might_hold_pii(text: str) -> bool:
    return "@" in text or any(c.isdigit() for c in text)


def _analyze(text: str) -> list[RecognizerResult]:
    if not _might_hold_pii(text):
        return []
    analyzer, _ = engines()
    return analyzer.analyze(text, language=LANGUAGE, entities=list(ENTITIES))


def _extra(text: str, extra_spans: Iterable[Span]) -> list[RecognizerResult]:
    results = []
    for start, end, kind in extra_spans:
        if not (0 <= start < end <= len(text)):
            raise ValueError(f"span ({start}, {end}, {kind}) is outside the text (length {len(text)})")
        results.append(RecognizerResult(entity_type=kind.upper(), start=start, end=end, score=1.0))
    return results


def detect(text: str, extra_spans: Iterable[Span] = ()) -> list[Finding]:
    """The PII in ``text``, in order of position (extra spans included as score 1.0 findings)."""
    results = _analyze(text) + _extra(text, extra_spans)
    return sorted(
        (Finding(r.entity_type, r.start, r.end, r.score) for r in results), key=lambda f: (f.start, f.end)
    )


def mask(text: str, *, allowed: frozenset[str] = frozenset(), extra_spans: Iterable[Span] = ()) -> str:
    """``text`` with each detected value not of an ``allowed`` type replaced (module docstring)."""
    results = [r for r in _analyze(text) + _extra(text, extra_spans) if r.entity_type not in allowed]
    if not results:
        return text
    _, anonymizer = engines()
    return anonymizer.anonymize(
        text=text,
        analyzer_results=results,
        operators=_OPERATORS,
        conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
    ).text


def mask_value(value: Any, *, allowed: frozenset[str] = frozenset()) -> Any:
    """Every string inside dicts, lists and tuples masked (keys too); other scalars as they are,
    except integers whose digits are PII (a card number stored as a number)."""
    if isinstance(value, str):
        return mask(value, allowed=allowed)
    if isinstance(value, Mapping):
        return {mask_value(k, allowed=allowed): mask_value(v, allowed=allowed) for k, v in value.items()}
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
