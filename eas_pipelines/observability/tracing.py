"""OpenTelemetry for every EAS process: the provider, its exporters, and the W3C trace context.

One trace per request, from intake to the last connector call: the spans that make it are in
:mod:`.spans`; this module installs what records and exports them, and carries the context from
process to process (HTTP headers, the stored request, the fast queue's entry, a run tag).

Configuration is the standard ``OTEL_*`` variables only, read once by :func:`setup_tracing` (each
process calls it at start: ``eas gateway``, ``eas worker``, the code location for Dagster's run
processes and sensors), by the rules the NLP service follows too (:mod:`eas_asgi.tracing`):
``OTEL_SDK_DISABLED=true`` installs nothing (no trace id exists, none is stored or logged: the off
switch of the overhead benchmark); no exporter configured installs a provider that records nothing
but still gives every span real W3C ids, propagated, stored with the request and written in log
lines; ``OTEL_TRACES_EXPORTER=otlp|console`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` exports in
batches over OTLP/HTTP. What EAS adds: run spans whose ids derive from the run id
(:class:`RunAwareIdGenerator`), and the W3C context carried from process to process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from eas_asgi import tracing as shared
from eas_asgi.tracing import (  # noqa: F401 - re-exported: EAS code and tests import them from here
    TracingConfigError,
    current_ids,
    exporter_from_env,
    exporting,
    installed_provider,
    sdk_disabled,
)

TRACER_NAME = "eas_pipelines"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_PROPAGATOR = TraceContextTextMapPropagator()
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


def setup_tracing(service_name: str) -> TracerProvider | None:
    """Install tracing for this process as the ``OTEL_*`` variables say, with EAS's run-aware span ids.

    :func:`eas_asgi.tracing.setup_tracing` with a :class:`RunAwareIdGenerator`.

    Once per process: a second call (or a provider installed by the embedding process) keeps the
    provider there is. Returns it, or None when ``OTEL_SDK_DISABLED=true``. A bad ``OTEL_*`` value
    raises :class:`TracingConfigError` naming the variable, at start rather than at the first span.
    """
    return shared.setup_tracing(service_name, id_generator=RunAwareIdGenerator())


def exporting_to(exporter: SpanExporter) -> AbstractContextManager[SpanExporter]:
    """Send every span ended while inside to ``exporter`` (at once, not batched); detached after.

    Installs the provider first if needed (service ``eas``). For tests (the SDK's in-memory
    exporter) and for processes that embed EAS with an exporter of their own.
    """
    return shared.exporting_to(exporter, lambda: setup_tracing("eas"))


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


# ------------------------------------------------------------------ HTTP services


UNTRACED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
"""Scrapes and probes: every few seconds each, and no request's story."""


def fastapi_telemetry(untraced_paths: frozenset[str] = UNTRACED_PATHS) -> dict[str, Any]:
    """``FastAPI(telemetry=...)`` for an EAS HTTP service: server spans of every path but
    ``untraced_paths``, on the provider installed now (:func:`eas_asgi.tracing.fastapi_telemetry`)."""

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return scope.get("path") in untraced_paths

    return shared.fastapi_telemetry(untraced)


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
