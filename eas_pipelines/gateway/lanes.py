"""Choosing the lane of a request when the fast lane has no live workers.

Fallback rule: a fast-lane request goes to the fast lane while a worker is alive, or while one was
seen alive by this gateway within ``fallback_s`` (``EAS_FAST_LANE_FALLBACK_SECONDS``): a worker
restarting (a rolling deploy) does not flip traffic to the slower lane. Past that, and whenever this
gateway has not seen a live worker since it started, the request goes to the standard lane, where
the Dagster sensor picks it up. A worker's heartbeat key already outlives it by up to three beats,
so "alive" here is itself debounced.

``live_workers`` walks the keyspace with SCAN; its answer is cached for ``cache_s`` (one second) so
that a burst of intake costs one scan, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import live_workers
from eas_pipelines.routing import Lane

logger = logging.getLogger(__name__)

DEFAULT_CACHE_S = 1.0


class LaneSelector:
    def __init__(
        self,
        client: redis.Redis,
        fallback_s: float,
        *,
        prefix: str = "eas:",
        cache_s: float = DEFAULT_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self.fallback_s = fallback_s
        self.cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._alive = False
        self._last_alive_at: float | None = None

    def workers_alive(self) -> bool:
        """Whether the fast lane has a live worker now (or had one within the fallback window)."""
        now = self._clock()
        with self._lock:
            if self._checked_at is None or now - self._checked_at >= self.cache_s:
                try:
                    self._alive = bool(live_workers(self._client, self._prefix))
                except redis.RedisError as exc:
                    logger.warning("cannot see fast-lane workers (Redis): %s", exc)
                    self._alive = False
                self._checked_at = now
                if self._alive:
                    self._last_alive_at = now
            if self._alive:
                return True
            return self._last_alive_at is not None and now - self._last_alive_at < self.fallback_s

    def choose(self, lane: Lane) -> tuple[Lane, bool]:
        """The lane to use for a route's ``lane``, and whether that is a fallback."""
        if lane is Lane.FAST and not self.workers_alive():
            return Lane.STANDARD, True
        return lane, False


class LazyFastQueue:
    """The fast-lane queue, created on first use.

    :class:`FastQueue` creates its consumer groups in Redis when constructed; the gateway must
    start (and accept requests onto the standard lane) while Redis is down, so the queue is built
    when the first fast-lane request needs it, and again after a failed attempt.
    """

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._queue: FastQueue | None = None
        self._lock = threading.Lock()

    def get(self) -> FastQueue:
        """The queue; raises :class:`redis.RedisError` while Redis cannot be reached."""
        with self._lock:
            if self._queue is None:
                self._queue = FastQueue(self.client, prefix=self.prefix)
            return self._queue
