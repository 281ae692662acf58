"""The monitoring agent's settings as a Dagster resource: what to check, where alerts go.

The URLs of EAS's own services default to what the deployment's settings say (the gateway on
``EAS_GATEWAY_HOST``/``EAS_GATEWAY_PORT``, the NLP replicas in ``EAS_NLP_URLS``), so a deployment
configures nothing extra; ``EAS_MONITORING_GATEWAY_URL`` overrides the gateway's URL where it is
reached through another name (a Kubernetes Service). PostgreSQL, Redis and the workers' heartbeats
are checked through the resources the workflows already use (``store``, ``fast_lane``).
"""

from __future__ import annotations

import dagster as dg
import redis
from pydantic import Field

from eas_pipelines.agents.monitoring.pending import AlertDigest
from eas_pipelines.connectors.base import optional_env
from eas_pipelines.resources.circuit import breaker_redis
from eas_pipelines.settings import load_settings

DEFAULT_CHANNEL = "#eas-alerts"
DEFAULT_ONCALL_TEAM = "it-ops"


class MonitoringResource(dg.ConfigurableResource):
    """Where EAS's services answer, how slow is too slow, and where alerts are posted."""

    redis_url: str = Field(description="Redis URL holding the pending P3 alerts (EAS_REDIS_URL)")
    key_prefix: str = Field(default="eas:monitoring", description="Redis key prefix of the digest")
    gateway_url: str | None = Field(
        default=None, description="the intake API's base URL; unset: from EAS_GATEWAY_HOST/PORT"
    )
    nlp_urls: str | None = Field(
        default=None, description="NLP replicas, comma-separated; unset: EAS_NLP_URLS"
    )
    alert_channel: str = Field(
        default=DEFAULT_CHANNEL, description="Slack channel of alerts (EAS_MONITORING_CHANNEL)"
    )
    oncall_team: str = Field(
        default=DEFAULT_ONCALL_TEAM,
        description="Opsgenie team and ServiceNow group of outages (EAS_ONCALL_TEAM)",
    )
    timeout_s: float = Field(default=3.0, description="longest wait for one health check")
    slow_ms: float = Field(default=1000.0, description="a check answering slower than this is degraded")

    def gateway(self) -> str:
        if self.gateway_url:
            return self.gateway_url.rstrip("/")
        settings = load_settings(generate_secrets=False)
        host = "127.0.0.1" if settings.gateway_host in ("0.0.0.0", "::") else settings.gateway_host
        return f"http://{host}:{settings.gateway_port}"

    def nlp_replicas(self) -> list[str]:
        if self.nlp_urls:
            return [url.strip().rstrip("/") for url in self.nlp_urls.split(",") if url.strip()]
        return [url.rstrip("/") for url in load_settings(generate_secrets=False).nlp_urls]

    def redis(self) -> redis.Redis:
        return breaker_redis(self.redis_url)

    def digest(self) -> AlertDigest:
        return AlertDigest(self.redis(), self.key_prefix)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> MonitoringResource:
        return cls(
            redis_url=redis_url,
            gateway_url=optional_env("EAS_MONITORING_GATEWAY_URL"),
            alert_channel=optional_env("EAS_MONITORING_CHANNEL") or DEFAULT_CHANNEL,
            oncall_team=optional_env("EAS_ONCALL_TEAM") or DEFAULT_ONCALL_TEAM,
        )
