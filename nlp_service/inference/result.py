"""What one parse returns; the server serialises it as the API response."""

from __future__ import annotations

from dataclasses import dataclass, field

from nlp_service.text.entity import Entity


@dataclass(frozen=True)
class IntentScore:
    intent: str
    confidence: float


@dataclass
class ParseResult:
    """Intent with its calibrated confidence, the top alternatives, and the entities.

    ``out_of_scope`` is set when the model predicts the out-of-scope class or the
    confidence is under the model's threshold: the orchestrator sends such requests to a
    person instead of guessing.
    """

    intent: str
    confidence: float
    alternatives: list[IntentScore]
    out_of_scope: bool
    entities: list[Entity] = field(default_factory=list)
    model_version: str = ""
    # Entities inherited from earlier turns of the same conversation ("same dates for
    # Bob"); their offsets point into the earlier turn's text, hence a list of their own.
    carried_entities: list[Entity] = field(default_factory=list)
