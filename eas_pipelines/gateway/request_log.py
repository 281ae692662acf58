"""Request ids, the one-line-per-request access log, and HTTP metrics, as one ASGI middleware.

A pure ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it sees the final status of
every response (including errors raised by handlers and 404s of unknown paths) and adds no task
hop per request. The request id comes from the caller's ``X-Request-ID`` when it is a sane token
(so a trace spans the client, the gateway and the NLP service), else a fresh one; it is echoed in
the response, bound to the logging context (every log line of the request carries it) and stored
in ``request.state.request_id`` for handlers.

:func:`configure_logging` (JSON lines, PII masked, with trace ids) lives in
:mod:`eas_pipelines.observability.logs`, the one logging setup of every EAS process; it is
re-exported here for the gateway's callers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.observability.logs import configure_logging

__all__ = ["ACCESS_LOGGER", "REQUEST_ID_HEADER", "RequestLogMiddleware", "configure_logging"]

ACCESS_LOGGER = "eas.gateway.access"
REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_of(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, state, request_id, status, time.perf_counter() - started)

    def _record(
        self, scope: Scope, state: dict[str, Any], request_id: str, status: int, seconds: float
    ) -> None:
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        self.metrics.http_requests.labels(method, endpoint, str(status)).inc()
        self.metrics.http_latency.labels(method, endpoint).observe(seconds)
        if endpoint in ("/metrics", "/healthz", "/readyz") and status < 400:
            return  # probes and scrapes every few seconds would drown the log
        access_log.info(
            "%s %s %s",
            method,
            scope.get("path", ""),
            status,
            extra={
                "method": method,
                "path": scope.get("path", ""),
                "endpoint": endpoint,
                "status": status,
                "latency_ms": round(seconds * 1000.0, 3),
                "client": state.get("client_id"),
                "peer": _peer(scope),
                "request_id": request_id,
                "eas_request_id": state.get("eas_request_id"),
            },
        )
