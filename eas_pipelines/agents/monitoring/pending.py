"""The P3 alerts waiting for the daily digest, kept in Redis until the digest has posted them.

A sorted set per deployment (``<prefix>:digest``): each member is one alert as JSON (its key, summary,
source and details, no time), scored by when it was raised. The same alert raised again (a retried
op, a second health check finding the same slow connector) is the same member: it is counted once,
at its latest time. The digest reads the members due, posts them, then removes exactly those, so an
alert raised while the digest runs waits for the next one instead of being lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis


@dataclass(frozen=True)
class PendingAlert:
    """An alert waiting for the digest; ``raised_at`` is a Unix time."""

    key: str
    summary: str
    source: str
    details: dict[str, Any]
    raised_at: float
    member: str  # the sorted set's member, what :meth:`AlertDigest.remove` takes


class AlertDigest:
    """The pending P3 alerts of one deployment (``<prefix>:digest`` in Redis)."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._redis = client
        self.key = f"{prefix}:digest"

    def add(self, key: str, summary: str, source: str, details: dict[str, Any], raised_at: float) -> None:
        member = json.dumps(
            {"key": key, "summary": summary, "source": source, "details": details},
            sort_keys=True,
            default=str,
        )
        self._redis.zadd(self.key, {member: raised_at})

    def due(self, until: float) -> list[PendingAlert]:
        """The alerts raised up to ``until``, oldest first."""
        found = []
        for raw, score in self._redis.zrangebyscore(self.key, "-inf", until, withscores=True):
            member = raw.decode() if isinstance(raw, bytes) else raw
            body = json.loads(member)
            found.append(
                PendingAlert(
                    body["key"], body["summary"], body["source"], body["details"], float(score), member
                )
            )
        return found

    def remove(self, alerts: list[PendingAlert]) -> int:
        """Forget ``alerts`` once posted (an alert raised again meanwhile is the same member: it was
        in the digest just posted, so it goes too)."""
        if not alerts:
            return 0
        return int(self._redis.zrem(self.key, *[a.member for a in alerts]))

    def size(self) -> int:
        return int(self._redis.zcard(self.key))
