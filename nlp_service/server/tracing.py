"""OpenTelemetry tracing of the NLP service: its part of a request's trace.

The gateway calls ``POST /v1/parse`` with a W3C ``traceparent``; FastAPI's native telemetry makes
the server span (a child of the gateway's call span) and :func:`parse_span` the ``nlp.parse`` span
inside it, around the micro-batched model call and the conversation context: one request's trace
shows how long its text waited for a batch and how long the batch took.

Configured by the standard ``OTEL_*`` variables only, with the rules of the rest of EAS
(:mod:`eas_asgi.tracing`, shared with the intake side, which this service may not import):
``OTEL_SDK_DISABLED=true`` installs nothing and FastAPI's telemetry stays off (a parse costs what it
did before tracing existed); no exporter configured installs a provider that records nothing, so
trace ids still flow; ``OTEL_TRACES_EXPORTER=otlp|console`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT``
exports in batches over OTLP/HTTP. Spans carry ids, sizes and the model version: never the text.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from eas_asgi import tracing as shared

SERVICE = "eas-nlp"
TRACED_PATHS = frozenset({"/v1/parse", "/v1/parse/batch"})
"""Only parses are traced: probes, scrapes and admin calls are no request's story."""

_TRACER = trace.get_tracer("nlp_service")


def setup_tracing(service_name: str = SERVICE) -> TracerProvider | None:
    """Install tracing for this process from the ``OTEL_*`` variables; once (a provider already
    installed, by an earlier call or the host process, is kept). None when the SDK is disabled."""
    return shared.setup_tracing(service_name)


def exporting_to(exporter: SpanExporter) -> AbstractContextManager[SpanExporter]:
    """Send every span ended while inside to ``exporter`` at once (tests: the in-memory exporter)."""
    return shared.exporting_to(exporter, setup_tracing)


def fastapi_telemetry() -> dict[str, Any]:
    """``FastAPI(telemetry=...)``: server spans of parses only, on the provider installed now (none,
    and FastAPI's telemetry entirely off, when tracing is not set up or disabled)."""

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return scope.get("path") not in TRACED_PATHS

    return shared.fastapi_telemetry(untraced)


@contextmanager
def parse_span(texts: int, conversation: bool) -> Iterator[trace.Span]:
    """``nlp.parse``: the parse of ``texts`` texts (micro-batch wait, model call, context), current
    while inside. ``set_model_version`` adds which model answered."""
    with _TRACER.start_as_current_span(
        "nlp.parse",
        attributes={"nlp.texts": texts, "nlp.conversation": conversation},
        record_exception=False,
    ) as span:
        yield span


def set_model_version(span: trace.Span, version: str | None) -> None:
    if version and span.is_recording():
        span.set_attribute("nlp.model_version", version)
