"""What every connector resource shares: where its sandbox writes, and its circuit breaker.

A connector resource is the Dagster face of one enterprise system. It holds configuration only
(URLs, breaker limits, which backend); the backend object that talks to the system is built
lazily and every call to it goes through the connector's Redis-shared circuit breaker, so an
outage seen by one run makes every other run fail fast instead of piling on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import dagster as dg
import pybreaker
from pydantic import Field
from sqlalchemy import Engine

from eas_pipelines.resources.circuit import (
    DEFAULT_FAIL_MAX,
    DEFAULT_PREFIX,
    DEFAULT_RESET_TIMEOUT_S,
    shared_breaker,
)
from eas_pipelines.resources.engines import engine_for

T = TypeVar("T")


class ConnectorResource(dg.ConfigurableResource):
    """Base of the connector resources; subclasses name the connector and build its backend."""

    connector: ClassVar[str]

    database_url: str = Field(description="PostgreSQL URL where the sandbox records calls (EAS_DATABASE_URL)")
    redis_url: str = Field(description="Redis URL holding the circuit breaker's shared state (EAS_REDIS_URL)")
    backend: str = Field(default="sandbox", description="which implementation to call; 'sandbox' records")
    breaker_fail_max: int = Field(default=DEFAULT_FAIL_MAX, description="consecutive failures that open it")
    breaker_reset_timeout_s: float = Field(default=DEFAULT_RESET_TIMEOUT_S, description="open this long")
    breaker_prefix: str = Field(default=DEFAULT_PREFIX, description="Redis key prefix of breaker state")

    @property
    def engine(self) -> Engine:
        return engine_for(self.database_url)

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        """This connector's breaker; two resources with the same Redis and prefix share one circuit."""
        return shared_breaker(
            self.connector,
            self.redis_url,
            fail_max=self.breaker_fail_max,
            reset_timeout_s=self.breaker_reset_timeout_s,
            prefix=self.breaker_prefix,
        )

    def client(self) -> Any:
        """The backend implementation; only the sandbox exists so far (the seam for real SDKs).

        Subclasses narrow the return type to their interface.
        """
        if self.backend != "sandbox":
            raise dg.Failure(
                f"{type(self).__name__}: backend {self.backend!r} is not available (only 'sandbox')",
                allow_retries=False,
            )
        return self._sandbox()

    def _sandbox(self) -> Any:
        raise NotImplementedError

    def _call(self, method: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run one backend call through the circuit breaker."""
        return self.breaker.call(method, *args, **kwargs)
