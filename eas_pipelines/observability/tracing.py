"""OpenTelemetry for every EAS process: the provider, its exporters, and the W3C trace context.

One trace per request, from intake to the last connector call: the spans that make it are in
:mod:`.spans`; this module installs what records and exports them, and carries the context from
process to process (HTTP headers, the stored request, the fast queue's entry, a run tag).

Configuration is the standard ``OTEL_*`` variables only, read once by :func:`setup_tracing` (each
process calls it at start: ``eas gateway``, ``eas worker``, the code location for Dagster's run
processes and sensors). What they do here:

- ``OTEL_SDK_DISABLED=true``: nothing is installed. Spans are the API's no-ops, no trace id
  exists, none is stored or logged. The off switch of the overhead benchmark.
- no exporter configured (neither ``OTEL_TRACES_EXPORTER`` nor an ``OTEL_EXPORTER_OTLP_*ENDPOINT``):
  the SDK is installed with a sampler that records nothing. Every span still gets real W3C ids,
  which are propagated, stored with the request and written in log lines (so logs of one request
  can be joined by ``trace_id`` without a tracing backend), but no attribute is recorded and no
  span is exported: a span costs an id and a context switch, nothing per event.
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
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
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
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import (
    SpanKind,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

TRACER_NAME = "eas_pipelines"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_PROPAGATOR = TraceContextTextMapPropagator()
_SETUP_LOCK = threading.Lock()


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


_FORCED_SPAN_ID: ContextVar[int | None] = ContextVar("eas_forced_span_id", default=None)


class RunAwareIdGenerator(IdGenerator):
    """Random ids, except the span id :func:`next_span_id` asks for (a run span's, derived from its run id).

    Why: a run's steps may execute in processes that never saw the run span (the standard lane's
    run worker, a Kubernetes Job); deriving the run span's id from the run id lets each of them name
    it as parent, and lets whoever records the run span use that id.
    """

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        forced = _FORCED_SPAN_ID.get()
        if forced is not None:
            _FORCED_SPAN_ID.set(None)
            return forced
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        return self._random.generate_trace_id()


@contextmanager
def next_span_id(span_id: int) -> Iterator[None]:
    """The next span started inside (in this context) gets ``span_id`` (see :class:`RunAwareIdGenerator`)."""
    token = _FORCED_SPAN_ID.set(span_id)
    try:
        yield
    finally:
        _FORCED_SPAN_ID.reset(token)


def installed_provider() -> TracerProvider | None:
    """The process's SDK tracer provider, if one is installed (by EAS or by the embedding process)."""
    provider = trace.get_tracer_provider()
    return provider if isinstance(provider, TracerProvider) else None


HUB_ATTRIBUTE = "eas_exporter_hub"
"""Where the provider EAS installs keeps its :class:`ExporterHub`. The NLP service (which may not
import this module) installs its provider with a hub under the same name, so that in one process
(the tests, an embedding host) either can attach exporters to whichever provider came first."""


def _hub_of(provider: TracerProvider) -> Any:
    hub = getattr(provider, HUB_ATTRIBUTE, None)
    return hub if all(hasattr(hub, name) for name in ("add", "remove", "active")) else None


def setup_tracing(service_name: str) -> TracerProvider | None:
    """Install tracing for this process as the ``OTEL_*`` variables say (see the module docstring).

    Once per process: a second call (or a provider installed by the embedding process) keeps the
    provider there is. Returns it, or None when ``OTEL_SDK_DISABLED=true``. A bad ``OTEL_*`` value
    raises :class:`TracingConfigError` naming the variable, at start rather than at the first span.
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
            id_generator=RunAwareIdGenerator(),
        )
        setattr(provider, HUB_ATTRIBUTE, hub)
        provider.add_span_processor(hub)
        if exporter is not None:
            hub.add(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    log.debug("tracing set up for %s (exporting: %s)", name, exporter is not None)
    return provider


@contextmanager
def exporting_to(exporter: SpanExporter) -> Iterator[SpanExporter]:
    """Send every span ended while inside to ``exporter`` (at once, not batched); detached after.

    Installs the provider first if needed (service ``eas``). For tests (the SDK's in-memory
    exporter) and for processes that embed EAS with an exporter of their own.
    """
    provider = setup_tracing("eas") or installed_provider()
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


# ------------------------------------------------------------------ trace context


def current_trace_context() -> dict[str, str] | None:
    """The active span's W3C context as a carrier (``traceparent``, and ``tracestate`` if any).

    None when there is no valid span (tracing off): nothing is stored or sent then.
    """
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier or None


def traceparent_of(carrier: Mapping[str, Any] | None) -> str | None:
    """The ``traceparent`` of a stored carrier (None for none or a malformed one)."""
    if not carrier:
        return None
    value = carrier.get(TRACEPARENT)
    return value if isinstance(value, str) and value else None


def context_from(carrier: Mapping[str, Any] | None) -> Context | None:
    """The parent context a carrier names, or None when it names none (a new trace then starts)."""
    if not traceparent_of(carrier):
        return None
    assert carrier is not None
    extracted = _PROPAGATOR.extract({k: str(v) for k, v in carrier.items() if isinstance(v, str)})
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with the active context's ``traceparent`` (and ``tracestate``) added."""
    _PROPAGATOR.inject(headers)
    return headers


def current_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the active span in hex, or (None, None): what log lines carry."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


# ------------------------------------------------------------------ HTTP services


UNTRACED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
"""Scrapes and probes: every few seconds each, and no request's story."""


def fastapi_telemetry(untraced_paths: frozenset[str] = UNTRACED_PATHS) -> dict[str, Any]:
    """``FastAPI(telemetry=...)`` for an EAS HTTP service: server spans only, on the provider installed now.

    FastAPI's native telemetry makes the ``SERVER`` span of each request (continuing a caller's
    ``traceparent``). Its metrics and logs stay off (Prometheus and JSON logs cover them) and so do
    its per-operation spans (dependencies, serialisation: several spans per request for nothing a
    reader of a request's trace needs). With no provider installed (tracing never set up, or
    ``OTEL_SDK_DISABLED=true``) everything is off, and a request costs one boolean check.
    """
    provider = installed_provider()

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return scope.get("path") in untraced_paths

    return {
        "tracer_provider": provider,
        "tracing": provider is not None,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": untraced,
    }


@contextmanager
def attached_trace(carrier: Mapping[str, Any] | None) -> Iterator[None]:
    """Make the trace a carrier names the current context while inside (no span of its own).

    A worker handling a queued request: its log lines carry the request's trace id, and spans it
    starts meanwhile join that trace. Nothing happens without a carrier.
    """
    parent = context_from(carrier)
    if parent is None:
        yield
        return
    token = otel_context.attach(parent)
    try:
        yield
    finally:
        otel_context.detach(token)


def exporting() -> bool:
    """Whether spans recorded now would reach an exporter (work that only feeds spans may skip)."""
    provider = installed_provider()
    if provider is None:
        return False
    hub = _hub_of(provider)
    return True if hub is None else bool(hub.active)
