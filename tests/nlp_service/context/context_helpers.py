"""Building parses by hand, so that the context rules are tested without a model."""

from __future__ import annotations

from typing import Any

from nlp_service.inference.result import IntentScore, ParseResult
from nlp_service.text.entity import Entity


def ent(text: str, span: str, type_: str, value: Any = None) -> Entity:
    """The entity ``span`` of ``text``, with its real offsets (``span`` must occur once)."""
    start = text.index(span)
    assert text.find(span, start + 1) == -1, f"{span!r} occurs twice in {text!r}"
    return Entity(type=type_, text=span, start=start, end=start + len(span), value=value)


def parse(intent: str, confidence: float, *entities: Entity, out_of_scope: bool | None = None) -> ParseResult:
    """A parse as the model would return it; out of scope by default when under 0.5."""
    return ParseResult(
        intent=intent,
        confidence=confidence,
        alternatives=[IntentScore(intent, confidence)],
        out_of_scope=confidence < 0.5 if out_of_scope is None else out_of_scope,
        entities=list(entities),
        model_version="test",
    )


LEAVE = "approve leave for Alice from 2024-06-03 to 2024-06-05"
LEAVE_ENTITIES = (
    ent(LEAVE, "Alice", "person"),
    ent(LEAVE, "2024-06-03 to 2024-06-05", "date_range", {"start": "2024-06-03", "end": "2024-06-05"}),
)


def leave_request() -> tuple[str, ParseResult]:
    return LEAVE, parse("approve_leave", 0.93, *LEAVE_ENTITIES)


def same_dates_for_bob(confidence: float = 0.2) -> tuple[str, ParseResult]:
    text = "same dates for Bob"
    return text, parse(
        "approve_leave" if confidence >= 0.5 else "oos", confidence, ent(text, "Bob", "person")
    )
