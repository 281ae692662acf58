"""What a conversation is made of, how it is checked, and how it is written to Redis.

Kept apart from the store so that the carry-over rules (pure) and the Redis code share one
definition of a turn, and so the JSON shape stored in Redis is defined in one place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass, field
from typing import Any

from nlp_service.text.entity import Entity

CONVERSATION_ID_MAX_LENGTH = 128
# Ids become part of Redis keys: a closed alphabet keeps keys readable, rules out the
# braces of cluster hash tags and glob characters, and keeps one id from spelling another's keys.
_CONVERSATION_ID = re.compile(r"[A-Za-z0-9._:-]+")


class UnknownConversationError(LookupError):
    """No conversation under this id: it never existed, expired (TTL) or was reset.

    The server maps it to 404; the three causes look the same in Redis, so they are one error.
    """

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"unknown conversation {conversation_id!r} (never started, expired or reset)")
        self.conversation_id = conversation_id


def validate_conversation_id(conversation_id: object) -> str:
    """Return ``conversation_id`` if usable as part of a Redis key, else raise ``ValueError``.

    The id comes from the API client, so the message names the field for a 422 response.
    """
    if not isinstance(conversation_id, str) or not conversation_id:
        raise ValueError(f"conversation_id must be a non-empty string, got {conversation_id!r}")
    if len(conversation_id) > CONVERSATION_ID_MAX_LENGTH:
        raise ValueError(
            f"conversation_id must be at most {CONVERSATION_ID_MAX_LENGTH} characters, "
            f"got {len(conversation_id)}"
        )
    if not _CONVERSATION_ID.fullmatch(conversation_id):
        raise ValueError(
            "conversation_id may only contain letters, digits and '.', '_', ':', '-', "
            f"got {conversation_id!r}"
        )
    return conversation_id


@dataclass(frozen=True)
class Turn:
    """One recorded utterance with its resolved parse.

    ``intent``/``confidence``/``out_of_scope`` are the values after carry-over (an inherited
    intent is recorded as such), so the next follow-up inherits from what the user was
    actually served. ``entities`` are the turn's own entities, with offsets into ``text``.
    ``timestamp`` is Unix time in seconds.
    """

    text: str
    intent: str
    confidence: float
    out_of_scope: bool
    entities: list[Entity] = field(default_factory=list)
    timestamp: float = 0.0


@dataclass(frozen=True)
class Conversation:
    """A conversation as read back from the store.

    ``turns`` are oldest first and hold at most the store's ``max_turns``. ``entities`` are
    the entities in context, one (the latest) per entity type; their offsets point into the
    text of the turn they came from. ``expires_in`` is the seconds left before Redis drops
    the conversation (each new turn resets it to the store's TTL).
    """

    conversation_id: str
    turns: list[Turn]
    entities: dict[str, Entity]
    expires_in: int | None = None


def _json_default(value: Any) -> Any:
    """Make the usual normalised entity values JSON; anything else is written as its ``str``.

    A turn must never fail to record because an entity value is exotic; values therefore
    come back as plain JSON (a date as its ISO string, a dataclass as a dict).
    """
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dumps(data: Any) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    return {
        "type": entity.type,
        "text": entity.text,
        "start": entity.start,
        "end": entity.end,
        "value": entity.value,
    }


def entity_from_dict(data: dict[str, Any]) -> Entity:
    return Entity(
        type=data["type"], text=data["text"], start=data["start"], end=data["end"], value=data.get("value")
    )


def turn_to_json(turn: Turn) -> str:
    return dumps(
        {
            "text": turn.text,
            "intent": turn.intent,
            "confidence": turn.confidence,
            "out_of_scope": turn.out_of_scope,
            "entities": [entity_to_dict(e) for e in turn.entities],
            "timestamp": turn.timestamp,
        }
    )


def turn_from_json(raw: str | bytes) -> Turn:
    data = json.loads(raw)
    return Turn(
        text=data["text"],
        intent=data["intent"],
        confidence=data["confidence"],
        out_of_scope=data["out_of_scope"],
        entities=[entity_from_dict(e) for e in data["entities"]],
        timestamp=data["timestamp"],
    )


def entity_to_json(entity: Entity) -> str:
    return dumps(entity_to_dict(entity))


def entity_from_json(raw: str | bytes) -> Entity:
    return entity_from_dict(json.loads(raw))
