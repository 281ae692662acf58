"""The fast lane's priority queue: Redis Streams with a consumer group, one stream per priority.

Why streams and not a list or a sorted set: a consumer group gives at-least-once delivery for free.
``XREADGROUP`` hands an entry to one consumer and records it in that consumer's pending entries list
(PEL) until ``XACK``; an entry whose consumer died stays pending, visibly idle, and ``XAUTOCLAIM``
moves it to a live consumer, counting the deliveries so that a poison message (one that kills every
worker that takes it) can be dead-lettered instead of looping forever.

Key layout (``prefix`` defaults to ``eas:``; every key of one queue shares it)::

    {prefix}fast:p0 | p1 | p2          streams, one per priority; fields request_id, attempt, and
                                       traceparent (the request's W3C trace context) when it has one
                                       consumer group ``eas-workers`` on each (created with MKSTREAM)
    {prefix}fast:delayed               sorted set of retries waiting out their backoff;
                                       member "<priority>|<attempt>|<request_id>", score = due (ms)
    {prefix}fast:dedup:<id>:<attempt>  SET NX EX: the entry id a (request, attempt) was given, so that
                                       a gateway retrying its enqueue does not cause a second delivery
    {prefix}fast:dead                  stream of dead-lettered entries (capped, approximately)

In Redis Cluster every key a script touches must hash to one slot: give such a deployment a prefix
with a hash tag (``{eas}:``) so that all of them do.

Round trips, because the lane is measured (50,000 enqueue → dequeue → ack a minute, scheduling P95
under 10 ms): enqueue is one ``EVALSHA`` (dedup, XADD, dedup value); a dequeue that finds work is one
``EVALSHA`` (promote due retries, then ``XREADGROUP >`` on P0, P1, P2 in that order, so P0 is always
served first however long the P1/P2 backlog); an idle dequeue adds one blocking ``XREADGROUP`` on the
three streams; ack is one ``EVALSHA`` (``XACK`` + ``XDEL``: acknowledged entries are deleted, so the
streams hold only unfinished work and ``XLEN`` is a depth).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from eas_pipelines.routing import Priority

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "eas:"
DEFAULT_GROUP = "eas-workers"
DEFAULT_DEDUP_TTL_S = 24 * 3600
DEFAULT_DEAD_MAXLEN = 100_000
PRIORITIES: tuple[Priority, ...] = (Priority.P0, Priority.P1, Priority.P2)

# KEYS: stream, dedup, delayed.  ARGV: request_id, attempt, dedup_ttl_s, delay_ms, priority, traceparent.
# The traceparent ('' for none) rides in a stream entry only: a delayed retry's worker reads the
# request's stored one instead (the delayed set's members stay plain).
# Returns {1, id} for a new entry, {0, id} when (request_id, attempt) was already enqueued.
_ENQUEUE_LUA = """
local existing = redis.call('GET', KEYS[2])
if existing then
  return {0, existing}
end
local id
local delay = tonumber(ARGV[4])
if delay > 0 then
  local t = redis.call('TIME')
  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + delay
  redis.call('ZADD', KEYS[3], due, ARGV[5] .. '|' .. ARGV[2] .. '|' .. ARGV[1])
  id = 'delayed:' .. string.format('%d', due)
elseif ARGV[6] ~= '' then
  id = redis.call('XADD', KEYS[1], '*', 'request_id', ARGV[1], 'attempt', ARGV[2], 'traceparent', ARGV[6])
else
  id = redis.call('XADD', KEYS[1], '*', 'request_id', ARGV[1], 'attempt', ARGV[2])
end
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[3]))
return {1, id}
"""

# KEYS: p0, p1, p2, delayed.  ARGV: group, consumer, promote_limit.
# Promotes due retries onto their streams, then reads one new entry, highest priority first.
# Returns {index, entry_id, field, value, ...} or {-1, next_due_ms?} when there is nothing to serve.
_DEQUEUE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  local p, attempt, rid = string.match(member, '^(%d)|(%d+)|(.*)$')
  if p then
    redis.call('XADD', KEYS[tonumber(p) + 1], '*', 'request_id', rid, 'attempt', attempt)
  end
  redis.call('ZREM', KEYS[4], member)
end
for i = 1, 3 do
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[i], '>')
  if r and r[1] and r[1][2][1] then
    local entry = r[1][2][1]
    local out = {i - 1, entry[1]}
    for _, v in ipairs(entry[2]) do
      out[#out + 1] = v
    end
    return out
  end
end
local nxt = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if nxt[2] then
  return {-1, nxt[2]}
end
return {-1}
"""

# KEYS: p0, p1, p2.  ARGV: group, consumer, min_idle_ms, count.
# XAUTOCLAIM over the streams in priority order; for each claimed entry its delivery count (XPENDING).
# Returns a flat list of {index, entry_id, delivery_count, field, value, ...} tables.
_RECLAIM_LUA = """
local out = {}
local remaining = tonumber(ARGV[4])
for i = 1, 3 do
  local cursor = '0-0'
  repeat
    if remaining <= 0 then
      return out
    end
    local r = redis.call('XAUTOCLAIM', KEYS[i], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', remaining)
    cursor = r[1]
    for _, e in ipairs(r[2]) do
      if e and e[2] then
        local p = redis.call('XPENDING', KEYS[i], ARGV[1], e[1], e[1], 1)
        local count = 1
        if p[1] then
          count = p[1][4]
        end
        local item = {i - 1, e[1], count}
        for _, v in ipairs(e[2]) do
          item[#item + 1] = v
        end
        out[#out + 1] = item
        remaining = remaining - 1
      end
    end
  until cursor == '0-0'
end
return out
"""

# KEYS: stream.  ARGV: group, consumer, entry_id.
# Resets the entry's idle time if (and only if) this consumer still holds it; JUSTID does not count
# a delivery. Returns 1 when the lease was extended, 0 when the entry is gone or held by another.
_TOUCH_LUA = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if p[1] and p[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
  return 1
end
return 0
"""


# KEYS: stream.  ARGV: group, entry_id.  XACK + XDEL in one command; returns what XACK returned.
_ACK_LUA = """
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return acked
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


@dataclass(frozen=True)
class Task:
    """One delivery of a queued request to one consumer.

    ``delivery_count`` is how many times Redis has handed this entry out (1 for a first delivery,
    more after reclaims): the worker dead-letters an entry delivered more often than it allows.
    """

    request_id: str
    priority: Priority
    attempt: int
    entry_id: str
    stream: str
    consumer: str
    delivery_count: int = 1
    traceparent: str | None = None
    """The request's W3C ``traceparent`` as the producer enqueued it (None: read the store's)."""

    @property
    def enqueued_at(self) -> float:
        """When the entry reached its stream (epoch seconds), read from the entry id's milliseconds."""
        return int(self.entry_id.split("-", 1)[0]) / 1000.0


class FastQueue:
    """The fast lane's queue: one instance per process, shared by its threads (redis-py is thread-safe).

    Constructing one costs no round trip (producers may build one per call): the consumer groups
    are created by the first consumer call that finds them missing (or by :meth:`ensure_groups`).

    ``client`` must not decode responses into anything but ``bytes``/``str`` (both work) and, for
    blocking dequeues, must have a ``socket_timeout`` longer than the ``block_ms`` used (or none).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        group: str = DEFAULT_GROUP,
        dedup_ttl_s: int = DEFAULT_DEDUP_TTL_S,
        dead_maxlen: int = DEFAULT_DEAD_MAXLEN,
        promote_limit: int = 100,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.group = group
        self.dedup_ttl_s = int(dedup_ttl_s)
        self.dead_maxlen = int(dead_maxlen)
        self.promote_limit = int(promote_limit)
        self.streams: tuple[str, ...] = tuple(f"{prefix}fast:p{int(p)}" for p in PRIORITIES)
        self.delayed_key = f"{prefix}fast:delayed"
        self.dead_key = f"{prefix}fast:dead"
        self._enqueue = client.register_script(_ENQUEUE_LUA)
        self._dequeue = client.register_script(_DEQUEUE_LUA)
        self._reclaim = client.register_script(_RECLAIM_LUA)
        self._touch = client.register_script(_TOUCH_LUA)
        self._ack = client.register_script(_ACK_LUA)
        self._buffer: dict[str, list[Task]] = {}

    # -- keys and setup -------------------------------------------------------------------------

    def stream_for(self, priority: int) -> str:
        return self.streams[int(Priority(int(priority)))]

    def dedup_key(self, request_id: str, attempt: int) -> str:
        return f"{self.prefix}fast:dedup:{request_id}:{int(attempt)}"

    def ensure_groups(self) -> None:
        """Create the consumer group on each stream (and the stream), if missing.

        The group starts at ``0`` rather than ``$`` so that entries added before it existed (a
        stream recreated by a gateway while no worker had started yet) are still delivered.
        """
        for stream in self.streams:
            try:
                self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _retrying_on_nogroup(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``call``; if a stream or its group vanished (FLUSHDB, an operator's DEL), recreate, retry."""
        try:
            return call(*args, **kwargs)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            log.warning("fast queue %s: consumer group missing, recreating it", self.prefix)
            self.ensure_groups()
            return call(*args, **kwargs)

    # -- producer -------------------------------------------------------------------------------

    def enqueue(
        self,
        request_id: str,
        priority: int,
        attempt: int = 0,
        *,
        delay_s: float = 0.0,
        traceparent: str | None = None,
    ) -> str:
        """Queue ``request_id`` at ``priority``; return its entry id.

        Idempotent per ``(request_id, attempt)`` for ``dedup_ttl_s``: a second call returns the first
        call's id and adds nothing, so a gateway that retries after a timeout cannot cause two
        deliveries. A retry is a new attempt and therefore a new entry. ``delay_s > 0`` parks the
        entry in the delayed set until it is due (retry backoff); its id is then ``delayed:<due ms>``
        since the stream id is only assigned when a dequeue promotes it. ``traceparent``: the
        request's trace, carried in the entry so that the worker's run continues it.
        """
        prio = Priority(int(priority))
        _, entry_id = self._enqueue(
            keys=[self.stream_for(prio), self.dedup_key(request_id, attempt), self.delayed_key],
            args=[
                request_id,
                int(attempt),
                self.dedup_ttl_s,
                max(0, int(delay_s * 1000)),
                int(prio),
                traceparent or "",
            ],
        )
        return _text(entry_id)

    # -- consumer -------------------------------------------------------------------------------

    def dequeue(self, consumer: str, block_ms: int = 0) -> Task | None:
        """Take the most urgent waiting entry for ``consumer``, waiting up to ``block_ms`` for one.

        P0 before P1 before P2, always: the non-blocking script checks the streams in that order.
        Only when all three are empty does the call block on all of them, and whichever stream gets
        an entry first wakes it (nothing more urgent was waiting, or the script would have found it).
        The block is cut short when a delayed retry falls due, so backoffs are honoured promptly.
        """
        # Entries that a blocking read delivered wait in the buffer. Anything more urgent that is
        # waiting (a P0 enqueued meanwhile, or a P1 added alongside the P2 that woke the read) must
        # not wait behind them: claim the most urgent waiting entry too, then serve the buffer in
        # priority order (a stable sort: FIFO within one priority).
        buffered = self._buffer.setdefault(consumer, [])
        deadline = time.monotonic() + block_ms / 1000.0
        while True:
            newer, raw = self._claim_next(consumer)
            if newer is not None:
                buffered.append(newer)
            if buffered:
                buffered.sort(key=lambda t: t.priority)
                return buffered.pop(0)
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return None
            wait_ms = remaining_ms
            if len(raw) > 1:  # a delayed retry is waiting: wake up when it falls due
                due_in = int(float(_text(raw[1])) - time.time() * 1000)
                wait_ms = max(1, min(wait_ms, due_in))
            buffered.extend(self._block(consumer, wait_ms))

    def buffered(self, consumer: str) -> list[Task]:
        """Entries delivered to ``consumer`` and not yet handed out (its worker keeps their leases)."""
        return list(self._buffer.get(consumer, ()))

    def _claim_next(self, consumer: str) -> tuple[Task | None, list[Any]]:
        """Claim the most urgent waiting entry without blocking (promoting due retries first).

        Returns the task (None when every stream is empty) and the script's raw reply, whose second
        item is then the due time of the earliest delayed retry, if any.
        """
        raw = self._retrying_on_nogroup(
            self._dequeue,
            keys=[*self.streams, self.delayed_key],
            args=[self.group, consumer, self.promote_limit],
        )
        index = int(raw[0])
        task = self._task(consumer, index, _text(raw[1]), raw[2:], 1) if index >= 0 else None
        return task, raw

    def _block(self, consumer: str, block_ms: int) -> list[Task]:
        response = self._retrying_on_nogroup(
            self.client.xreadgroup,
            self.group,
            consumer,
            dict.fromkeys(self.streams, ">"),
            count=1,
            block=block_ms,
        )
        if not response:
            return []
        # RESP2: [[stream, [(id, {fields})...]], ...]; RESP3: {stream: [[(id, {fields})...]]}.
        items = response.items() if isinstance(response, dict) else response
        tasks: list[Task] = []
        for stream, entries in items:
            if entries and isinstance(entries[0], list) and entries[0] and isinstance(entries[0][0], list):
                entries = entries[0]
            index = self.streams.index(_text(stream))
            for entry_id, fields in entries:
                if fields is None:
                    continue
                flat: list[Any] = []
                for k, v in dict(fields).items():
                    flat.extend((k, v))
                tasks.append(self._task(consumer, index, _text(entry_id), flat, 1))
        return tasks

    def _task(self, consumer: str, index: int, entry_id: str, flat: Sequence[Any], count: int) -> Task:
        fields = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}
        return Task(
            request_id=fields.get("request_id", ""),
            priority=PRIORITIES[index],
            attempt=int(fields.get("attempt", 0)),
            entry_id=entry_id,
            stream=self.streams[index],
            consumer=consumer,
            delivery_count=int(count),
            traceparent=fields.get("traceparent") or None,
        )

    def ack(self, task: Task) -> bool:
        """Acknowledge and delete ``task``'s entry; False when it was no longer pending (already acked).

        One round trip (a script: XACK + XDEL, atomically). Acking does not check the holder: a worker
        that was reclaimed from while paused still acks the work it finished, which is what should
        happen (the request store, not the queue, is what stops a request completing twice).
        """
        return bool(self._ack(keys=[task.stream], args=[self.group, task.entry_id]))

    def touch(self, task: Task) -> bool:
        """Extend the lease on ``task`` (reset its idle time) while still holding it.

        The worker's heartbeat calls this for the task in progress, so that a job running longer
        than the visibility timeout is not reclaimed from a live worker; a dead worker stops
        touching and its entry becomes idle. False when the entry was acked or reclaimed meanwhile.
        """
        return bool(
            self._retrying_on_nogroup(
                self._touch, keys=[task.stream], args=[self.group, task.consumer, task.entry_id]
            )
        )

    def give_back(self, task: Task, consumer: str) -> None:
        """Return a reclaimed entry to ``consumer`` (its previous holder, found alive after all).

        ``XCLAIM ... JUSTID`` with idle 0: the holder's heartbeat can extend the lease again and the
        delivery count is not raised a second time.
        """
        self.client.xclaim(task.stream, self.group, consumer, 0, [task.entry_id], justid=True)

    def reclaim(self, consumer: str, min_idle_ms: int, count: int = 10) -> list[Task]:
        """Move to ``consumer`` up to ``count`` entries idle for ``min_idle_ms`` or more (P0 first).

        Idle means the holder neither acked nor touched them for that long: its worker is dead or
        hung. Each returned task carries its delivery count (reclaiming counts as a delivery).
        """
        raw = self._retrying_on_nogroup(
            self._reclaim,
            keys=list(self.streams),
            args=[self.group, consumer, int(min_idle_ms), int(count)],
        )
        return [self._task(consumer, int(item[0]), _text(item[1]), item[3:], int(item[2])) for item in raw]

    def dead_letter(self, task: Task, reason: str) -> str:
        """Move ``task`` to the dead-letter stream (with why and how often it was delivered) and ack it."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_key,
                {
                    "request_id": task.request_id,
                    "attempt": task.attempt,
                    "priority": f"P{int(task.priority)}",
                    "stream": task.stream,
                    "entry_id": task.entry_id,
                    "delivery_count": task.delivery_count,
                    "consumer": task.consumer,
                    "reason": reason[:2000],
                    "dead_at_ms": int(time.time() * 1000),
                },
                maxlen=self.dead_maxlen,
                approximate=True,
            )
            pipe.xack(task.stream, self.group, task.entry_id)
            pipe.xdel(task.stream, task.entry_id)
            dead_id, _, _ = pipe.execute()
        return _text(dead_id)

    # -- introspection --------------------------------------------------------------------------

    def pending_count(self) -> dict[Priority, int]:
        """Entries delivered to a consumer and not yet acknowledged, per priority (in progress)."""
        with self.client.pipeline(transaction=False) as pipe:
            for stream in self.streams:
                pipe.xpending(stream, self.group)
            replies = pipe.execute(raise_on_error=False)
        return {p: self._pending_total(r) for p, r in zip(PRIORITIES, replies, strict=True)}

    @staticmethod
    def _pending_total(reply: Any) -> int:
        if isinstance(reply, Exception):
            return 0
        if isinstance(reply, dict):
            return int(reply.get("pending", reply.get(b"pending", 0)) or 0)
        return int(reply[0]) if reply else 0

    def depth(self) -> dict[Priority, int]:
        """Entries waiting to be delivered, per priority (stream length less those in progress).

        Delayed retries are not counted until due; see :meth:`delayed_count`.
        """
        with self.client.pipeline(transaction=False) as pipe:
            for stream in self.streams:
                pipe.xlen(stream)
            for stream in self.streams:
                pipe.xpending(stream, self.group)
            replies = pipe.execute(raise_on_error=False)
        lengths, pendings = replies[:3], replies[3:]
        return {
            p: max(0, int(length) - self._pending_total(pending))
            for p, length, pending in zip(PRIORITIES, lengths, pendings, strict=True)
        }

    def delayed_count(self) -> int:
        """Retries waiting out their backoff."""
        return int(self.client.zcard(self.delayed_key))

    def dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        """The most recent dead-lettered entries, newest first (for operators and tests)."""
        entries = self.client.xrevrange(self.dead_key, count=count)
        return [{_text(k): _text(v) for k, v in fields.items()} | {"id": _text(i)} for i, fields in entries]

    def delete_all(self, keys: Iterable[str] | None = None) -> None:
        """Delete this queue's streams, delayed set and dead letters (tests, and resetting a sandbox)."""
        self.client.delete(*(keys or (*self.streams, self.delayed_key, self.dead_key)))
