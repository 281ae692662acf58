"""Prometheus metrics of the NLP server, on a registry of the app's own.

A registry per app (not the process-global default) lets tests build many apps in one
process and lets each app's ``/metrics`` show only its own numbers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

# A parse takes a few milliseconds, so the buckets start well under one.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
BATCH_SIZE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512)
UNMATCHED = "unmatched"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServerMetrics:
    """Every metric the server exports; ``render`` gives the ``/metrics`` body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # process_cpu_seconds_total, process_resident_memory_bytes...: what the service costs.
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "eas_nlp_requests",
            "HTTP requests by endpoint (route template) and status code.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "eas_nlp_request_latency_seconds",
            "Time from receiving a request to sending its response, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "eas_nlp_batch_size",
            "Texts per model call made by the micro-batcher.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=self.registry,
        )
        self.batch_latency = Histogram(
            "eas_nlp_batch_latency_seconds",
            "Duration of one model call (parse_batch) of the micro-batcher.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "eas_nlp_model_info",
            "The model being served (value 1); absent while none is loaded.",
            ["version", "backend", "device"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "eas_nlp_model_reloads",
            "Model loads after start-up requested through /v1/models/reload, by outcome.",
            ["outcome"],
            registry=self.registry,
        )

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_latency.observe(seconds)

    def set_model(self, version: str, backend: str, device: str) -> None:
        """Replace the model-info series, so exactly one model is reported at a time."""
        self.model_info.clear()
        self.model_info.labels(version=version, backend=backend, device=device).set(1)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by route template and status.

    Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which costs a task and a
    stream per request. The route template (``/v1/conversations/{conversation_id}``) keeps
    the label set bounded; the router stores the matched route in the scope.
    """

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before responding

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or UNMATCHED
            self.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            self.metrics.request_latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)


__all__ = ["CONTENT_TYPE_LATEST", "MetricsMiddleware", "ServerMetrics"]
