"""The EAS metric catalog: what every process counts, and the gauges the exporter computes.

Why one module: dashboards and alert rules name these metrics, so their names, labels and buckets
are defined once, here, and every process imports them instead of declaring its own.

Per-process metrics (requests settled, time saved, run start latency, step durations, worker
tasks, connector calls) live in :data:`REGISTRY`, a module-level registry: one process, one set
of counts, whichever code path (a worker's loop, a Dagster op, a connector call) moves them. The
registry carries a ``ProcessCollector`` (``process_cpu_seconds_total``,
``process_resident_memory_bytes``) so that every EAS process reports what it costs. A process
serves it with :func:`serve_metrics` (the worker, the exporter) or adds its collectors to its own
registry with :func:`register_process_metrics` (the gateway, whose ``/metrics`` then shows both).

Recording never waits on anything (no I/O): a process that nobody scrapes only keeps a few numbers
in memory. A status outside the catalog is a programming error and raises. Labels are bounded:
agents, intents and steps come from the code and the routing table, systems from the connectors;
a missing value is recorded as :data:`NONE`.

The exporter's gauges (queue depth and age, breakers, approvals, Dagster runs) are computed at
scrape time from shared state; their names, help and labels are the :class:`GaugeSpec` constants
below, which ``eas_pipelines.workers.exporter`` turns into metric families.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, start_http_server
from prometheus_client.metrics_core import GaugeMetricFamily
from prometheus_client.registry import Collector

T = TypeVar("T")

NONE = "none"
"""The label value of something not known (a request not classified yet has no agent or intent)."""

# Request statuses as counted by ``eas_requests_total`` (the ``status`` label).
QUEUED = "queued"
NEEDS_REVIEW = "needs_review"
PENDING_CLASSIFICATION = "pending_classification"
REJECTED = "rejected"
COMPLETED = "completed"
FAILED = "failed"
AWAITING_APPROVAL = "awaiting_approval"
CANCELLED = "cancelled"
REQUEST_STATUSES: tuple[str, ...] = (
    QUEUED,
    NEEDS_REVIEW,
    PENDING_CLASSIFICATION,
    REJECTED,
    COMPLETED,
    FAILED,
    AWAITING_APPROVAL,
    CANCELLED,
)

# Outcomes of a step (``eas_step_duration_seconds``) and of a connector call (``eas_connector_calls_total``).
SUCCESS, FAILURE = "success", "failure"
CALL_OK, CALL_REJECTED, CALL_ERROR, CALL_OPEN = "ok", "rejected", "error", "open"
CALL_OUTCOMES: tuple[str, ...] = (CALL_OK, CALL_REJECTED, CALL_ERROR, CALL_OPEN)

FAST_LANE, STANDARD_LANE = "fast", "standard"

# A fast-lane run starts within milliseconds of its request being queued when a worker is idle, and
# minutes later behind a backlog: the buckets span both.
RUN_START_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
# Steps range from a look-up (milliseconds) to a report or a fan-out batch (minutes).
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# One logical connector call, retries included (up to the connector's backoff cap).
CONNECTOR_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REGISTRY = CollectorRegistry(auto_describe=True)
"""The process's own metrics (one registry per process; see the module docstring)."""

PROCESS = ProcessCollector(registry=REGISTRY)
"""CPU seconds, resident memory, open files of this process (Linux; empty elsewhere)."""

REQUESTS = Counter(
    "eas_requests",
    "Requests entering a status, by agent and intent ('none' before classification): the gateway counts "
    "intake (queued, needs_review, pending_classification) and people's decisions (rejected, cancelled); "
    "the process that runs a request counts how its run settled it (completed, failed, awaiting_approval).",
    ["agent", "intent", "status"],
    registry=REGISTRY,
)
TIME_SAVED = Counter(
    "eas_time_saved_seconds",
    "Manual work saved: each completed request adds its route's estimated manual minutes (routing.py) x 60.",
    ["agent"],
    registry=REGISTRY,
)
RUN_START_LATENCY = Histogram(
    "eas_run_start_latency_seconds",
    "From a request reaching its lane's queue to its run starting, by lane and agent.",
    ["lane", "agent"],
    buckets=RUN_START_BUCKETS,
    registry=REGISTRY,
)
STEP_DURATION = Histogram(
    "eas_step_duration_seconds",
    "Duration of one workflow step (op), by agent, step and outcome (success: the op returned, whatever "
    "the business answer; failure: it raised).",
    ["agent", "step", "outcome"],
    buckets=STEP_BUCKETS,
    registry=REGISTRY,
)
WORKER_TASKS = Counter(
    "eas_worker_tasks",
    "Fast-lane tasks a worker settled, by agent and what it did (executed, retry_queued, failed, skipped, "
    "returned, dead_lettered, deferred).",
    ["agent", "outcome"],
    registry=REGISTRY,
)
CONNECTOR_CALLS = Counter(
    "eas_connector_calls",
    "Logical connector calls (retries included), by system and outcome: ok, rejected (the system refused: "
    "a business answer), error (failed after its retries), open (refused by the open circuit breaker).",
    ["system", "outcome"],
    registry=REGISTRY,
)
CONNECTOR_DURATION = Histogram(
    "eas_connector_call_duration_seconds",
    "Duration of one logical connector call, retries and backoff included, by system.",
    ["system"],
    buckets=CONNECTOR_BUCKETS,
    registry=REGISTRY,
)

PROCESS_COLLECTORS: tuple[Collector, ...] = (
    PROCESS,
    REQUESTS,
    TIME_SAVED,
    RUN_START_LATENCY,
    STEP_DURATION,
    WORKER_TASKS,
    CONNECTOR_CALLS,
    CONNECTOR_DURATION,
)
"""Everything in :data:`REGISTRY`, for :func:`register_process_metrics`."""


def label(value: object) -> str:
    """A label value: ``value`` as text, :data:`NONE` for None or empty."""
    text = "" if value is None else str(value)
    return text or NONE


# ---------------------------------------------------------------------------------------------- recording


def count_request(agent: str | None, intent: str | None, status: str) -> None:
    """One request entered ``status`` (one of :data:`REQUEST_STATUSES`)."""
    if status not in REQUEST_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(REQUEST_STATUSES)}")
    REQUESTS.labels(label(agent), label(intent), status).inc()


def count_completed(agent: str | None, intent: str | None, manual_minutes: float) -> None:
    """A request completed: counted as ``completed``, and its manual minutes added to the time saved."""
    count_request(agent, intent, COMPLETED)
    if manual_minutes > 0:
        TIME_SAVED.labels(label(agent)).inc(manual_minutes * 60.0)


def observe_run_start(lane: str, agent: str | None, seconds: float) -> None:
    """A run started ``seconds`` after its request was queued (negative clock skew counts as 0)."""
    RUN_START_LATENCY.labels(lane, label(agent)).observe(max(0.0, seconds))


def count_worker_task(agent: str | None, outcome: str) -> None:
    """A worker settled one task with ``outcome`` (its action)."""
    WORKER_TASKS.labels(label(agent), outcome).inc()


def observe_step(agent: str | None, step: str, outcome: str, seconds: float) -> None:
    STEP_DURATION.labels(label(agent), step, outcome).observe(seconds)


@contextmanager
def timed_step(agent: Callable[[], str | None], step: str) -> Iterator[None]:
    """Time the block as one ``step``: outcome ``failure`` when it raises, else ``success``.

    ``agent`` is called when the block ends, so that a step may learn its agent inside the block
    (from the request it reads).
    """
    started = time.perf_counter()
    outcome = FAILURE
    try:
        yield
        outcome = SUCCESS
    finally:
        observe_step(agent(), step, outcome, time.perf_counter() - started)


def observe_connector_call(system: str, outcome: str, seconds: float) -> None:
    CONNECTOR_CALLS.labels(system, outcome).inc()
    CONNECTOR_DURATION.labels(system).observe(seconds)


# ---------------------------------------------------------------------------------------------- exposing


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Add the process's metrics (and its ``process_*`` figures) to ``registry``, once.

    For a process whose ``/metrics`` serves a registry of its own (the gateway's per-app registry):
    the same collector objects, so the numbers are this process's, whichever registry is scraped.
    """
    for collector in PROCESS_COLLECTORS:
        try:
            registry.register(collector)
        except ValueError as exc:  # already there: a second app built on the same registry
            if "Duplicated timeseries" not in str(exc):
                raise


@dataclass
class MetricsServer:
    """A running ``/metrics`` HTTP server (prometheus_client's, in a daemon thread)."""

    host: str
    port: int
    _server: object
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port."""
        server = self._server
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]
        self._thread.join(timeout=5)


def serve_metrics(port: int, host: str = "127.0.0.1", registry: Collector = REGISTRY) -> MetricsServer:
    """Serve ``registry`` on ``http://host:port/metrics`` (any path answers) in a daemon thread.

    ``port`` 0 binds a free port (tests); the returned server says which. Raises ``OSError`` when the
    port is taken: the caller decides whether that is fatal.
    """
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(host, int(server.server_port), server, thread)


# ---------------------------------------------------------------------------------------------- exporter


@dataclass(frozen=True)
class GaugeSpec:
    """A gauge the exporter computes at scrape time: its name, help and label names."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()

    def family(self) -> GaugeMetricFamily:
        """An empty metric family to add this scrape's samples to."""
        return GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))


LANE_QUEUE_DEPTH = GaugeSpec(
    "eas_lane_queue_depth",
    "Fast-lane entries waiting to be delivered to a worker, by priority (retries in backoff not included).",
    ("priority",),
)
LANE_OLDEST_AGE = GaugeSpec(
    "eas_lane_oldest_age_seconds",
    "Age of the oldest fast-lane entry waiting to be delivered, by priority (0 when none waits).",
    ("priority",),
)
CIRCUIT_STATE = GaugeSpec(
    "eas_circuit_breaker_state",
    "A connector's shared circuit breaker: 0 closed, 1 half-open, 2 open (systems called at least once).",
    ("system",),
)
APPROVALS_PENDING = GaugeSpec(
    "eas_approvals_pending", "Approvals waiting for a decision, by the request's agent.", ("agent",)
)
APPROVALS_OLDEST_AGE = GaugeSpec(
    "eas_approvals_oldest_age_seconds", "Age of the oldest approval waiting for a decision (0 when none)."
)
DAGSTER_RUNS = GaugeSpec(
    "eas_dagster_runs",
    "Dagster runs by status and job (jobs outside the routing table summed as job 'other').",
    ("status", "job"),
)
DAGSTER_QUEUE_LENGTH = GaugeSpec(
    "eas_dagster_run_queue_length", "Dagster runs QUEUED for the run coordinator (the standard lane)."
)
DAGSTER_OLDEST_QUEUED_AGE = GaugeSpec(
    "eas_dagster_oldest_queued_run_age_seconds", "Age of the oldest QUEUED Dagster run (0 when none)."
)
SOURCE_UP = GaugeSpec(
    "eas_exporter_source_up",
    "1 when the exporter could read a source this scrape (store, fast_queue, circuit_breakers, dagster); "
    "0 when it failed, and that source's gauges are left out.",
    ("source",),
)
EXPORTER_GAUGES: tuple[GaugeSpec, ...] = (
    LANE_QUEUE_DEPTH,
    LANE_OLDEST_AGE,
    CIRCUIT_STATE,
    APPROVALS_PENDING,
    APPROVALS_OLDEST_AGE,
    DAGSTER_RUNS,
    DAGSTER_QUEUE_LENGTH,
    DAGSTER_OLDEST_QUEUED_AGE,
    SOURCE_UP,
)

BREAKER_STATES: dict[str, int] = {"closed": 0, "half-open": 1, "open": 2}
"""``eas_circuit_breaker_state`` values of pybreaker's state names."""


def exported_metric_names() -> frozenset[str]:
    """Every metric name EAS processes export from this catalog, as PromQL names them.

    Counters as ``<name>_total``, histograms by their base name (``_bucket``/``_sum``/``_count`` are
    its series), the exporter's gauges, and the ``process_*`` figures. For tests that check that
    dashboards and alert rules name only metrics that exist.
    """
    names: set[str] = set()
    for collector in PROCESS_COLLECTORS:
        for family in collector.collect():
            names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    names.update(spec.name for spec in EXPORTER_GAUGES)
    # ProcessCollector yields nothing off Linux: name its figures all the same.
    names.update({"process_cpu_seconds_total", "process_resident_memory_bytes"})
    return frozenset(names)
