"""``/healthz``, ``/readyz`` and ``/metrics``: for Kubernetes probes and Prometheus, unauthenticated.

Readiness means "can accept requests": the store and Redis answer. The NLP service is reported
but does not make the gateway unready, because requests are accepted (and classified later)
without it; taking the gateway out of rotation for it would turn a degraded service into none.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from eas_pipelines.gateway.context import GatewayContext
from eas_pipelines.gateway.schemas import HealthOut, ReadyOut


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]


def build_router(ctx: GatewayContext) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=HealthOut)
    async def healthz() -> HealthOut:
        """The process answers (says nothing about its dependencies; see /readyz)."""
        return HealthOut(status="ok")

    @router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
    def readyz() -> Response:
        """200 when the request store and Redis answer; 503 naming what failed otherwise."""
        checks: dict[str, str] = {}
        try:
            with ctx.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready, and is reported
            checks["database"] = _error(exc)
        try:
            ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = _error(exc)
        ready = all(value == "ok" for value in checks.values())
        body = ReadyOut(
            status="ready" if ready else "not ready",
            checks=checks,
            nlp_replicas={state.url: state.available for state in ctx.nlp.states()},
        )
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, content_type = ctx.metrics.render()
        return Response(body, media_type=content_type)

    return router
