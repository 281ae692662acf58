"""EAS's spans: a request's run, its steps, its connector calls, and the gateway's NLP calls.

The chain, and who makes each link::

    gateway  POST /v1/requests                 (FastAPI's native server span: tracing.fastapi_telemetry)
      └─ POST /v1/parse  (client)              (:func:`nlp_call_span`: traceparent sent over HTTP)
           └─ NLP service POST /v1/parse → nlp.parse   (nlp_service.server.tracing)
    the request's trace context is stored with it (``requests.trace_context``), sent in the fast
    queue's entry and in the run tag ``eas/traceparent`` (:data:`RUN_TAG`)
      └─ eas.run <job>                         (:func:`run_span`: the worker, around the run it
           │                                    executes; :func:`record_run_span`: the sensor
           │                                    ``run_trace_sensor``, once a standard-lane run ended)
           ├─ eas.step <op>                     (:func:`step_span`, in ``agents.common``'s ops)
           │    └─ eas.connector <system>       (:func:`connector_span`, in ``ConnectorResource.guarded``)
           └─ ...

A run's span id derives from its run id (:func:`run_span_id`): a step running in a process where
the run span is not active (a standard-lane run process, a Kubernetes Job) names it as its parent
from the run tag alone.

Span attributes carry ids, names and outcomes, never a request's text, an entity value, a URL's
query or a credential: a trace backend is a log with other readers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from eas_pipelines.observability.tracing import TRACEPARENT, TRACER_NAME, context_from, next_span_id

_TRACER = trace.get_tracer(TRACER_NAME)  # a proxy until setup_tracing installs the provider

# Attribute names of EAS's own spans (semantic conventions have none for these).
ATTR_REQUEST_ID = "eas.request_id"
ATTR_AGENT = "eas.agent"
ATTR_LANE = "eas.lane"
ATTR_ATTEMPT = "eas.attempt"
ATTR_JOB = "eas.job"
ATTR_RUN_ID = "eas.run_id"
ATTR_STEP = "eas.step"
ATTR_OUTCOME = "eas.outcome"
ATTR_SYSTEM = "eas.connector.system"
ATTR_OPERATION = "eas.connector.operation"
ATTR_CONNECTOR_OUTCOME = "eas.connector.outcome"


def run_span_id(run_id: str) -> int:
    """The span id of a run's ``eas.run`` span, derived from its run id (never the invalid 0)."""
    value = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big")
    return value or 1


def run_parent_context(run_id: str, traceparent: str | None) -> Context | None:
    """The context of run ``run_id``'s span, for steps that run where that span is not active.

    Built from the run's ``eas/traceparent`` tag (its trace id and sampling flag) and the run's
    derived span id; None without a valid traceparent.
    """
    parent = context_from({TRACEPARENT: traceparent} if traceparent else None)
    if parent is None:
        return None
    request = trace.get_current_span(parent).get_span_context()
    run = SpanContext(
        trace_id=request.trace_id,
        span_id=run_span_id(run_id),
        is_remote=True,
        trace_flags=TraceFlags(request.trace_flags),
        trace_state=request.trace_state,
    )
    return trace.set_span_in_context(NonRecordingSpan(run))


def _drop_none(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}


def _start_run_span(
    job_name: str,
    run_id: str,
    trace_context: Mapping[str, Any] | None,
    attributes: Mapping[str, Any] | None,
    start_time: datetime | None,
) -> trace.Span:
    """``eas.run <job>``, started (not current) as a child of ``trace_context``, with the span id
    :func:`run_span_id` derives from ``run_id``: the one rule of :func:`run_span` and
    :func:`record_run_span`, so that a run's span has the id its steps name wherever it is recorded."""
    with next_span_id(run_span_id(run_id)):
        return _TRACER.start_span(
            f"eas.run {job_name}",
            context=context_from(trace_context),
            kind=SpanKind.INTERNAL,
            attributes=_drop_none({ATTR_JOB: job_name, ATTR_RUN_ID: run_id, **(attributes or {})}),
            start_time=int(start_time.timestamp() * 1e9) if start_time is not None else None,
        )


@contextmanager
def run_span(
    job_name: str,
    *,
    run_id: str,
    trace_context: Mapping[str, Any] | None,
    attributes: Mapping[str, Any] | None = None,
    start_time: datetime | None = None,
) -> Iterator[trace.Span]:
    """``eas.run <job>``, current while inside: the span of one Dagster run of a request.

    A child of the request's stored context (a new trace when it has none), with the span id
    :func:`run_span_id` derives from ``run_id``, so that steps running elsewhere find it. An
    exception marks the span failed and propagates.
    """
    span = _start_run_span(job_name, run_id, trace_context, attributes, start_time)
    with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=True):
        yield span


RUN_TAG = "eas/traceparent"
"""The run tag that carries a request's traceparent into its Dagster runs (see ``eas_pipelines.runs``)."""


@contextmanager
def step_span(
    step: str,
    *,
    run_id: str,
    job_name: str,
    run_tags: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[trace.Span]:
    """``eas.step <step>``: one op of a run, current while inside (its connector calls nest in it).

    Its parent is the active span (the worker's :func:`run_span`), else the run span named by the
    run's :data:`RUN_TAG` (a standard-lane run process, where no run span is active). A raised
    exception (a failed attempt, retried or not) marks it failed; ``eas.outcome`` says which.
    """
    parent = None
    if not trace.get_current_span().get_span_context().is_valid:
        parent = run_parent_context(run_id, (run_tags or {}).get(RUN_TAG))
    with _TRACER.start_as_current_span(
        f"eas.step {step}",
        context=parent,
        kind=SpanKind.INTERNAL,
        attributes=_drop_none(
            {ATTR_STEP: step, ATTR_JOB: job_name, ATTR_RUN_ID: run_id, **(attributes or {})}
        ),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            _failed(span, exc, ATTR_OUTCOME, "failure")
            raise
        if span.is_recording():
            span.set_attribute(ATTR_OUTCOME, "success")


@contextmanager
def connector_span(system: str, operation: str | Callable[[], str]) -> Iterator[trace.Span]:
    """``eas.connector <system>``: one logical call to an enterprise system (all its retries).

    The caller sets the outcome with :func:`set_connector_outcome` (it knows a refusal from an
    outage); an exception that escapes without one marks the span ``error``. Attributes are the
    system, the client operation's name and the outcome: no URL, payload or credential.
    ``operation`` may be a function, called only when the span is recorded.
    """
    with _TRACER.start_as_current_span(
        f"eas.connector {system}",
        kind=SpanKind.CLIENT,
        attributes={ATTR_SYSTEM: system},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        if span.is_recording():
            span.set_attribute(ATTR_OPERATION, operation() if callable(operation) else operation)
        try:
            yield span
        except BaseException as exc:
            _failed(span, exc, ATTR_CONNECTOR_OUTCOME, "error", overwrite=False)
            raise


def set_connector_outcome(span: trace.Span, outcome: str) -> None:
    """Record a connector call's outcome (``ok``, ``rejected``, ``error``, ``open``); not ok is an error."""
    if not span.is_recording():
        return
    span.set_attribute(ATTR_CONNECTOR_OUTCOME, outcome)
    if outcome != "ok":
        span.set_status(Status(StatusCode.ERROR, outcome))


def _failed(
    span: trace.Span, exc: BaseException, attribute: str, outcome: str, *, overwrite: bool = True
) -> None:
    """Mark ``span`` failed, naming the exception's type only: its message may quote a request's text."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    if overwrite or attribute not in attributes:
        span.set_attribute(attribute, outcome)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    span.set_attribute("error.type", type(exc).__name__)


@contextmanager
def continued_trace(name: str, carrier: Mapping[str, Any] | None, **attributes: Any) -> Iterator[None]:
    """Work on a stored request outside the request that brought it (the gateway's reconciler
    classifying it late): a span ``name`` in the request's own trace, unless a span is active already
    (then the work simply belongs to that one)."""
    if trace.get_current_span().get_span_context().is_valid:
        yield
        return
    with _TRACER.start_as_current_span(
        name, context=context_from(carrier), attributes=_drop_none(attributes)
    ):
        yield


@contextmanager
def nlp_call_span(path: str, base_url: str) -> Iterator[trace.Span]:
    """``POST <path>``: a ``CLIENT`` span of a call to the NLP service (one per replica tried).

    Current while inside, so the ``traceparent`` injected into the call names it. Attributes are
    the replica's address and the path, not the body (the request's text).
    """
    with _TRACER.start_as_current_span(
        f"POST {path}",
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": "POST", "url.path": path, "server.address": base_url},
        record_exception=False,
    ) as span:
        yield span


def set_http_status(span: trace.Span, status_code: int) -> None:
    """The response status on a client span; 5xx marks it failed (4xx is the caller's answer)."""
    if span.is_recording():
        span.set_attribute("http.response.status_code", status_code)
        if status_code >= 500:
            span.set_status(Status(StatusCode.ERROR, str(status_code)))


def mark_outcome(span: trace.Span, success: bool) -> None:
    """``eas.outcome`` success or failure on a run's span (a failed run returns, it does not raise)."""
    if span.is_recording():
        span.set_attribute(ATTR_OUTCOME, "success" if success else "failure")
        if not success:
            span.set_status(Status(StatusCode.ERROR, "run failed"))


def record_run_span(
    job_name: str,
    *,
    run_id: str,
    trace_context: Mapping[str, Any] | None,
    start_time: datetime,
    end_time: datetime,
    success: bool,
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """Record the ``eas.run <job>`` span of a run that has finished elsewhere (a standard-lane run
    process, a Kubernetes Job), from the times Dagster recorded, with the span id its steps named
    as their parent (:func:`run_span_id`)."""
    span = _start_run_span(job_name, run_id, trace_context, attributes, start_time)
    mark_outcome(span, success)
    span.end(end_time=int(end_time.timestamp() * 1e9))
