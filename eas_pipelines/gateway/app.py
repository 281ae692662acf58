"""The intake gateway's FastAPI app: wiring, background loops and error mapping.

``create_app`` takes its collaborators (store, Redis client, NLP client) so that tests and an
embedding process can hand in their own; whatever it builds from the settings itself it also
closes at shutdown, and nothing it was handed.

Background loops (started by the lifespan, each in a worker thread so a slow call never blocks the
event loop): the NLP health check every ``health_check_interval_s`` and the reconciler every
``reconcile_interval_s``. ``None`` turns a loop off (tests drive them by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import redis as redis_lib
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from eas_asgi.methods import AllowedMethodsMiddleware
from eas_pipelines.gateway import reconciler
from eas_pipelines.gateway.auth import Authenticator
from eas_pipelines.gateway.context import GatewayContext
from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.gateway.ratelimit import DEFAULT_KEY_PREFIX, RateLimiter
from eas_pipelines.gateway.request_log import RequestLogMiddleware
from eas_pipelines.gateway.routes import approvals, intake, operations, review
from eas_pipelines.gateway.triage import Triage
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX
from eas_pipelines.observability.tracing import fastapi_telemetry
from eas_pipelines.settings import EASSettings, ensure_jwt_secret
from eas_pipelines.store import RequestNotFound, RequestStore

logger = logging.getLogger(__name__)

API_VERSION = "1"
DEFAULT_RECONCILE_INTERVAL_S = 5.0
DEFAULT_HEALTH_CHECK_INTERVAL_S = 5.0
# The HTTP thread pool runs up to 40 handlers at once; the engine's pool must let them all work.
DB_POOL_SIZE = 10
DB_MAX_OVERFLOW = 30
REDIS_CONNECT_TIMEOUT_S = 1.0
REDIS_SOCKET_TIMEOUT_S = 2.0


def _require(value: str | None, name: str) -> str:
    if value is None:
        raise ValueError(
            f"{name} is not set: pass the object to create_app, set EAS_{name.upper()}, or start the "
            "embedded servers first (eas up) so that they fill it in"
        )
    return value


async def _every(interval_s: float, name: str, work: Callable[[], Any]) -> None:
    """Run ``work`` in a worker thread every ``interval_s``, forever; failures are logged, not fatal."""
    while True:
        try:
            await anyio.to_thread.run_sync(work)
        except Exception:  # noqa: BLE001 - a background loop must outlive one bad pass
            logger.exception("gateway background task %s failed", name)
        await asyncio.sleep(interval_s)


def create_app(
    settings: EASSettings,
    store: RequestStore | None = None,
    redis: redis_lib.Redis | None = None,
    nlp_client: NLPClient | None = None,
    *,
    queue_prefix: str = DEFAULT_PREFIX,
    rate_limit_prefix: str = DEFAULT_KEY_PREFIX,
    reconcile_interval_s: float | None = DEFAULT_RECONCILE_INTERVAL_S,
    reconcile_older_than: timedelta = reconciler.DEFAULT_OLDER_THAN,
    health_check_interval_s: float | None = DEFAULT_HEALTH_CHECK_INTERVAL_S,
) -> FastAPI:
    """Build the intake API.

    ``queue_prefix`` is the fast lane's Redis key prefix (workers and heartbeats must share it);
    ``rate_limit_prefix`` that of the rate-limit counters. Both exist so tests can isolate keys.
    """
    owned: list[Callable[[], None]] = []
    metrics = GatewayMetrics()
    if store is None:
        store = RequestStore.from_url(
            _require(settings.database_url, "database_url"),
            pool_size=DB_POOL_SIZE,
            max_overflow=DB_MAX_OVERFLOW,
            application_name="eas-gateway",
        )
        owned.append(store.close)
    if redis is None:
        redis = redis_lib.Redis.from_url(
            _require(settings.redis_url, "redis_url"),
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
            socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            health_check_interval=30,
        )
        owned.append(redis.close)
    if nlp_client is None:
        nlp_client = NLPClient(settings.nlp_urls)
        owned.append(nlp_client.close)
    nlp_client.attach_observers(metrics.observe_replica_state, metrics.observe_nlp_call)

    secret = settings.jwt_secret or ensure_jwt_secret(settings.data_dir)
    ctx = GatewayContext(
        settings=settings,
        store=store,
        redis=redis,
        nlp=nlp_client,
        triage=Triage.build(store, nlp_client, redis, settings, metrics=metrics, queue_prefix=queue_prefix),
        authenticator=Authenticator(
            secret.get_secret_value(), settings.jwt_issuer, settings.jwt_audience, metrics
        ),
        limiter=RateLimiter(redis, settings.rate_limit_per_minute, key_prefix=rate_limit_prefix),
        metrics=metrics,
    )

    def reconcile_once() -> reconciler.ReconcileReport:
        return reconciler.reconcile(ctx.triage, older_than=reconcile_older_than)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if health_check_interval_s is not None:
            tasks.append(
                asyncio.create_task(_every(health_check_interval_s, "nlp-health", ctx.nlp.check_health))
            )
        if reconcile_interval_s is not None:
            tasks.append(asyncio.create_task(_every(reconcile_interval_s, "reconciler", reconcile_once)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for close in reversed(owned):
                close()

    app = FastAPI(
        title="EAS intake API",
        version=API_VERSION,
        summary="Natural-language requests in; audited, queued business workflows out.",
        lifespan=lifespan,
        # A request's trace starts here (or continues the caller's traceparent): observability.tracing.
        telemetry=fastapi_telemetry(),
    )
    app.state.gateway = ctx
    app.state.reconcile_once = reconcile_once
    # Added first, so it runs inside the access log: 405s and OPTIONS answers are logged too.
    app.add_middleware(AllowedMethodsMiddleware)
    app.add_middleware(RequestLogMiddleware, metrics=metrics)

    @app.exception_handler(RequestNotFound)
    async def _not_found(request: Request, exc: RequestNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        logger.error("request store unavailable: %s", exc)
        return JSONResponse(
            {"detail": "request store unavailable; nothing was changed, retry later"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    app.include_router(intake.build_router(ctx))
    app.include_router(approvals.build_router(ctx))
    app.include_router(operations.build_router(ctx))
    app.include_router(review.build_router(ctx))
    return app
