"""Request and response models of the HTTP API: the OpenAPI contract, and its encoding.

Requests are validated by these models. Responses are *documented* by them but built as
plain dicts by :func:`parse_result_to_dict` and written with orjson, because a pydantic
round trip per response costs more than the rest of the request handling together.
The dict builders live here, next to the models they must match.

Every rule the server enforces is in the document too (patterns, lengths, strict types), so that
values generated from the schema are accepted and values outside it refused. Where a rule is a
regular expression, the server checks the pattern the document shows. Limits that come from the
settings (text length, batch size) are written into the document by the app (see ``app.py``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, field_validator

from nlp_service.context.conversation import (
    _CONVERSATION_ID,
    CONVERSATION_ID_MAX_LENGTH,
    Conversation,
    Turn,
    validate_conversation_id,
)
from nlp_service.inference.result import ParseResult
from nlp_service.text.entity import Entity

# The alphabet validate_conversation_id enforces, anchored as JSON Schema patterns need to be.
CONVERSATION_ID_PATTERN = f"^{_CONVERSATION_ID.pattern}$"
# Whitespace as Python's str.isspace() and ECMAScript's \s see it (their union), written out rather
# than as \s because regex engines disagree on \s: "blank" must mean the same to the server's check
# and to a client reading the pattern.
_WHITESPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK_PATTERN = rf"^[\s\S]*[^{_WHITESPACE}][\s\S]*$"
_NOT_BLANK = re.compile(NOT_BLANK_PATTERN)

ConversationId = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=CONVERSATION_ID_MAX_LENGTH,
        description="Conversation to resolve the text against (letters, digits and . _ : -); "
        "the turn is recorded there. Omit for a stand-alone parse.",
        examples=["chat-42"],
        json_schema_extra={"pattern": CONVERSATION_ID_PATTERN},
    ),
    AfterValidator(validate_conversation_id),
]
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN)


def _iso_date_string(value: object) -> object:
    """Only an RFC 3339 full-date string (or a date, for Python callers) may become a date.

    Pydantic's lax mode reads 0 and "0" as 1970-01-01 and a datetime string as its date; the
    contract says ``format: date``, so anything else is a 422, not a silently different date.
    """
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("reference_date must be an ISO date string, YYYY-MM-DD")


IsoDate = Annotated[
    date, BeforeValidator(_iso_date_string), Field(json_schema_extra={"pattern": ISO_DATE_PATTERN})
]


class _Request(BaseModel):
    # Unknown fields are errors: a misspelt "conversationId" must not silently start no conversation.
    model_config = ConfigDict(extra="forbid")


class ParseRequest(_Request):
    text: StrictStr = Field(
        min_length=1,
        description="The utterance; not blank, at most the server's max_text_length characters.",
        examples=["process invoice INV-2201 from Acme Corp for $12,400"],
        json_schema_extra={"pattern": NOT_BLANK_PATTERN},
    )
    conversation_id: ConversationId | None = None
    reference_date: IsoDate | None = Field(
        None,
        description="ISO date (YYYY-MM-DD) that relative dates ('next Friday') count from; the server's "
        "today if omitted.",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not _NOT_BLANK.fullmatch(value):
            raise ValueError("text must not be blank (whitespace only)")
        return value


class BatchParseRequest(_Request):
    items: list[ParseRequest] = Field(
        min_length=1, description="Texts to parse, at most the server's max_batch_size; answered in order."
    )


class ReloadRequest(_Request):
    model_dir: StrictStr | None = Field(
        None, min_length=1, description="Model directory to load; the one being served if omitted."
    )


class IntentScoreOut(BaseModel):
    intent: str
    confidence: float


class EntityOut(BaseModel):
    type: str
    text: str = Field(description="Exactly the input's text[start:end].")
    start: int
    end: int
    value: Any = Field(None, description="Normalised value (ISO date, amount with currency, ...) or null.")


class ParseResponse(BaseModel):
    intent: str
    confidence: float
    alternatives: list[IntentScoreOut] = Field(description="The top 3 intents, best first.")
    out_of_scope: bool
    entities: list[EntityOut]
    carried_entities: list[EntityOut] = Field(
        description="Entities inherited from earlier turns of the conversation; offsets point into the "
        "turn they came from."
    )
    model_version: str
    latency_ms: float = Field(description="Time spent in the server on this request.")


class BatchParseResponse(BaseModel):
    results: list[ParseResponse]


class ErrorResponse(BaseModel):
    detail: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'text'].")
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    detail: list[ValidationErrorItem]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ready"]
    model_version: str
    backend: str
    precision: str = Field(description="Weights served: fp32, or int8 (the quantised ONNX export).")
    device: str
    model_dir: str
    reloading: bool = Field(description="A new model is being loaded; the current one keeps serving.")
    last_reload_error: str | None = None


class NotReadyResponse(BaseModel):
    status: Literal["not ready"]
    reason: str


class ReloadResponse(BaseModel):
    status: Literal["reloading"]
    model_dir: str
    current_version: str | None


class TurnOut(BaseModel):
    text: str
    intent: str
    confidence: float
    out_of_scope: bool
    entities: list[EntityOut]
    timestamp: float


class ConversationResponse(BaseModel):
    conversation_id: str
    turns: list[TurnOut] = Field(description="Oldest first.")
    entities: dict[str, EntityOut] = Field(description="Entities in context, by type.")
    expires_in: int | None = Field(description="Seconds until the conversation expires.")


class ResetResponse(BaseModel):
    conversation_id: str
    deleted: bool


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    return {
        "type": entity.type,
        "text": entity.text,
        "start": entity.start,
        "end": entity.end,
        "value": entity.value,
    }


def parse_result_to_dict(result: ParseResult, latency_ms: float) -> dict[str, Any]:
    """The :class:`ParseResponse` body of one parse."""
    return {
        "intent": result.intent,
        "confidence": result.confidence,
        "alternatives": [{"intent": a.intent, "confidence": a.confidence} for a in result.alternatives],
        "out_of_scope": result.out_of_scope,
        "entities": [entity_to_dict(e) for e in result.entities],
        "carried_entities": [entity_to_dict(e) for e in result.carried_entities],
        "model_version": result.model_version,
        "latency_ms": round(latency_ms, 3),
    }


def _turn_to_dict(turn: Turn) -> dict[str, Any]:
    return {
        "text": turn.text,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "out_of_scope": turn.out_of_scope,
        "entities": [entity_to_dict(e) for e in turn.entities],
        "timestamp": turn.timestamp,
    }


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    """The :class:`ConversationResponse` body."""
    return {
        "conversation_id": conversation.conversation_id,
        "turns": [_turn_to_dict(t) for t in conversation.turns],
        "entities": {k: entity_to_dict(e) for k, e in conversation.entities.items()},
        "expires_in": conversation.expires_in,
    }
