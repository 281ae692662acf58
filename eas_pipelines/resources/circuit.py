"""Circuit breakers for connector calls, with their state shared through Redis.

Every agent run is a separate process (a Dagster run, or a warm fast-lane worker), so a breaker
that lived in one process's memory would let each new run hammer a system that is already known
to be down. :class:`pybreaker.CircuitRedisStorage` keeps the state, the failure count and the time
the circuit opened in Redis under one namespace per connector, so every process sees the same
circuit: once it opens, calls everywhere fail fast with :class:`pybreaker.CircuitBreakerError`
until ``reset_timeout`` has passed and one trial call succeeds.

Business refusals (an unknown purchase order, an insufficient leave balance, a duplicate posting)
are answers from a healthy system, not outages: they derive from :class:`ConnectorRejected` and
never count towards opening a circuit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pybreaker
import redis

T = TypeVar("T")

DEFAULT_PREFIX = "eas:circuit"
DEFAULT_FAIL_MAX = 5
DEFAULT_RESET_TIMEOUT_S = 30.0

CircuitBreakerError = pybreaker.CircuitBreakerError


class ConnectorRejected(Exception):
    """A connector's system answered and refused the call (not an outage: the circuit stays closed)."""


_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_breakers: dict[tuple[str, str, int, float], pybreaker.CircuitBreaker] = {}


def breaker_redis(redis_url: str) -> redis.Redis:
    """The process's Redis client for breaker state, one per URL.

    It must return bytes (no ``decode_responses``): ``CircuitRedisStorage`` decodes the state
    itself and would fail on ``str`` values.
    """
    with _lock:
        client = _clients.get(redis_url)
        if client is None:
            client = redis.Redis.from_url(
                redis_url, decode_responses=False, socket_connect_timeout=2, socket_timeout=2
            )
            _clients[redis_url] = client
        return client


def make_breaker(
    name: str,
    client: redis.Redis,
    *,
    fail_max: int = DEFAULT_FAIL_MAX,
    reset_timeout_s: float = DEFAULT_RESET_TIMEOUT_S,
    prefix: str = DEFAULT_PREFIX,
) -> pybreaker.CircuitBreaker:
    """A new breaker for connector ``name`` whose state lives in Redis under ``<prefix>:<name>``.

    Two breakers made with the same ``prefix`` and ``name`` (in one process or in two) share one
    circuit. If Redis itself is unreachable the storage reports the circuit closed, so a Redis
    outage does not stop every connector call.
    """
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, client, namespace=f"{prefix}:{name}", fallback_circuit_state="closed"
    )
    return pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout_s,
        exclude=[ConnectorRejected],
        state_storage=storage,
        name=name,
    )


def shared_breaker(
    name: str,
    redis_url: str,
    *,
    fail_max: int = DEFAULT_FAIL_MAX,
    reset_timeout_s: float = DEFAULT_RESET_TIMEOUT_S,
    prefix: str = DEFAULT_PREFIX,
) -> pybreaker.CircuitBreaker:
    """The process's breaker for ``name`` on ``redis_url`` (cached: its state is in Redis anyway)."""
    key = (f"{redis_url}|{prefix}", name, fail_max, reset_timeout_s)
    with _lock:
        existing = _breakers.get(key)
    if existing is not None:
        return existing
    created = make_breaker(
        name, breaker_redis(redis_url), fail_max=fail_max, reset_timeout_s=reset_timeout_s, prefix=prefix
    )
    with _lock:
        return _breakers.setdefault(key, created)


def guarded_call(
    breaker: pybreaker.CircuitBreaker, func: Callable[..., T], *args: object, **kwargs: object
) -> T:
    """Call ``func`` through ``breaker``; ``CircuitBreakerError`` when the circuit is open."""
    return breaker.call(func, *args, **kwargs)
