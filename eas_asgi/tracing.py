"""OpenTelemetry set-up of every EAS process, the intake side's and the NLP service's alike.

One rule for both, so that their spans join one trace and their log lines name it the same way;
here because neither service may import the other (see the package docstring). Each service keeps
its own spans and names in its own module (``eas_pipelines.observability.tracing``,
``nlp_service.server.tracing``) and calls these with them.

Configuration is the standard ``OTEL_*`` variables only, read once by :func:`setup_tracing`:

- ``OTEL_SDK_DISABLED=true``: nothing is installed. Spans are the API's no-ops, no trace id
  exists, FastAPI's telemetry stays off.
- no exporter configured (neither ``OTEL_TRACES_EXPORTER`` nor an ``OTEL_EXPORTER_OTLP_*ENDPOINT``):
  the SDK is installed with a sampler that records nothing. Every span still gets real W3C ids,
  which are propagated and written in log lines, but no attribute is recorded and no span is
  exported: a span costs an id and a context switch, nothing per event.
- an exporter configured (``OTEL_TRACES_EXPORTER=otlp|console``; ``otlp`` is implied by an
  ``OTEL_EXPORTER_OTLP_ENDPOINT``/``_TRACES_ENDPOINT``): spans are sampled by
  ``OTEL_TRACES_SAMPLER`` (default: parent-based, always on) and exported in batches
  (``OTEL_BSP_*``) over OTLP/HTTP (``OTEL_EXPORTER_OTLP_*`` headers, timeouts, certificates).
  ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name the process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
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
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import SpanKind

log = logging.getLogger(__name__)

_SETUP_LOCK = threading.Lock()

HUB_ATTRIBUTE = "eas_exporter_hub"
"""Where a provider installed by :func:`setup_tracing` keeps its :class:`ExporterHub`: whichever part
of a process (the tests, an embedding host) installs the provider first, the others attach their
exporters to its hub."""


class TracingConfigError(ValueError):
    """An ``OTEL_*`` variable has a value this process cannot honour (the message names it)."""


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def sdk_disabled() -> bool:
    """``OTEL_SDK_DISABLED=true``: the standard switch that turns tracing off entirely."""
    return _env("OTEL_SDK_DISABLED").lower() == "true"


def exporter_from_env() -> SpanExporter | None:
    """The exporter the ``OTEL_*`` variables ask for, or None when they ask for none.

    ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``; one value: EAS ships no other
    exporter) wins; unset, an OTLP endpoint variable implies ``otlp``. OTLP goes over HTTP/protobuf,
    the one protocol installed: ``OTEL_EXPORTER_OTLP_PROTOCOL=grpc`` is refused by name.
    """
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
                raise TracingConfigError(
                    f"{variable}={protocol!r}: EAS exports traces over OTLP/HTTP only; set it to "
                    "http/protobuf (or unset it) and point the endpoint at the collector's HTTP port (4318)"
                )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise TracingConfigError(
        f"OTEL_TRACES_EXPORTER={chosen!r}: EAS supports otlp, console or none (one value, not a list)"
    )


class ExporterHub(SpanProcessor):
    """The provider's one span processor: the exporters of the moment, which can come and go.

    An SDK provider cannot drop a processor once added; tests and embedding processes need to
    attach an exporter for a while. :class:`RecordWhileExporting` asks :attr:`active` so that no
    span is recorded while nothing would export it.
    """

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self._processors)

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = tuple(p for p in self._processors if p is not processor)
        processor.shutdown()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._processors)


class RecordWhileExporting(Sampler):
    """Records (by ``OTEL_TRACES_SAMPLER``'s rule) only while some exporter is attached.

    With none, every span is dropped: it still gets its ids (the trace id reaches logs, the store
    and the services called), but sets no attribute and reaches no processor.
    """

    def __init__(self, hub: ExporterHub, sampler: Sampler) -> None:
        self.hub = hub
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
        if not self.hub.active:
            return SamplingResult(Decision.DROP)
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"RecordWhileExporting{{{self.sampler.get_description()}}}"


def installed_provider() -> TracerProvider | None:
    """The process's SDK tracer provider, if one is installed (by EAS or by the embedding process)."""
    provider = trace.get_tracer_provider()
    return provider if isinstance(provider, TracerProvider) else None


def _hub_of(provider: TracerProvider) -> ExporterHub | None:
    hub = getattr(provider, HUB_ATTRIBUTE, None)
    return hub if isinstance(hub, ExporterHub) else None


def setup_tracing(service_name: str, *, id_generator: IdGenerator | None = None) -> TracerProvider | None:
    """Install tracing for this process as the ``OTEL_*`` variables say (see the module docstring).

    Once per process: a second call (or a provider installed by the embedding process) keeps the
    provider there is. Returns it, or None when ``OTEL_SDK_DISABLED=true``. A bad ``OTEL_*`` value
    raises :class:`TracingConfigError` naming the variable, at start rather than at the first span.
    ``id_generator``: the SDK's random ids unless a service needs ids of its own (EAS's run spans).
    """
    if sdk_disabled():
        return None
    with _SETUP_LOCK:
        existing = installed_provider()
        if existing is not None:
            return existing
        exporter = exporter_from_env()
        name = _env("OTEL_SERVICE_NAME") or service_name
        hub = ExporterHub()
        provider = TracerProvider(
            sampler=RecordWhileExporting(hub, _get_from_env_or_default()),
            resource=Resource.create({SERVICE_NAME: name}),
            id_generator=id_generator,
        )
        setattr(provider, HUB_ATTRIBUTE, hub)
        provider.add_span_processor(hub)
        if exporter is not None:
            hub.add(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    log.debug("tracing set up for %s (exporting: %s)", name, exporter is not None)
    return provider


@contextmanager
def exporting_to(
    exporter: SpanExporter, setup: Callable[[], TracerProvider | None]
) -> Iterator[SpanExporter]:
    """Send every span ended while inside to ``exporter`` (at once, not batched); detached after.

    ``setup`` installs the service's provider first if none is there yet (its :func:`setup_tracing`).
    For tests (the SDK's in-memory exporter) and for processes that embed a service with an exporter
    of their own.
    """
    provider = setup() or installed_provider()
    if provider is None:
        raise TracingConfigError("OTEL_SDK_DISABLED=true: no span is created, so none can be exported")
    processor = SimpleSpanProcessor(exporter)
    hub = _hub_of(provider)
    if hub is None:  # a provider the embedding process installed: it cannot be detached again
        provider.add_span_processor(processor)
        yield exporter
        return
    hub.add(processor)
    try:
        yield exporter
    finally:
        hub.remove(processor)


def exporting() -> bool:
    """Whether spans recorded now would reach an exporter (work that only feeds spans may skip)."""
    provider = installed_provider()
    if provider is None:
        return False
    hub = _hub_of(provider)
    return True if hub is None else hub.active


def current_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the active span in hex, or (None, None): what log lines carry."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def fastapi_telemetry(untraced: Callable[[MutableMapping[str, Any]], bool]) -> dict[str, Any]:
    """``FastAPI(telemetry=...)``: server spans only, on the provider installed now.

    FastAPI's native telemetry makes the ``SERVER`` span of each request (continuing a caller's
    ``traceparent``) except those ``untraced`` says of their ASGI scope (probes, scrapes). Its metrics
    and logs stay off (Prometheus and JSON logs cover them) and so do its per-operation spans
    (dependencies, serialisation: several spans per request for nothing a reader of a request's
    trace needs). With no provider installed (tracing never set up, or ``OTEL_SDK_DISABLED=true``)
    everything is off: it would otherwise look providers up in ``os.environ`` on every request.
    """
    provider = installed_provider()
    return {
        "tracer_provider": provider,
        "tracing": provider is not None,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": untraced,
    }
