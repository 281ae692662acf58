"""Conversation state in Redis: a bounded turn history and the entities in context.

Two front ends share every rule and the key layout: :class:`AsyncConversationStore` (on a
``redis.asyncio.Redis``) for the FastAPI server, so a turn never blocks the event loop or
takes a worker thread, and :class:`ConversationStore` (on a ``redis.Redis``) for tests, the
CLI and scripts. Only the Redis round trips differ between them.

Layout, per conversation (``{id}`` with literal braces, a Redis Cluster hash tag, so that
both keys live on one slot and the transaction below also works on a cluster):

- ``<prefix>{<id>}:turns``: list of JSON turns, oldest first, trimmed to ``max_turns``;
- ``<prefix>{<id>}:entities``: hash entity type -> JSON entity, the entities in context.

Both keys get the TTL again on every turn, so a conversation lives ``ttl_seconds`` after
its last turn. A turn is read-resolve-write: the keys are WATCHed, read, the carry-over is
computed in Python, and the writes go in one MULTI/EXEC; if another turn of the same
conversation committed in between, EXEC fails and the turn is resolved again against the
new state. Two concurrent turns are therefore both recorded, in some order, each resolved
against the other's result, and the entity context is never a mix of the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import WatchError

from nlp_service.context.carryover import LOW_CONFIDENCE, Resolution, resolve
from nlp_service.context.conversation import (
    Conversation,
    Turn,
    UnknownConversationError,
    entity_from_json,
    entity_to_json,
    turn_from_json,
    turn_to_json,
    validate_conversation_id,
)
from nlp_service.inference.result import ParseResult
from nlp_service.text.entity import Entity

DEFAULT_TTL_SECONDS = 1800
DEFAULT_MAX_TURNS = 10
DEFAULT_KEY_PREFIX = "eas:nlp:conversation:"
# Retries of a turn whose WATCH fired. Each retry means another turn of the same
# conversation committed meanwhile; a person types far slower than this runs out.
DEFAULT_MAX_RETRIES = 32


class ConversationBusyError(RuntimeError):
    """A turn could not be committed because other turns kept changing the conversation."""

    def __init__(self, conversation_id: str, attempts: int) -> None:
        super().__init__(
            f"conversation {conversation_id!r} changed during {attempts} attempts to record a turn"
        )
        self.conversation_id = conversation_id


@dataclass(frozen=True)
class _Keys:
    turns: str
    entities: str


def _text(raw: str | bytes) -> str:
    """Clients may or may not be built with ``decode_responses``; accept both."""
    return raw.decode("utf-8") if isinstance(raw, bytes) else raw


class _StoreBase:
    """Configuration, key layout and the pure halves of each operation; no Redis I/O."""

    def __init__(
        self,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        max_turns: int = DEFAULT_MAX_TURNS,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        min_confidence: float = LOW_CONFIDENCE,
        max_retries: int = DEFAULT_MAX_RETRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be a positive integer, got {ttl_seconds!r}")
        if not isinstance(max_turns, int) or max_turns <= 0:
            raise ValueError(f"max_turns must be a positive integer, got {max_turns!r}")
        if not key_prefix:
            raise ValueError("key_prefix must be a non-empty string")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence!r}")
        if max_retries <= 0:
            raise ValueError(f"max_retries must be positive, got {max_retries!r}")
        self.ttl_seconds = ttl_seconds
        self.max_turns = max_turns
        self.key_prefix = key_prefix
        self.min_confidence = min_confidence
        self.max_retries = max_retries
        self._clock = clock

    def _keys(self, conversation_id: str) -> _Keys:
        base = f"{self.key_prefix}{{{validate_conversation_id(conversation_id)}}}"
        return _Keys(turns=f"{base}:turns", entities=f"{base}:entities")

    def _resolve(
        self, text: str, result: ParseResult, raw_last: Any, raw_entities: dict[Any, Any]
    ) -> tuple[Resolution, Turn]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        previous = turn_from_json(raw_last) if raw_last is not None else None
        context = {_text(k): entity_from_json(v) for k, v in raw_entities.items()}
        resolution = resolve(text, result, previous, context, min_confidence=self.min_confidence)
        resolved = resolution.result
        turn = Turn(
            text=text,
            intent=resolved.intent,
            confidence=resolved.confidence,
            out_of_scope=resolved.out_of_scope,
            entities=list(result.entities),
            timestamp=self._clock(),
        )
        return resolution, turn

    def _queue_writes(self, pipe: Any, keys: _Keys, resolution: Resolution, turn: Turn) -> None:
        """Queue the turn's writes on a pipeline in MULTI mode (queuing is sync in both clients)."""
        pipe.rpush(keys.turns, turn_to_json(turn))
        pipe.ltrim(keys.turns, -self.max_turns, -1)
        pipe.delete(keys.entities)
        if resolution.context:
            pipe.hset(keys.entities, mapping={t: entity_to_json(e) for t, e in resolution.context.items()})
        pipe.expire(keys.turns, self.ttl_seconds)
        pipe.expire(keys.entities, self.ttl_seconds)

    @staticmethod
    def _conversation(
        conversation_id: str, raw_turns: list[Any], raw_entities: dict[Any, Any], ttl: int
    ) -> Conversation:
        if not raw_turns:
            raise UnknownConversationError(conversation_id)
        entities: dict[str, Entity] = {
            _text(k): entity_from_json(v)
            for k, v in sorted(raw_entities.items(), key=lambda kv: _text(kv[0]))
        }
        return Conversation(
            conversation_id=conversation_id,
            turns=[turn_from_json(t) for t in raw_turns],
            entities=entities,
            expires_in=ttl if ttl >= 0 else None,
        )


class ConversationStore(_StoreBase):
    """Synchronous store on a ``redis.Redis`` client; for tests, the CLI and threads.

    The client is the caller's: the store neither configures nor closes it except in
    :meth:`close`, which exists for stores built with :meth:`from_url`.
    """

    def __init__(self, client: redis.Redis, **options: Any) -> None:
        super().__init__(**options)
        self.client = client

    @classmethod
    def from_url(cls, url: str, **options: Any) -> ConversationStore:
        """A store on a new client for ``url`` (``redis://host:6379/0``); close it with :meth:`close`."""
        return cls(redis.Redis.from_url(url), **options)

    def close(self) -> None:
        self.client.close()

    def apply(self, conversation_id: str, text: str, result: ParseResult) -> ParseResult:
        """Resolve ``result`` (the parse of ``text``) against the conversation and record the turn.

        Starts the conversation when it does not exist. Returns a new ``ParseResult`` with
        ``carried_entities`` filled and, for some follow-ups, the inherited intent.
        """
        keys = self._keys(conversation_id)
        with self.client.pipeline() as pipe:
            for _ in range(self.max_retries):
                try:
                    pipe.watch(keys.turns, keys.entities)
                    raw_last = pipe.lindex(keys.turns, -1)
                    raw_entities = pipe.hgetall(keys.entities)
                    resolution, turn = self._resolve(text, result, raw_last, raw_entities)
                    pipe.multi()
                    self._queue_writes(pipe, keys, resolution, turn)
                    pipe.execute()
                    return resolution.result
                except WatchError:
                    continue
        raise ConversationBusyError(conversation_id, self.max_retries)

    def get(self, conversation_id: str) -> Conversation:
        """The conversation's turns and context; ``UnknownConversationError`` if there is none."""
        keys = self._keys(conversation_id)
        with self.client.pipeline(transaction=True) as pipe:
            raw_turns, raw_entities, ttl = (
                pipe.lrange(keys.turns, 0, -1).hgetall(keys.entities).ttl(keys.turns).execute()
            )
        return self._conversation(conversation_id, raw_turns, raw_entities, ttl)

    def reset(self, conversation_id: str) -> bool:
        """Forget the conversation now; ``True`` if there was one to forget."""
        keys = self._keys(conversation_id)
        return bool(self.client.delete(keys.turns, keys.entities))


class AsyncConversationStore(_StoreBase):
    """The same store on a ``redis.asyncio.Redis`` client, for the async server."""

    def __init__(self, client: redis.asyncio.Redis, **options: Any) -> None:
        super().__init__(**options)
        self.client = client

    @classmethod
    def from_url(cls, url: str, **options: Any) -> AsyncConversationStore:
        """A store on a new asyncio client for ``url``; close it with :meth:`aclose`."""
        return cls(redis.asyncio.Redis.from_url(url), **options)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def apply(self, conversation_id: str, text: str, result: ParseResult) -> ParseResult:
        """See :meth:`ConversationStore.apply`."""
        keys = self._keys(conversation_id)
        async with self.client.pipeline() as pipe:
            for _ in range(self.max_retries):
                try:
                    await pipe.watch(keys.turns, keys.entities)
                    raw_last = await pipe.lindex(keys.turns, -1)
                    raw_entities = await pipe.hgetall(keys.entities)
                    resolution, turn = self._resolve(text, result, raw_last, raw_entities)
                    pipe.multi()
                    self._queue_writes(pipe, keys, resolution, turn)
                    await pipe.execute()
                    return resolution.result
                except WatchError:
                    continue
        raise ConversationBusyError(conversation_id, self.max_retries)

    async def get(self, conversation_id: str) -> Conversation:
        """See :meth:`ConversationStore.get`."""
        keys = self._keys(conversation_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(keys.turns, 0, -1).hgetall(keys.entities).ttl(keys.turns)
            raw_turns, raw_entities, ttl = await pipe.execute()
        return self._conversation(conversation_id, raw_turns, raw_entities, ttl)

    async def reset(self, conversation_id: str) -> bool:
        """See :meth:`ConversationStore.reset`."""
        keys = self._keys(conversation_id)
        return bool(await self.client.delete(keys.turns, keys.entities))
