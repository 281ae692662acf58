"""OpenTelemetry tracing of the NLP service: its part of a request's trace.

The gateway calls ``POST /v1/parse`` with a W3C ``traceparent``; FastAPI's native telemetry makes
the server span (a child of the gateway's call span) and :func:`parse_span` the ``nlp.parse`` span
inside it, around the micro-batched model call and the conversation context: one request's trace
shows how long its text waited for a batch and how long the batch took.

Configured by the standard ``OTEL_*`` variables only, with the rules of the rest of EAS
(``eas_pipelines.observability.tracing``, which this service may not import):
``OTEL_SDK_DISABLED=true`` installs nothing and FastAPI's telemetry stays off (a parse costs what it
did before tracing existed); no exporter configured installs a provider that records nothing, so
trace ids still flow; ``OTEL_TRACES_EXPORTER=otlp|console`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT``
exports in batches over OTLP/HTTP. Spans carry ids, sizes and the model version: never the text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import SpanKind

SERVICE = "eas-nlp"
TRACED_PATHS = frozenset({"/v1/parse", "/v1/parse/batch"})
"""Only parses are traced: probes, scrapes and admin calls are no request's story."""

_TRACER = trace.get_tracer("nlp_service")
_SETUP_LOCK = threading.Lock()


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED=true``: the standard switch that turns tracing off entirely."""
    return _env("OTEL_SDK_DISABLED").lower() == "true"


def exporter_from_env() -> SpanExporter | None:
    """The exporter ``OTEL_TRACES_EXPORTER`` (or an OTLP endpoint variable) asks for; None for none."""
    chosen = _env("OTEL_TRACES_EXPORTER").lower()
    if not chosen:
        endpoint = _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_ENDPOINT")
        chosen = "otlp" if endpoint else "none"
    if chosen == "none":
        return None
    if chosen == "console":
        return ConsoleSpanExporter()
    if chosen == "otlp":
        for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            protocol = _env(variable)
            if protocol and protocol != "http/protobuf":
                raise ValueError(f"{variable}={protocol!r}: the NLP service exports over OTLP/HTTP only")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER={chosen!r}: supported are otlp, console or none")


HUB_ATTRIBUTE = "eas_exporter_hub"
"""Where an EAS-installed provider keeps its exporter hub (EAS's own processes use the same name):
whichever part of a process installs the provider first, the others attach exporters to its hub."""


class _Exporters(SpanProcessor):
    """The provider's span processor: the exporters attached now, which can come and go."""

    def __init__(self) -> None:
        self.processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.processors)

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self.processors = (*self.processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self.processors = tuple(p for p in self.processors if p is not processor)
        processor.shutdown()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self.processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self.processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self.processors)


class _RecordWhileExporting(Sampler):
    """``OTEL_TRACES_SAMPLER``'s decision while an exporter is attached; drop (ids only) otherwise."""

    def __init__(self, exporters: _Exporters, sampler: Sampler) -> None:
        self.exporters = exporters
        self.sampler = sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Any] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if not self.exporters.active:
            return SamplingResult(Decision.DROP)
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"RecordWhileExporting{{{self.sampler.get_description()}}}"


def installed_provider() -> TracerProvider | None:
    """The process's SDK tracer provider, if one is installed (by this service or its host)."""
    provider = trace.get_tracer_provider()
    return provider if isinstance(provider, TracerProvider) else None


def setup_tracing(service_name: str = SERVICE) -> TracerProvider | None:
    """Install tracing for this process from the ``OTEL_*`` variables; once (a provider already
    installed, by an earlier call or the host process, is kept). None when the SDK is disabled."""
    if sdk_disabled():
        return None
    with _SETUP_LOCK:
        existing = installed_provider()
        if existing is not None:
            return existing
        exporter = exporter_from_env()
        exporters = _Exporters()
        provider = TracerProvider(
            sampler=_RecordWhileExporting(exporters, _get_from_env_or_default()),
            resource=Resource.create({SERVICE_NAME: _env("OTEL_SERVICE_NAME") or service_name}),
        )
        setattr(provider, HUB_ATTRIBUTE, exporters)
        provider.add_span_processor(exporters)
        if exporter is not None:
            exporters.add(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        return provider


@contextmanager
def exporting_to(exporter: SpanExporter) -> Iterator[SpanExporter]:
    """Send every span ended while inside to ``exporter`` at once (tests: the in-memory exporter)."""
    provider = setup_tracing() or installed_provider()
    if provider is None:
        raise ValueError("OTEL_SDK_DISABLED=true: no span is created, so none can be exported")
    processor = SimpleSpanProcessor(exporter)
    hub = getattr(provider, HUB_ATTRIBUTE, None)
    if hub is None:  # the host process's own provider: attached for good
        provider.add_span_processor(processor)
        yield exporter
        return
    hub.add(processor)
    try:
        yield exporter
    finally:
        hub.remove(processor)


def fastapi_telemetry() -> dict[str, Any]:
    """``FastAPI(telemetry=...)``: server spans of parses only, on the provider installed now.

    Without a provider (tracing not set up, or disabled) FastAPI's telemetry is entirely off: it
    would otherwise look providers up in ``os.environ`` on every request.
    """
    provider = installed_provider()

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return scope.get("path") not in TRACED_PATHS

    return {
        "tracer_provider": provider,
        "tracing": provider is not None,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": untraced,
    }


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
