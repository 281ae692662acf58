"""Request ids, the one-line-per-request access log, and HTTP metrics, as one ASGI middleware.

A pure ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: it sees the final status of
every response (including errors raised by handlers and 404s of unknown paths) and adds no task
hop per request. The request id comes from the caller's ``X-Request-ID`` when it is a sane token
(so a trace spans the client, the gateway and the NLP service), else a fresh one; it is echoed in
the response, bound to the logging context (every log line of the request carries it) and stored
in ``request.state.request_id`` for handlers.

:func:`configure_logging` turns the process's stdlib logging into JSON lines via structlog's
``ProcessorFormatter``: only the serving process calls it, so importing or testing the app leaves
the logging of the host process (pytest, Dagster) alone. Every line is masked for PII first (a
request's text carries what people typed): :class:`~eas_pipelines.pii.PiiLogFilter` on the handler
masks the message and exception text, :class:`~eas_pipelines.pii.PiiStructlogProcessor` in the chain
masks the ``extra=`` fields and anything else that reaches the event dict.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.pii import PiiLogFilter, PiiStructlogProcessor

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


def _drop_color_message(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """uvicorn adds an ANSI-coloured copy of each message for terminals; JSON readers want one."""
    event.pop("color_message", None)
    return event


def _masked_exception(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """The exception text :class:`PiiLogFilter` masked (it clears ``exc_info``, which structlog reads)."""
    record = event.get("_record")
    if record is not None and record.exc_text and "exc_info" not in event:
        event["exception"] = record.exc_text
    return event


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """JSON lines on ``stream`` (stderr) for every stdlib logger of the process, uvicorn's included.

    ``extra=`` fields of a log call become keys of the JSON object; the request id bound by the
    middleware is added to every line logged while a request is handled.
    """
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            _drop_color_message,
            _masked_exception,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            PiiStructlogProcessor(),
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(PiiLogFilter())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log duplicates ours (without the request id); its error log stays.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
