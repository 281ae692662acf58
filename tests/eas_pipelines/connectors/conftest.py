"""Connector tests run each vendor's real client against the emulators (``sandbox`` fixture)."""

from __future__ import annotations

import pytest

FAST_RETRIES = {"initial_backoff_s": 0.01, "max_backoff_s": 2.0, "max_attempts": 3}
"""Retry settings that keep tests quick while still honouring a short ``Retry-After``."""


@pytest.fixture
def connector_options(sandbox, redis_url: str, breaker_prefix: str) -> dict:
    """Options every connector resource takes in a test: Redis, its own breaker and delivery ledger,
    the CA, quick retries."""
    return {
        "redis_url": redis_url,
        "breaker_prefix": breaker_prefix,
        "idempotency_prefix": f"{breaker_prefix}:delivered",
        "ca_bundle": sandbox.ca_bundle,
        "breaker_fail_max": 2,
        "breaker_reset_timeout_s": 1.5,
        **FAST_RETRIES,
    }
