"""The fast lane seen from Dagster: live workers and the Redis priority queue.

The standard-lane sensor asks whether any warm worker is alive (heartbeat keys
``<prefix>workers:<id>``) before taking over fast-lane work; the approval and failure sensors put
resumed and retried fast-lane requests back on the Redis queue.
"""

from __future__ import annotations

import threading

import dagster as dg
import redis
from pydantic import Field

from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX, FastQueue
from eas_pipelines.lanes.heartbeat import live_workers

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _client(redis_url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(redis_url)
        if client is None:
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
            _clients[redis_url] = client
        return client


class FastLaneResource(dg.ConfigurableResource):
    """Enqueue on the fast lane and see which warm workers are alive."""

    redis_url: str = Field(description="Redis URL of the fast lane (EAS_REDIS_URL)")
    prefix: str = Field(default=DEFAULT_PREFIX, description="key prefix shared with the workers")

    @property
    def client(self) -> redis.Redis:
        return _client(self.redis_url)

    def live_workers(self) -> list[str]:
        """Ids of workers whose heartbeat key has not expired (a SCAN over ``<prefix>workers:*``)."""
        return live_workers(self.client, self.prefix)

    def enqueue(self, request_id: str, priority: int, attempt: int, *, delay_s: float = 0.0) -> str:
        """Queue a request for the warm workers; idempotent per (request, attempt)."""
        return FastQueue(self.client, prefix=self.prefix).enqueue(
            request_id, priority, attempt, delay_s=delay_s
        )
