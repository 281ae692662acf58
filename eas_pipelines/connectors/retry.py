"""The one retry rule of every connector: transient failures retried with jittered exponential
backoff, a server's ``Retry-After`` honoured when it gives one.

Vendors say "slow down" in different ways (429, Salesforce's 403 ``REQUEST_LIMIT_EXCEEDED``,
S3's 503 ``SlowDown``, QuickBooks' 429 without ``Retry-After``); each connector translates its
vendor's answer into :class:`Transient` (retry, maybe after a given delay) or a final error, and
this module decides when to try again. Built on ``tenacity``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from datetime import UTC
from typing import TypeVar

import tenacity

from eas_pipelines.resources.circuit import ConnectorRejected

T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying (throttled, 5xx, connection dropped); ``retry_after`` in seconds."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ConnectorUnavailable(Exception):
    """The system stayed unavailable through every attempt: an outage, counted by the breaker."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class VendorRejected(ConnectorRejected):
    """The system answered and refused (4xx other than throttling): final, not an outage."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


class _WaitRetryAfter(tenacity.wait.wait_base):
    """The server's ``Retry-After`` when given (capped), else jittered exponential backoff."""

    def __init__(self, initial_s: float, max_s: float):
        self.backoff = tenacity.wait_random_exponential(multiplier=initial_s, max=max_s)
        self.max_s = max_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_s)
        return self.backoff(retry_state)


def call_with_retries(
    func: Callable[[], T],
    *,
    system: str,
    max_attempts: int,
    initial_backoff_s: float = 0.2,
    max_backoff_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``func``; on :class:`Transient` wait and retry, up to ``max_attempts`` calls in all.

    When every attempt failed, raise :class:`ConnectorUnavailable` naming the system and the last
    failure. Anything else ``func`` raises (a :class:`VendorRejected`, a bug) passes through at once.
    """
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, max_attempts)),
        wait=_WaitRetryAfter(initial_backoff_s, max_backoff_s),
        retry=tenacity.retry_if_exception_type(Transient),
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(func)
    except Transient as exc:
        raise ConnectorUnavailable(
            f"{system}: still failing after {max_attempts} attempts: {exc}", status=exc.status
        ) from exc
