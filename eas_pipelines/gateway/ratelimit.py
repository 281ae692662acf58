"""Per-client rate limit of the intake API, counted in Redis so that every gateway replica shares it.

The ``limits`` library's moving window holds exactly "N per minute" (no burst of 2N at a window
edge, as a fixed window allows) and gives the time the oldest counted request leaves the window,
which is the honest ``Retry-After``. It runs on the gateway's own Redis connection pool.

If Redis cannot be reached the limiter lets the request through (and says so in the log and the
metrics): the request store is PostgreSQL, and refusing all intake because the counter is down
would turn a Redis outage into an outage of the whole API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis
from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "eas:gateway:ratelimit"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int  # 0 when allowed
    reset_after_s: int
    degraded: bool = False  # Redis was unreachable and the request was let through


class RateLimiter:
    """``check(client_id)`` counts one request of that client and says whether it may proceed."""

    def __init__(self, client: redis.Redis, per_minute: int, *, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        # The URI is only used for its scheme when a pool is given; the pool is the gateway's own.
        storage = RedisStorage("redis://", connection_pool=client.connection_pool, key_prefix=key_prefix)
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(per_minute)
        self.per_minute = per_minute

    def check(self, client_id: str) -> RateDecision:
        try:
            allowed = self._limiter.hit(self._item, client_id)
            stats = self._limiter.get_window_stats(self._item, client_id)
        except (redis.RedisError, OSError) as exc:
            logger.warning("rate limit not applied, Redis unreachable: %s", exc, extra={"client": client_id})
            return RateDecision(True, self.per_minute, self.per_minute, 0, 60, degraded=True)
        reset_after = max(1, math.ceil(stats.reset_time - time.time()))
        return RateDecision(
            allowed=allowed,
            limit=self.per_minute,
            remaining=max(0, stats.remaining),
            retry_after_s=0 if allowed else reset_after,
            reset_after_s=reset_after,
        )
