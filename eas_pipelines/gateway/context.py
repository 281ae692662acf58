"""Everything the gateway's routes share, built once by :func:`~eas_pipelines.gateway.app.create_app`."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from eas_pipelines.gateway.auth import Authenticator
from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.gateway.ratelimit import RateLimiter
from eas_pipelines.gateway.triage import AmountThresholds, Triage
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore


@dataclass(frozen=True)
class GatewayContext:
    settings: EASSettings
    store: RequestStore
    redis: redis.Redis
    nlp: NLPClient
    triage: Triage
    authenticator: Authenticator
    limiter: RateLimiter
    metrics: GatewayMetrics

    @property
    def amount_thresholds(self) -> AmountThresholds:
        """Each threshold setting a route names, with its value (the triage's own, so the two agree)."""
        return self.triage.amount_thresholds
