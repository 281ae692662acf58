"""Health checks: EAS's own services and each connector, as plain functions returning :class:`Check`.

A check never raises: what failed becomes a ``down`` check naming the error, so one dead service
cannot hide the state of the others. Latency is measured around the call itself (``perf_counter``).

- Services: the gateway (``/healthz``: the process answers; ``/readyz``: its store and Redis do),
  each NLP replica (``/readyz``: the model is loaded), PostgreSQL (``SELECT 1`` on the request
  store), Redis (``PING``) and the fast lane's warm workers (live heartbeat keys; none alive is
  degraded, not down: fast-lane work then goes to Dagster's queue).
- Connectors: the circuit breaker's state (shared through Redis: ``open`` means recent calls failed
  and every run fails fast), then one cheap read-only call through the connector's client
  (:data:`PROBES`), timed. An open circuit is ``down`` without calling the system (the call would be
  refused anyway). A connector with no read-only call (a webhook, SMTP, PagerDuty's Events API) is
  judged by its breaker alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import sqlalchemy as sa

from eas_pipelines.connectors.base import ConnectorResource
from eas_pipelines.lanes.heartbeat import live_workers

PROBE_EMAIL = "eas-health-probe@invalid.example"
"""A look-up by this address finds nobody: a read that costs the system one indexed query."""

SERVICES = ("gateway", "nlp", "postgres", "redis", "workers")
CORE_SERVICES = frozenset({"gateway", "postgres", "redis"})
"""Without these no request is accepted or run: a failure is P1. Anything else down is P2."""


class Health(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    kind: str  # "service" or "connector"
    health: Health
    latency_ms: float | None
    detail: str
    breaker: str | None = None  # a connector's circuit: closed, open, half-open

    def as_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "health": str(self.health),
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "breaker": self.breaker,
            "detail": self.detail,
        }


PROBES: dict[str, Callable[[Any], object] | None] = {
    "sap": lambda client: client.plants(),
    "servicenow": lambda client: client.user_by_email(PROBE_EMAIL),
    "salesforce": lambda client: client.user_by_email(PROBE_EMAIL),
    "jira": lambda client: client.user_by_email(PROBE_EMAIL),
    "slack": lambda client: client.user_by_email(PROBE_EMAIL),
    "quickbooks": lambda client: client.vendors(limit=1),
    "bamboohr": lambda client: client.time_off_types(),
    "outlook_calendar": lambda client: client.rooms(),
    "opsgenie": lambda client: client.alerts(limit=1),
    "pagerduty": None,  # the Events API only accepts events
    "teams": None,  # an incoming webhook can only be posted to
    "email": None,  # SMTP: nothing to read
}
"""Connector (resource key) -> its cheap read-only call on the connector's client, or None."""

CONNECTORS = tuple(PROBES)


def _error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def _judged(name: str, kind: str, started: float, slow_ms: float, detail: str, **extra: Any) -> Check:
    latency = (time.perf_counter() - started) * 1000
    health = Health.DEGRADED if latency > slow_ms else Health.OK
    if health is Health.DEGRADED:
        detail = f"{detail}; slow: {latency:.0f} ms > {slow_ms:.0f} ms"
    return Check(name, kind, health, latency, detail, **extra)


def http_check(name: str, url: str, *, timeout_s: float, slow_ms: float) -> Check:
    """GET ``url``: 200 is ok (slow: degraded), anything else down with the status and body's start."""
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return Check(name, "service", Health.DOWN, None, f"{url}: {_error(exc)}")
    if response.status_code != 200:
        latency = (time.perf_counter() - started) * 1000
        return Check(
            name, "service", Health.DOWN, latency, f"{url}: HTTP {response.status_code} {response.text[:120]}"
        )
    return _judged(name, "service", started, slow_ms, f"{url}: HTTP 200")


def gateway_check(base_url: str, *, timeout_s: float, slow_ms: float) -> Check:
    """The gateway answers (``/healthz``) and is ready (``/readyz``: its store and Redis answer)."""
    alive = http_check("gateway", f"{base_url}/healthz", timeout_s=timeout_s, slow_ms=slow_ms)
    if alive.health is Health.DOWN:
        return alive
    ready = http_check("gateway", f"{base_url}/readyz", timeout_s=timeout_s, slow_ms=slow_ms)
    return ready


def nlp_check(replicas: list[str], *, timeout_s: float, slow_ms: float) -> Check:
    """Each replica's ``/readyz``: all ready is ok, some is degraded (the gateway fails over), none down."""
    checks = [http_check("nlp", f"{url}/readyz", timeout_s=timeout_s, slow_ms=slow_ms) for url in replicas]
    up = [c for c in checks if c.health is not Health.DOWN]
    latency = max((c.latency_ms for c in up if c.latency_ms is not None), default=None)
    detail = "; ".join(c.detail for c in checks) or "no NLP replica configured"
    if not up:
        return Check("nlp", "service", Health.DOWN, None, detail)
    if len(up) < len(checks) or any(c.health is Health.DEGRADED for c in up):
        return Check(
            "nlp", "service", Health.DEGRADED, latency, f"{len(up)}/{len(checks)} replicas ready: {detail}"
        )
    return Check("nlp", "service", Health.OK, latency, f"{len(up)}/{len(checks)} replicas ready")


def postgres_check(engine: sa.Engine, *, slow_ms: float) -> Check:
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is the check's finding
        return Check("postgres", "service", Health.DOWN, None, _error(exc))
    return _judged("postgres", "service", started, slow_ms, "SELECT 1 answered")


def redis_check(client: Any, *, slow_ms: float) -> Check:
    started = time.perf_counter()
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return Check("redis", "service", Health.DOWN, None, _error(exc))
    return _judged("redis", "service", started, slow_ms, "PING answered")


def workers_check(client: Any, prefix: str) -> Check:
    """Live warm workers (heartbeat keys): none is degraded (work falls back to the standard lane)."""
    started = time.perf_counter()
    try:
        workers = live_workers(client, prefix)
    except Exception as exc:  # noqa: BLE001
        return Check("workers", "service", Health.DOWN, None, f"heartbeats unreadable: {_error(exc)}")
    latency = (time.perf_counter() - started) * 1000
    if not workers:
        detail = "no warm worker alive: fast-lane requests run through Dagster's queue (slower)"
        return Check("workers", "service", Health.DEGRADED, latency, detail)
    return Check("workers", "service", Health.OK, latency, f"{len(workers)} alive: {', '.join(workers)}")


def connector_check(name: str, resource: ConnectorResource, *, slow_ms: float) -> Check:
    """The connector's breaker state, then its probe's latency (:data:`PROBES`)."""
    try:
        state = str(resource.breaker.current_state)
    except Exception as exc:  # noqa: BLE001 - the breaker's state lives in Redis
        state = f"unknown ({_error(exc)})"
    if state == "open":
        return Check(name, "connector", Health.DOWN, None, "circuit open: recent calls failed", state)
    probe = PROBES.get(name)
    if probe is None:
        return Check(name, "connector", Health.OK, None, "no read-only call: breaker closed", state)
    started = time.perf_counter()
    try:
        probe(resource.client())
    except Exception as exc:  # noqa: BLE001 - an outage, a refusal, a bad credential: all findings
        latency = (time.perf_counter() - started) * 1000
        return Check(name, "connector", Health.DOWN, latency, _error(exc), state)
    return _judged(name, "connector", started, slow_ms, "probe answered", breaker=state)


def severity_of(checks: list[Check]) -> str | None:
    """The alert a health report calls for: a core service down P1, anything else down P2, something
    degraded P3, all well None."""
    down = [c for c in checks if c.health is Health.DOWN]
    if any(c.name in CORE_SERVICES for c in down):
        return "P1"
    if down:
        return "P2"
    if any(c.health is Health.DEGRADED for c in checks):
        return "P3"
    return None


def overall(checks: list[Check]) -> Health:
    if any(c.health is Health.DOWN for c in checks):
        return Health.DOWN
    if any(c.health is Health.DEGRADED for c in checks):
        return Health.DEGRADED
    return Health.OK
