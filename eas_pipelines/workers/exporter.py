"""``eas exporter``: the figures no single EAS process owns, computed each time Prometheus scrapes.

Queue depth and age live in Redis, circuit breakers too, approvals in the request store, and runs
in the Dagster instance (which has no metrics endpoint of its own). Gateways and workers come and
go and are many; one exporter reads the shared state instead, at scrape time, so the numbers are
never older than the scrape and nothing polls in between.

Each source is read on its own, in parallel, within a deadline: a source that fails or hangs is
reported as ``eas_exporter_source_up{source} 0`` and its gauges are left out of that scrape, while
the others are exported as usual (a Redis outage must not hide the approval backlog). The names,
help texts and labels are the catalog's (:mod:`eas_pipelines.observability.metrics`).

Dagster runs by status and job: runs in flight (queued, starting, started, ...) are few and read
as records; finished runs (success, failure, canceled) are counted per job of the routing table,
the rest summed as job ``other``, and those counts are cached for ``finished_ttl_s`` (they only
grow, and counting them is the one query per job that costs anything).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import redis
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from eas_pipelines.embedded import resolve_services
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX as QUEUE_PREFIX
from eas_pipelines.lanes.fast_queue import PRIORITIES, FastQueue
from eas_pipelines.observability import metrics as catalog
from eas_pipelines.observability.logs import configure_logging
from eas_pipelines.resources.circuit import DEFAULT_PREFIX as BREAKER_PREFIX
from eas_pipelines.routing import AGENTS, JOBS
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import Status
from eas_pipelines.store.db import normalize_database_url
from eas_pipelines.store.models import Approval, Request
from eas_pipelines.workers.process import dagster_instance

log = logging.getLogger(__name__)

STORE, FAST_QUEUE, BREAKERS, DAGSTER = "store", "fast_queue", "circuit_breakers", "dagster"
SOURCES: tuple[str, ...] = (STORE, FAST_QUEUE, BREAKERS, DAGSTER)
"""The ``source`` label values of ``eas_exporter_source_up``."""

DEFAULT_SOURCE_TIMEOUT_S = 5.0
"""How long a scrape waits for a source: well inside Prometheus's default 10 s scrape timeout."""
DEFAULT_FINISHED_TTL_S = 60.0
OTHER_JOB = "other"

RunStatus = dg.DagsterRunStatus
FINISHED_RUN_STATUSES: tuple[RunStatus, ...] = (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)
ACTIVE_RUN_STATUSES: tuple[RunStatus, ...] = tuple(s for s in RunStatus if s not in FINISHED_RUN_STATUSES)

_STATE_SUFFIX = ":pybreaker:state"  # pybreaker's CircuitRedisStorage key: <namespace>:pybreaker:state


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


# ---------------------------------------------------------------------------------------------- sources


def approval_figures(engine: sa.Engine) -> tuple[dict[str, int], float]:
    """Pending approvals per agent (every routed agent present, 0 included) and the oldest one's age.

    Pending as the store means it: undecided, on a request still awaiting approval.
    """
    query = (
        sa.select(
            Request.agent,
            sa.func.count(),
            sa.func.extract("epoch", sa.func.clock_timestamp() - sa.func.min(Approval.created_at)),
        )
        .join(Request, Request.id == Approval.request_id)
        .where(Approval.decision.is_(None), Request.status == Status.AWAITING_APPROVAL.value)
        .group_by(Request.agent)
    )
    pending = dict.fromkeys(AGENTS, 0)
    oldest = 0.0
    with engine.connect() as connection:
        for agent, count, age in connection.execute(query):
            pending[catalog.label(agent)] = int(count)
            oldest = max(oldest, float(age or 0.0))
    return pending, oldest


def queue_figures(queue: FastQueue) -> tuple[dict[str, int], dict[str, float]]:
    """Per priority (``P0``...): entries waiting to be delivered, and the oldest one's age in seconds.

    Waiting means after the consumer group's last delivered id (entries handed to a worker are in
    progress, not waiting); with no group yet (no worker ever started) every entry waits. Ages are
    measured on Redis's clock, which stamped the entry ids.
    """
    client = queue.client
    depth = {f"P{int(p)}": n for p, n in queue.depth().items()}
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    ages: dict[str, float] = {}
    for priority, stream in zip(PRIORITIES, queue.streams, strict=True):
        ages[f"P{int(priority)}"] = 0.0
        try:
            groups = client.xinfo_groups(stream)
        except redis.ResponseError:  # no such stream: nothing was ever queued at this priority
            continue
        start = "-"
        for group in groups:
            fields = {_text(k): v for k, v in group.items()}
            if _text(fields.get("name", "")) == queue.group:
                start = "(" + _text(fields.get("last-delivered-id", "0-0"))
        oldest = client.xrange(stream, min=start, max="+", count=1)
        if oldest:
            entry_ms = int(_text(oldest[0][0]).split("-", 1)[0])
            ages[f"P{int(priority)}"] = max(0.0, (now_ms - entry_ms) / 1000.0)
    return depth, ages


def breaker_states(client: redis.Redis, prefix: str = BREAKER_PREFIX) -> dict[str, int]:
    """Every shared circuit breaker under ``prefix`` (systems called at least once), as 0/1/2."""
    keys = sorted({_text(k) for k in client.scan_iter(match=f"{prefix}:*{_STATE_SUFFIX}", count=500)})
    if not keys:
        return {}
    values = client.mget(keys)
    states: dict[str, int] = {}
    for key, value in zip(keys, values, strict=True):
        system = key[len(prefix) + 1 : -len(_STATE_SUFFIX)]
        state = _text(value) if value is not None else "closed"
        states[system] = catalog.BREAKER_STATES.get(state, catalog.BREAKER_STATES["open"])
    return states


class DagsterFigures:
    """Run counts of a Dagster instance, by status and job (see the module docstring)."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        jobs: Sequence[str] = JOBS,
        *,
        finished_ttl_s: float = DEFAULT_FINISHED_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.instance = instance
        self.jobs = tuple(dict.fromkeys(jobs))
        self.finished_ttl_s = finished_ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._finished: tuple[float, dict[tuple[str, str], int]] | None = None

    def active(self) -> tuple[dict[tuple[str, str], int], int, float]:
        """Runs in flight by (status, job); the queue's length; the oldest queued run's age (s)."""
        counts: dict[tuple[str, str], int] = {}
        queued = 0
        oldest: datetime | None = None
        for status in ACTIVE_RUN_STATUSES:
            for record in self.instance.get_run_records(dg.RunsFilter(statuses=[status])):
                key = (status.value, record.dagster_run.job_name)
                counts[key] = counts.get(key, 0) + 1
                if status is RunStatus.QUEUED:
                    queued += 1
                    if oldest is None or record.create_timestamp < oldest:
                        oldest = record.create_timestamp
        age = 0.0
        if oldest is not None:
            created = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - created).total_seconds())
        return counts, queued, age

    def finished(self) -> dict[tuple[str, str], int]:
        """Finished runs by (status, job): the routing table's jobs, the rest as ``other`` (cached)."""
        with self._lock:
            cached = self._finished
            if cached is not None and self.clock() - cached[0] < self.finished_ttl_s:
                return cached[1]
        counts: dict[tuple[str, str], int] = {}
        for status in FINISHED_RUN_STATUSES:
            total = self.instance.get_runs_count(dg.RunsFilter(statuses=[status]))
            named = 0
            for job in self.jobs:
                count = self.instance.get_runs_count(dg.RunsFilter(statuses=[status], job_name=job))
                counts[(status.value, job)] = count
                named += count
            counts[(status.value, OTHER_JOB)] = max(0, total - named)
        with self._lock:
            self._finished = (self.clock(), counts)
        return counts


# ---------------------------------------------------------------------------------------------- collector


class EASCollector(Collector):
    """The exporter's gauges, read from each configured source at scrape time (None: not exported).

    ``source_timeout_s``: how long a scrape waits for the slowest source before reporting it down.
    Call :meth:`close` when done (it owns the threads that read the sources).
    """

    def __init__(
        self,
        *,
        store_engine: sa.Engine | None = None,
        queue: FastQueue | None = None,
        breakers: redis.Redis | None = None,
        breaker_prefix: str = BREAKER_PREFIX,
        dagster: DagsterFigures | None = None,
        source_timeout_s: float = DEFAULT_SOURCE_TIMEOUT_S,
    ) -> None:
        self.store_engine = store_engine
        self.queue = queue
        self.breakers = breakers
        self.breaker_prefix = breaker_prefix
        self.dagster = dagster
        self.source_timeout_s = source_timeout_s
        self._pool = ThreadPoolExecutor(max_workers=2 * len(SOURCES), thread_name_prefix="eas-exporter")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> Iterable[Metric]:
        """The families this collector exports, without reading any source (registration checks names)."""
        return [spec.family() for spec in catalog.EXPORTER_GAUGES]

    def readers(self) -> dict[str, Callable[[], list[Metric]]]:
        """The configured sources, each a function returning its metric families."""
        readers: dict[str, Callable[[], list[Metric]]] = {}
        if self.store_engine is not None:
            readers[STORE] = self._read_store
        if self.queue is not None:
            readers[FAST_QUEUE] = self._read_queue
        if self.breakers is not None:
            readers[BREAKERS] = self._read_breakers
        if self.dagster is not None:
            readers[DAGSTER] = self._read_dagster
        return readers

    def collect(self) -> Iterator[Metric]:
        futures: dict[str, Future[list[Metric]]] = {
            name: self._pool.submit(read) for name, read in self.readers().items()
        }
        wait(futures.values(), timeout=self.source_timeout_s)
        up = catalog.SOURCE_UP.family()
        for name, future in futures.items():
            families: list[Metric] | None = None
            if not future.done():
                future.cancel()
                log.warning("exporter: %s did not answer within %.1fs", name, self.source_timeout_s)
            elif future.exception() is not None:
                log.warning("exporter: %s unreadable: %s", name, future.exception())
            else:
                families = future.result()
            up.add_metric([name], 1.0 if families is not None else 0.0)
            yield from families or ()
        yield up

    def _read_store(self) -> list[Metric]:
        assert self.store_engine is not None
        pending, oldest = approval_figures(self.store_engine)
        by_agent = catalog.APPROVALS_PENDING.family()
        for agent, count in sorted(pending.items()):
            by_agent.add_metric([agent], count)
        age = catalog.APPROVALS_OLDEST_AGE.family()
        age.add_metric([], oldest)
        return [by_agent, age]

    def _read_queue(self) -> list[Metric]:
        assert self.queue is not None
        depth, ages = queue_figures(self.queue)
        depth_family, age_family = catalog.LANE_QUEUE_DEPTH.family(), catalog.LANE_OLDEST_AGE.family()
        for priority in sorted(depth):
            depth_family.add_metric([priority], depth[priority])
            age_family.add_metric([priority], ages.get(priority, 0.0))
        return [depth_family, age_family]

    def _read_breakers(self) -> list[Metric]:
        assert self.breakers is not None
        family = catalog.CIRCUIT_STATE.family()
        for system, state in sorted(breaker_states(self.breakers, self.breaker_prefix).items()):
            family.add_metric([system], state)
        return [family]

    def _read_dagster(self) -> list[Metric]:
        assert self.dagster is not None
        active, queued, oldest = self.dagster.active()
        runs = catalog.DAGSTER_RUNS.family()
        for (status, job), count in sorted({**self.dagster.finished(), **active}.items()):
            runs.add_metric([status, job], count)
        length = catalog.DAGSTER_QUEUE_LENGTH.family()
        length.add_metric([], queued)
        age = catalog.DAGSTER_OLDEST_QUEUED_AGE.family()
        age.add_metric([], oldest)
        return [runs, length, age]


# ---------------------------------------------------------------------------------------------- process


def exporter_engine(database_url: str) -> sa.Engine:
    """A small pool that gives up fast: a scrape must not wait out a dead database's default timeouts."""
    return sa.create_engine(
        normalize_database_url(database_url),
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=2,
        pool_timeout=2,
        pool_recycle=1800,
        connect_args={
            "application_name": "eas-exporter",
            "connect_timeout": 3,
            "options": "-c statement_timeout=4000",
        },
    )


def exporter_redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)


def build_registry(collector: EASCollector) -> CollectorRegistry:
    """The exporter's registry: its gauges and what the exporter process itself costs."""
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    return registry


def run_exporter(
    settings: EASSettings,
    *,
    instance: dg.DagsterInstance | None = None,
    stop_event: threading.Event | None = None,
    queue_prefix: str = QUEUE_PREFIX,
    port: int | None = None,
) -> int:
    """Serve the exporter on ``EAS_EXPORTER_PORT`` until SIGTERM/SIGINT (or ``stop_event``); returns 0.

    The Dagster instance is ``DAGSTER_HOME``'s, as for the workers (``WorkerConfigError`` when it is
    unset), unless one is given. Raises ``OSError`` when the port is taken: an exporter that cannot
    be scraped has no reason to run.
    """
    if not logging.getLogger().handlers:  # JSON lines (observability.logs), unless the caller configured
        configure_logging(settings.log_level, service="eas-exporter")
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    with resolve_services(settings) as services:
        own_instance = instance is None
        dagster = instance or dagster_instance()
        engine = exporter_engine(services.database_url)
        client = exporter_redis(services.redis_url)
        collector = EASCollector(
            store_engine=engine,
            queue=FastQueue(client, prefix=queue_prefix),
            breakers=client,
            dagster=DagsterFigures(dagster),
        )
        try:
            server = catalog.serve_metrics(
                settings.exporter_port if port is None else port,
                settings.metrics_host,
                build_registry(collector),
            )
            log.info("eas exporter on %s", server.url)
            try:
                stop.wait()
            finally:
                server.close()
        finally:
            collector.close()
            client.close()
            engine.dispose()
            if own_instance:
                dagster.dispose()
    return 0


__all__ = [
    "ACTIVE_RUN_STATUSES",
    "FINISHED_RUN_STATUSES",
    "SOURCES",
    "DagsterFigures",
    "EASCollector",
    "approval_figures",
    "breaker_states",
    "build_registry",
    "queue_figures",
    "run_exporter",
]
