"""Orchestration benchmark: the fast lane against Dagster's own queued lane, on the real servers.

    .venv/bin/python benchmarks/orchestration.py --json benchmarks/results/orchestration.json

Everything runs side by side in one process tree on this machine, against the real PostgreSQL and
Redis: a database ``eas_bench_<hex>`` of its own (dropped at the end), Redis keys under a prefix of
its own (deleted at the end) and a temporary ``DAGSTER_HOME`` holding the project's ``dagster.yaml``
(Dagster's storage in the benchmark database, as ``eas up`` configures it). Phases, in the order
they run (``--phases`` selects, ``--skip-phases`` leaves some out):

``queue``
    The Redis priority queue alone: ``--queue-producers`` processes enqueue (random P0/P1/P2) and
    ``--queue-consumers`` processes dequeue and ack, for ``--queue-seconds``. Keys
    ``queue_tasks_per_min`` (acks) and ``queue_schedule_p95_ms`` (one ``dequeue`` call that returned
    a task: the scheduling decision, one script round trip).
``fast``
    ``--workers`` warm workers (``python -m eas_pipelines.workers.process``, what ``eas worker``
    runs, started with a :class:`ProcessGroup`), warmed up first. Latency: requests accepted one at
    a time (the next one after the previous run ended, plus a random pause), keys
    ``fast_start_p50_ms`` / ``fast_start_p95_ms``. Throughput: ``--fast-requests`` accepted in a
    burst, ``fast_runs_per_min`` = successful runs / (last run end - burst start).
``priority``
    With the workers busy on a P1/P2 backlog, P0s are accepted: ``priority_order`` says where each
    priority started and whether any P1/P2 that was still waiting started before a P0.
``standard``
    The workers are stopped; ``dagster-daemon run -w workspace.yaml`` (sensor daemon,
    QueuedRunCoordinator, DefaultRunLauncher) runs the same job for requests queued on the standard
    lane, picked up by ``standard_lane_sensor`` (minimum interval 5 s on a sensor daemon that loops
    every 5 s, so every 5 to 10 s in practice: part of the lane's latency, reported as is). Same
    latency method (with a random 0-5 s pause between requests, so that arrivals do not lock onto
    the sensor's tick) and a burst of ``--standard-requests``, time-boxed
    by ``--standard-timeout``: keys ``standard_start_p50_ms``, ``standard_start_p95_ms``,
    ``standard_runs_per_min``.
``inflight``
    ``--inflight`` requests put in flight through the store's own API (``submit``, ``classify``,
    ``transition``, ``request_approval``; ``--inflight-threads`` threads): queued on both lanes (the
    fast ones enqueued too), running, awaiting approval (half of them overdue). Then every one is
    looked up again (``lost_requests``, ``lost_queue_entries``) and the queries the sensors and the
    API run are timed at that size (``query_ms``: P95 per query).

Definitions used by every key:

- **accepted**: the moment the request is committed ``queued`` (``transition(classified -> queued)``
  returned) and, on the fast lane, on its Redis stream (``enqueue`` returned), as the gateway does it;
  taken with ``time.time()`` in this process.
- **run started**: the Dagster run's ``RUN_START`` event (the run record's ``start_time``), for both
  lanes. Both clocks are this machine's. The first op's ``queued -> running`` commit (the request's
  ``started_at``, from the database clock) is reported next to it as ``first_op``.
- **completed**: the run's ``RUN_SUCCESS`` (the run record's ``end_time``).

Each latency phase also splits the time at the run record's creation (``run_created_ms``: the
sensor's tick or the worker's dequeue; ``run_created_to_start_ms``: coordinator, launcher and a new
process, or the worker's set-up), and the standard phase reports the intervals between the sensor's
evaluations as the daemon logged them (``standard_sensor_tick_interval_s``).

The job (``--job``) is ``customer_service_ticket_routing`` (``ticket``, the default: seven ops, no
approval; a ServiceNow incident, a Slack message and an email) or ``finance_invoice_processing``
(``invoice``: SAP supplier look-up, duplicate check, PO match and posting, then Slack ``#finance``
and an email), on generated requests with entities normalised as the NLP service returns them.
Invoices name suppliers of the SAP emulator's seeded purchase orders (chosen in proportion to
their open amounts), carry unique invoice ids and amounts of $20-$200 (under the 10,000 approval
threshold, and small enough that the POs' open amounts last the whole run), so every run posts.

The connectors reach the vendors' emulators (:class:`eas_sandbox.server.Sandbox`), started in this
process on the benchmark's database (its ``sandbox_records`` table) with its certificates under the
temporary directory; its ``EAS_*`` settings are put into this process's environment before any
child starts, so every run the workers and the daemon make calls them over HTTPS and SMTP.

Redis: database 14 by default (tests use 15, a deployment 0), because the code location's circuit
breakers keep their state under fixed ``eas:circuit:*`` keys that no prefix moves; keys of that kind
created during the run are deleted with the prefix's. Every child process (workers, daemon, the runs
and code server the daemon starts, Dagster's compute-log ``tail -F`` and its watcher) is stopped by
process group in ``finally``, and any process still carrying this run's ``DAGSTER_HOME`` afterwards
is killed by PID and reported in ``leftover_processes``.

Timings include whatever else the machine does: the JSON records load averages before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psutil
import redis
import sqlalchemy as sa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from eas_pipelines.embedded import free_port
from eas_pipelines.embedded.services import Child, ProcessGroup
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import live_workers
from eas_pipelines.routing import INVOICE_JOB, LEAVE_JOB, TICKET_JOB, route_for
from eas_pipelines.store import (
    Lane,
    Priority,
    RequestRecord,
    RequestStore,
    Status,
    make_engine,
    migrate,
    normalize_database_url,
)
from nlp_service.text.normalize import normalize

if TYPE_CHECKING:
    import dagster as dg

    from eas_sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PHASES = ("queue", "fast", "priority", "standard", "inflight")
TICKET_INTENT = "customer_service.ticket_create"
# Statuses after which the job has nothing left to do for a request.
SETTLED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.REJECTED, Status.AWAITING_APPROVAL)
# Keys outside the prefix that the code location writes in the benchmark's Redis database.
FOREIGN_KEY_PATTERNS = ("eas:circuit:*", "eas:fast:*")
TARGETS = {
    "fast_start_p95_ms": "<= 250",
    "fast_runs_per_min": ">= 600",
    "queue_tasks_per_min": ">= 50000",
    "queue_schedule_p95_ms": "< 10",
    "lost_requests": "== 0",
}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Dagster colours its log lines, even into a file
BASELINES = {"standard_start_ms": "about 5000", "standard_runs_per_min": "22 to 55"}


class PhaseError(RuntimeError):
    """A phase could not complete (a child died, a wait timed out); the message says which and why."""


# --- small helpers ---------------------------------------------------------------------------


class MetricsScraper:
    """GETs every URL each ``interval_s`` in a thread, as a Prometheus server scraping the workers would:
    the overhead benchmark's "metrics on" includes the cost of being scraped, not only of counting."""

    def __init__(self, urls: Sequence[str], interval_s: float) -> None:
        self.urls, self.interval_s = list(urls), interval_s
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="metrics-scraper", daemon=True)
        self.scrapes = self.failures = self.bytes = 0

    def start(self) -> MetricsScraper:
        self.thread.start()
        return self

    def loop(self) -> None:
        import httpx

        with httpx.Client(timeout=5.0) as client:
            while not self.stop_event.wait(self.interval_s):
                for url in self.urls:
                    try:
                        response = client.get(url)
                        response.raise_for_status()
                        self.scrapes += 1
                        self.bytes += len(response.content)
                    except httpx.HTTPError:
                        self.failures += 1

    def stop(self) -> dict[str, Any]:
        self.stop_event.set()
        self.thread.join(timeout=10)
        return {
            "targets": len(self.urls),
            "scrapes": self.scrapes,
            "failures": self.failures,
            "bytes": self.bytes,
        }


def summarize(values_ms: Sequence[float]) -> dict[str, Any]:
    """P50/P95/P99/mean/max of millisecond samples, rounded; None for each when there are none."""
    if not values_ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    values = np.asarray(values_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "n": int(values.size),
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (platform.processor() is often empty on Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- realistic requests ----------------------------------------------------------------------

EMAILS = ("dana.smith@example.com", "li.wei@corp.example", "maria.lopez@acme.io", "ahmed.k@globex.com")
SYSTEMS = ("Salesforce", "the VPN", "SAP", "Jira", "Outlook", "the billing portal")
# Suppliers with open USD purchase orders in the SAP emulator's seed (eas_sandbox/vendors/sap.py
# PURCHASE_ORDERS), weighted by their open amounts so that no supplier's POs run out first.
INVOICE_VENDORS: dict[str, int] = {
    "Acme Corp": 52_000,
    "Hooli": 120_000,
    "Contoso Ltd": 60_000,
    "Initech Ltd": 25_000,
    "Stark Industries": 15_000,
}
INVOICE_CENTS = (2_000, 20_000)  # $20.00-$200.00: under the approval threshold (10,000)
_invoice_numbers = itertools.count(1)  # unique invoice ids within a run (its SAP records are its own)
TICKET_TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customer {email} can't log in to {system}, please open a ticket", ("email", "system")),
    ("I was charged twice for my subscription, please refund and reply to {email}", ("email",)),
    ("{system} keeps timing out with 500 errors for the whole sales team, priority {priority}", ("system",)),
    ("question from {email} about the opening hours of the Berlin office", ("email",)),
    ("the {system} sync has been broken since this morning, open a ticket for {email}", ("system", "email")),
)


def entity(text: str, entity_type: str, snippet: str, today: date) -> dict[str, Any]:
    """An entity as the NLP service returns it: character span and normalised value."""
    start = text.index(snippet)
    return {
        "type": entity_type,
        "text": snippet,
        "start": start,
        "end": start + len(snippet),
        "value": normalize(entity_type, snippet, today),
    }


def ticket_request(rng: random.Random) -> tuple[str, list[dict[str, Any]]]:
    """A support request for ``customer_service.ticket_create`` and its entities."""
    template, typed = rng.choice(TICKET_TEMPLATES)
    fills = {
        "email": rng.choice(EMAILS),
        "system": rng.choice(SYSTEMS),
        "priority": rng.choice(("low", "P2")),
    }
    text = template.format(**fills)
    today = datetime.now(UTC).date()
    return text, [entity(text, kind, fills[kind], today) for kind in typed]


def invoice_request(rng: random.Random) -> tuple[str, list[dict[str, Any]]]:
    """A vendor invoice for ``finance.invoice_process`` that posts in the SAP emulator without approval."""
    invoice = f"INV-{next(_invoice_numbers):07d}"
    vendor = rng.choices(tuple(INVOICE_VENDORS), weights=tuple(INVOICE_VENDORS.values()))[0]
    cents = rng.randint(*INVOICE_CENTS)
    amount = f"${cents // 100:,}.{cents % 100:02d}"
    text = f"Process invoice {invoice} from {vendor} for {amount}"
    today = datetime.now(UTC).date()
    return text, [entity(text, "invoice_id", invoice, today), entity(text, "vendor", vendor, today)] + [
        entity(text, "amount", amount, today)
    ]


def leave_request(rng: random.Random) -> tuple[str, list[dict[str, Any]]]:
    span = rng.choice(("March 3 to 7", "June 10-14", "next week"))
    text = f"I need PTO {span}"
    today = datetime.now(UTC).date()
    return text, [entity(text, "leave_type", "PTO", today), entity(text, "date_range", span, today)]


INVOICE_INTENT = "finance.invoice_process"
REQUEST_MAKERS: dict[str, Callable[[random.Random], tuple[str, list[dict[str, Any]]]]] = {
    TICKET_INTENT: ticket_request,
    INVOICE_INTENT: invoice_request,
    "hr.leave_request": leave_request,  # refused now (the requester is no employee in HR): inflight only
}
JOB_INTENTS = {"ticket": TICKET_INTENT, "invoice": INVOICE_INTENT}


# --- queue phase: producer and consumer processes ------------------------------------------------


def queue_producer(
    redis_url: str, prefix: str, seed: int, cap: int, ready: Any, go: Any, stop: Any, out: Any
) -> None:
    """Enqueue as fast as the queue takes it, pausing while more than ``cap`` entries wait.

    The cap keeps the streams from growing without bound when producers outrun consumers (each
    enqueue is one round trip, a consumer's task two), so that consumers always find work and
    each dequeue measured is one scheduling decision, not a wait for a producer.
    """
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    queue = FastQueue(client, prefix=prefix)
    rng = random.Random(seed)
    weights = (Priority.P0,) + (Priority.P1,) * 6 + (Priority.P2,) * 3
    sent = 0
    ready.put("producer")
    go.wait()
    while not stop.is_set():
        if sent % 200 == 0 and sum(queue.depth().values()) > cap:
            time.sleep(0.005)
            continue
        queue.enqueue(f"q-{seed}-{sent}", rng.choice(weights))
        sent += 1
    out.put({"role": "producer", "enqueued": sent})
    client.close()


def queue_consumer(redis_url: str, prefix: str, name: str, ready: Any, go: Any, stop: Any, out: Any) -> None:
    """Dequeue and ack; time each dequeue call that returned a task (one script round trip)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    queue = FastQueue(client, prefix=prefix)
    queue.ensure_groups()
    latencies: list[float] = []
    acked = empty = 0
    per_priority: Counter[str] = Counter()
    ready.put("consumer")
    go.wait()
    while not stop.is_set():
        started = time.perf_counter()
        task = queue.dequeue(name, block_ms=0)
        elapsed = (time.perf_counter() - started) * 1000.0
        if task is None:
            empty += 1
            time.sleep(0.001)
            continue
        latencies.append(elapsed)
        queue.ack(task)
        acked += 1
        per_priority[task.priority.name] += 1
    out.put(
        {
            "role": "consumer",
            "acked": acked,
            "empty": empty,
            "latencies": latencies,
            "per_priority": dict(per_priority),
        }
    )
    client.close()


# --- the benchmark -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFacts:
    """What the store and Dagster's run storage say about one request's (first) run."""

    request_id: str
    status: Status
    priority: int
    run_count: int
    run_created: float | None  # the run record's creation (sensor tick / worker), epoch seconds
    run_start: float | None  # RUN_START, epoch seconds
    run_end: float | None  # RUN_SUCCESS / RUN_FAILURE, epoch seconds
    run_status: str | None
    run_lane: str | None
    first_op: float | None  # the request's started_at (queued -> running by the first op)


class Bench:
    """One benchmark run: its database, Redis keys, Dagster home, children, and every phase."""

    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.tag = uuid.uuid4().hex[:12]
        self.db_name = f"eas_bench_{self.tag}"
        self.prefix = f"eas:bench:{self.tag}:"
        self.rng = random.Random(args.seed)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"eas-bench-{self.tag}-"))
        self.home = self.tmp / "dagster_home"
        self.admin = sa.create_engine(args.postgres_url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
        self.db_url = ""
        self.redis = redis.Redis.from_url(args.redis_url, socket_connect_timeout=5, socket_timeout=30)
        # The fast lane's keys: the workers' streams and heartbeats. Benchmarks whose runs or sensors
        # enqueue themselves (retries, resumed approvals: the code location's default prefix) share it.
        self.lane_prefix = self.prefix
        self.foreign_patterns: tuple[str, ...] = FOREIGN_KEY_PATTERNS
        self.queue = FastQueue(self.redis, prefix=self.lane_prefix)
        self.foreign_keys_before: set[bytes] = set()
        self.store: RequestStore | None = None
        self.env: dict[str, str] = {}
        self.metrics_urls: list[str] = []
        self.scraper: MetricsScraper | None = None
        self.scrape_record: dict[str, Any] = {}
        self.group = ProcessGroup(self.tmp / "logs", stop_timeout=30.0, echo=lambda line: console.log(line))
        self.worker_children: list[Child] = []
        self._instance: dg.DagsterInstance | None = None
        self.created_db = False
        self.leftovers: list[dict[str, Any]] = []
        self.dagster_config: dict[str, str] = {}
        self.intent = JOB_INTENTS[args.job]
        self.sandbox: Sandbox | None = None
        self.environ_saved: dict[str, str | None] = {}

    # -- setup and teardown ---------------------------------------------------------------------

    def setup(self, need_dagster: bool) -> None:
        """Create and migrate the database, write the Dagster home, check Redis, note foreign keys."""
        self.redis.ping()
        for pattern in self.foreign_patterns:
            self.foreign_keys_before.update(self.redis.scan_iter(match=pattern, count=1000))
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        self.created_db = True
        url = sa.make_url(self.args.postgres_url).set(database=self.db_name, drivername="postgresql+psycopg2")
        self.db_url = url.render_as_string(hide_password=False)
        migrate.upgrade(self.db_url)
        self.store = RequestStore(
            make_engine(self.db_url, pool_size=8, max_overflow=8, application_name="bench")
        )
        self.home.mkdir(parents=True)
        shutil.copyfile(self.args.dagster_yaml, self.home / "dagster.yaml")
        self.start_sandbox()
        # What `eas up` gives its children (eas_pipelines/cli/up.py: child_environment).
        self.env = {
            "EAS_DATABASE_URL": self.db_url,
            "EAS_REDIS_URL": self.args.redis_url,
            "EAS_DAGSTER_PG_URL": self.db_url,
            "EAS_DATA_DIR": str(self.tmp / "eas"),
            "DAGSTER_HOME": str(self.home),
            "PYTHONUNBUFFERED": "1",
        }
        # This process reads the same instance (run records): its dagster.yaml names the variable.
        os.environ["EAS_DAGSTER_PG_URL"] = self.db_url
        if need_dagster:
            # Created here first so that Dagster's tables exist before several children race to.
            instance = self.instance
            self.dagster_config = {
                "compute_log_manager": type(instance.compute_log_manager).__name__,
                "run_coordinator": type(instance.run_coordinator).__name__,
                "run_launcher": type(instance.run_launcher).__name__,
            }

    def start_sandbox(self) -> None:
        """The vendors' emulators in this process, their settings in this process's environment.

        Started before any child: the workers and the daemon (and the runs it launches) inherit
        ``os.environ``, and the connectors read these settings when a run builds its resources.
        """
        from eas_sandbox.server import Sandbox

        # aiosmtpd logs a deprecation warning for every login (it sets Session.login_data itself):
        # one line per email sent, thousands in a burst, on this process's console.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.sandbox = Sandbox(self.db_url, self.tmp / "sandbox").start()
        settings = self.sandbox.env()
        self.environ_saved = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        assert self.sandbox.endpoints is not None
        self.console.log(
            f"sandbox: {self.sandbox.endpoints.base_url}, SMTP {self.sandbox.endpoints.smtp_host}:"
            f"{self.sandbox.endpoints.smtp_port}, {len(settings)} EAS_* settings"
        )

    def stop_sandbox(self) -> None:
        try:
            if self.sandbox is not None:
                self.sandbox.stop()
                self.sandbox = None
        finally:
            for name, value in self.environ_saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self.environ_saved = {}

    def sandbox_counts(self) -> dict[str, int]:
        """Records the emulators hold, by vendor and collection (what the runs created there)."""
        with self.requests.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT vendor, collection, count(*) AS n FROM sandbox_records "
                    "GROUP BY vendor, collection ORDER BY vendor, collection"
                )
            ).all()
        return {f"{row.vendor}/{row.collection}": int(row.n) for row in rows}

    @property
    def instance(self) -> dg.DagsterInstance:
        if self._instance is None:
            import dagster as dg

            self._instance = dg.DagsterInstance.from_config(str(self.home))
        return self._instance

    @property
    def requests(self) -> RequestStore:
        assert self.store is not None, "setup() first"
        return self.store

    def teardown(self) -> dict[str, Any]:
        """Stop every child, kill stragglers by PID, drop the database, delete keys and files.

        Every step runs even if an earlier one fails; what went wrong is returned for the JSON.
        """
        problems: list[str] = []
        steps: list[tuple[str, Callable[[], None]]] = [
            ("stop children", self.group.stop_all),
            ("kill leftovers", self._kill_leftovers),
            ("close clients", self._close_clients),
            ("stop sandbox", self.stop_sandbox),
            ("drop database", self._drop_database),
            ("delete redis keys", self._delete_keys),
        ]
        if not self.args.keep_temp:
            steps.append(("remove temp dir", lambda: shutil.rmtree(self.tmp, ignore_errors=True)))
        for name, step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - clean up as much as possible, report the rest
                self.console.log(f"[red]cleanup: {name} failed: {exc!r}")
                problems.append(f"{name}: {exc!r}")
        if self.args.keep_temp:
            self.console.log(f"temporary files kept in {self.tmp}")
        return {"leftover_processes": self.leftovers, "cleanup_problems": problems}

    def _ours(self, process: psutil.Process) -> bool:
        try:
            environ = process.environ()
            cmdline = " ".join(process.cmdline())
        except (psutil.Error, OSError):
            return False
        return environ.get("DAGSTER_HOME") == str(self.home) or str(self.tmp) in cmdline

    def _kill_leftovers(self) -> None:
        """Any process still carrying this run's Dagster home (a run, a ``tail -F``) dies by PID."""
        me = os.getpid()
        for process in psutil.process_iter(["pid", "name"]):
            if process.pid == me or not self._ours(process):
                continue
            with contextlib.suppress(psutil.Error):
                self.leftovers.append({"pid": process.pid, "cmdline": process.cmdline()[:6]})
                self.console.log(f"[yellow]killing leftover pid {process.pid}: {process.cmdline()[:4]}")
                process.kill()

    def _close_clients(self) -> None:
        if self._instance is not None:
            self._instance.dispose()
        if self.store is not None:
            self.store.close()
        from eas_pipelines.resources.engines import dispose_all

        dispose_all()

    def _drop_database(self) -> None:
        if not self.created_db:
            return
        with self.admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.db_name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}"'))
        self.admin.dispose()

    def _delete_keys(self) -> None:
        keys = set(self.redis.scan_iter(match=f"{self.prefix}*", count=1000))
        for pattern in self.foreign_patterns:
            keys.update(set(self.redis.scan_iter(match=pattern, count=1000)) - self.foreign_keys_before)
        for batch in chunks(sorted(keys), 1000):
            self.redis.delete(*batch)
        self.redis.close()

    # -- children -------------------------------------------------------------------------------

    def check_children(self) -> None:
        dead = self.group.exited()
        if dead:
            child = dead[0]
            tail = child.log_path.read_text(errors="replace")[-3000:]
            raise PhaseError(f"{child.name} exited with {child.process.returncode}; log tail:\n{tail}")

    def wait_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            self.check_children()
            if time.monotonic() > deadline:
                raise PhaseError(f"timed out after {timeout_s:.0f}s waiting for {what}")
            time.sleep(0.1)

    def start_workers(self) -> None:
        count = self.args.workers
        # Each worker serves /metrics on a port of its own (all on the default would leave one served);
        # EAS_WORKER_METRICS_PORT=0 in this process's environment turns the servers off.
        serve_metrics = os.environ.get("EAS_WORKER_METRICS_PORT") != "0"
        with self.console.status(f"starting {count} warm worker(s)"):
            for index in range(count):
                port = free_port() if serve_metrics else 0
                if port:
                    self.metrics_urls.append(f"http://127.0.0.1:{port}/metrics")
                command = [
                    sys.executable,
                    "-m",
                    "eas_pipelines.workers.process",
                    "--prefix",
                    self.lane_prefix,
                    "--worker-id",
                    f"bench-{self.tag}-{index + 1}",
                ]
                env = {**self.env, "EAS_WORKER_METRICS_PORT": str(port)}
                child = self.group.start(f"worker-{index + 1}", command, env=env, cwd=ROOT)
                self.worker_children.append(child)
            self.wait_until(
                lambda: len(live_workers(self.redis, self.lane_prefix)) >= count,
                self.args.start_timeout,
                f"{count} worker heartbeat(s)",
            )
        # Warm: the first run of a process pays for resource set-up and lazy imports.
        self.run_batch(Lane.FAST, self.args.workers * 3, "warm-up (fast)", timeout_s=self.args.start_timeout)
        if self.args.scrape_interval > 0 and self.metrics_urls:
            self.scraper = MetricsScraper(self.metrics_urls, self.args.scrape_interval).start()

    def stop_workers(self) -> None:
        if self.scraper is not None:
            self.scrape_record = self.scraper.stop()
            self.scraper = None
        for child in list(self.worker_children):
            self.group.stop_child(child)
        self.worker_children.clear()

    def sensor_tick_intervals(self, sensor: str = "standard_lane_sensor") -> dict[str, Any]:
        """Seconds between the sensor's evaluations, read from the daemon's log (1 s resolution).

        ``minimum_interval_seconds`` is a floor: the sensor daemon evaluates sensors one after the
        other, so on a busy machine the real interval is longer, and that is part of the lane's latency.
        """
        log_path = self.group.log_dir / "dagster-daemon.log"
        marker = f"Checking for new runs for sensor: {sensor}"
        times = []
        with contextlib.suppress(OSError):
            for raw in log_path.read_text(errors="replace").splitlines():
                line = ANSI_ESCAPE.sub("", raw)
                if marker in line:
                    with contextlib.suppress(ValueError):
                        times.append(datetime.strptime(line[:25], "%Y-%m-%d %H:%M:%S %z").timestamp())
        intervals = [(b - a) * 1000 for a, b in zip(times, times[1:], strict=False)]
        summary = summarize(intervals)
        return {k: (round(v / 1000, 1) if isinstance(v, float) else v) for k, v in summary.items()}

    def start_run_server(self) -> None:
        """``eas run-server`` for the daemon's launcher (dagster.yaml's WarmRunLauncher), ready before
        the daemon starts; with ``--no-run-server`` the launcher is told there is none."""
        if not self.args.run_server:
            self.env["EAS_RUN_SERVER_PORT"] = "0"
            return
        port = free_port()
        self.env["EAS_RUN_SERVER_PORT"] = str(port)
        command = [sys.executable, "-m", "eas_pipelines.workers.run_server"]
        self.group.start("run-server", command, env=self.env, cwd=ROOT)

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        with self.console.status("starting the run server"):
            self.wait_until(accepting, self.args.start_timeout, "the run server")

    def start_daemon(self) -> None:
        command = [
            str(Path(sys.executable).parent / "dagster-daemon"),
            "run",
            "-w",
            str(ROOT / "workspace.yaml"),
        ]
        # Fast-lane work left queued by a failed phase would be launched here by the sensor's fallback
        # (no worker is alive any more) and pollute the standard lane's figures: cancel it first.
        for record in self.requests.queued_for_lane(Lane.FAST, limit=1000):
            self.requests.transition(
                record.id, Status.CANCELLED, actor="bench", reason="left over", expected=Status.QUEUED
            )
            self.console.log(f"[yellow]cancelled left-over fast-lane request {record.id}")
        self.start_run_server()
        self.group.start("dagster-daemon", command, env=self.env, cwd=ROOT)
        # Warm: the daemon loads the code location and the sensor takes its first ticks.
        self.run_batch(Lane.STANDARD, 2, "warm-up (standard)", timeout_s=self.args.start_timeout)

    # -- requests -------------------------------------------------------------------------------

    def prepare(
        self,
        count: int,
        lane: Lane,
        priorities: Sequence[Priority] | None = None,
        intent: str | None = None,
    ) -> list[RequestRecord]:
        """Requests of ``intent`` (``--job``'s by default) taken up to ``classified`` (not timed)."""
        intent = intent or self.intent
        route = route_for(intent)
        records = []
        for index in range(count):
            text, entities = REQUEST_MAKERS[intent](self.rng)
            record, _ = self.requests.submit(f"bench-client-{index % 7}", uuid.uuid4().hex, text)
            priority = priorities[index] if priorities is not None else route.priority
            records.append(
                self.requests.classify(
                    record.id,
                    intent=intent,
                    confidence=0.97,
                    entities=entities,
                    agent=route.agent,
                    workflow=route.job,
                    priority=priority,
                    lane=lane,
                    model_version="bench",
                    needs_review=False,
                )
            )
        return records

    def accept(self, record: RequestRecord) -> float:
        """Queue the request as the gateway does (commit, then enqueue on the fast lane); return when."""
        queued = self.requests.transition(
            record.id,
            Status.QUEUED,
            actor="gateway",
            reason=f"{record.lane} lane",
            expected=Status.CLASSIFIED,
        )
        if queued.lane is Lane.FAST:
            self.queue.enqueue(
                queued.id, int(queued.priority if queued.priority is not None else Priority.P1), attempt=0
            )
        return time.time()

    def settled_count(self, ids: Sequence[str]) -> int:
        with self.requests.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM requests WHERE id = ANY(:ids) AND status = ANY(:done)"),
                    {"ids": list(ids), "done": [s.value for s in SETTLED]},
                ).scalar_one()
            )

    def wait_settled(self, ids: Sequence[str], timeout_s: float, label: str) -> bool:
        """Wait (with a progress bar) until every request is settled; False at the timeout."""
        deadline = time.monotonic() + timeout_s
        with progress(self.console) as bar:
            task = bar.add_task(label, total=len(ids))
            while True:
                done = self.settled_count(ids)
                bar.update(task, completed=done)
                if done >= len(ids):
                    return True
                if time.monotonic() > deadline:
                    return False
                self.check_children()
                time.sleep(0.25)

    def failure_reasons(self, ids: Sequence[str], limit: int = 5) -> dict[str, int]:
        """The most common ``last_error`` of the requests that did not succeed (status: reason)."""
        with self.requests.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT status, coalesce(last_error, '') AS reason, count(*) AS n FROM requests "
                    "WHERE id = ANY(:ids) AND status <> :ok GROUP BY 1, 2 ORDER BY n DESC LIMIT :limit"
                ),
                {"ids": list(ids), "ok": Status.SUCCEEDED.value, "limit": limit},
            ).all()
        return {f"{row.status}: {row.reason[:200]}": int(row.n) for row in rows}

    def wait_one(self, request_id: str, timeout_s: float, poll_s: float) -> None:
        """Poll one request until settled: the next latency sample must find the lane idle.

        The poll only decides when to send the next request (latencies come from the run records),
        so it can be coarse; a tight poll would take CPU from the very workers being measured.
        """
        deadline = time.monotonic() + timeout_s
        while self.requests.get(request_id).status not in SETTLED:
            if time.monotonic() > deadline:
                self.check_children()
                raise PhaseError(f"request {request_id} not settled after {timeout_s:.0f}s")
            time.sleep(poll_s)

    def run_batch(self, lane: Lane, count: int, label: str, timeout_s: float) -> None:
        """Accept ``count`` requests at once and wait for them all (warm-ups)."""
        records = self.prepare(count, lane)
        for record in records:
            self.accept(record)
        if not self.wait_settled([r.id for r in records], timeout_s, label):
            self.check_children()
            raise PhaseError(f"{label}: not every request settled within {timeout_s:.0f}s")

    def run_facts(self, ids: Sequence[str]) -> dict[str, RunFacts]:
        """Join the requests with the run records of their first runs (RUN_START, end, status, lane)."""
        import dagster as dg

        with self.requests.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id, status, priority, run_ids, started_at FROM requests WHERE id = ANY(:ids)"
                ),
                {"ids": list(ids)},
            ).all()
        first_runs = [row.run_ids[0] for row in rows if row.run_ids]
        records: dict[str, Any] = {}
        for batch in chunks(first_runs, 200):
            for record in self.instance.get_run_records(filters=dg.RunsFilter(run_ids=list(batch))):
                records[record.dagster_run.run_id] = record
        facts = {}
        for row in rows:
            record = records.get(row.run_ids[0]) if row.run_ids else None
            facts[row.id] = RunFacts(
                request_id=row.id,
                status=Status(row.status),
                priority=int(row.priority),
                run_count=len(row.run_ids or ()),
                run_created=record.create_timestamp.timestamp() if record is not None else None,
                run_start=record.start_time if record is not None else None,
                run_end=record.end_time if record is not None else None,
                run_status=record.dagster_run.status.value if record is not None else None,
                run_lane=record.dagster_run.tags.get("eas/lane") if record is not None else None,
                first_op=row.started_at.timestamp() if row.started_at is not None else None,
            )
        return facts

    def final_facts(self, ids: Sequence[str], timeout_s: float = 30.0) -> dict[str, RunFacts]:
        """:meth:`run_facts` once every run has ended: the job's last op settles the request a
        moment before the run's RUN_SUCCESS is written, so a read right after settling can miss it."""
        deadline = time.monotonic() + timeout_s
        while True:
            facts = self.run_facts(ids)
            unfinished = [f for f in facts.values() if f.run_count and f.run_end is None]
            if not unfinished or time.monotonic() > deadline:
                return facts
            time.sleep(0.1)

    # -- latency and throughput (fast and standard) ---------------------------------------------

    def latency(self, lane: Lane, count: int, pause_s: float, timeout_s: float) -> dict[str, Any]:
        """Accept one request at a time on an idle lane; accepted -> RUN_START per request."""
        records = self.prepare(count, lane)
        accepted: dict[str, float] = {}
        with progress(self.console) as bar:
            task = bar.add_task(f"{lane} lane latency", total=count)
            for record in records:
                accepted[record.id] = self.accept(record)
                self.wait_one(record.id, timeout_s, 0.02 if lane is Lane.FAST else 0.2)
                self.final_facts([record.id], timeout_s=10.0)  # its run has ended too
                bar.advance(task)
                time.sleep(self.rng.uniform(0.0, pause_s))
        facts = self.final_facts(list(accepted))
        start_ms = [(f.run_start - accepted[i]) * 1000 for i, f in facts.items() if f.run_start is not None]
        first_op_ms = [(f.first_op - accepted[i]) * 1000 for i, f in facts.items() if f.first_op is not None]
        run_ms = [
            (f.run_end - f.run_start) * 1000
            for f in facts.values()
            if f.run_start is not None and f.run_end is not None
        ]
        # Where the time goes: until the run exists (sensor tick, or dequeue), then until it starts.
        created_ms = [(f.run_created - accepted[i]) * 1000 for i, f in facts.items() if f.run_created]
        launch_ms = [
            (f.run_start - f.run_created) * 1000
            for f in facts.values()
            if f.run_start is not None and f.run_created is not None
        ]
        return {
            "requests": count,
            "start_ms": summarize(start_ms),
            "first_op_ms": summarize(first_op_ms),
            "run_created_ms": summarize(created_ms),
            "run_created_to_start_ms": summarize(launch_ms),
            "run_duration_ms": summarize(run_ms),
            "statuses": dict(Counter(f.status.value for f in facts.values())),
            "failure_reasons": self.failure_reasons(list(facts)),
            "run_lanes": dict(Counter(str(f.run_lane) for f in facts.values())),
            "missing_run_start": sum(1 for f in facts.values() if f.run_start is None),
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far: machine-wide (busy), this process (the benchmark and the
        emulators' threads), the fast-lane workers, PostgreSQL and Redis (processes alive now)."""

        def used(process: psutil.Process) -> float:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                return times.user + times.system
            return 0.0

        workers = 0.0
        for child in self.worker_children:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(child.pid)
                workers += used(parent) + sum(used(p) for p in parent.children(recursive=True))
        by_name: Counter[str] = Counter()
        for process in psutil.process_iter(["name"]):
            name = process.info["name"] or ""
            if name.startswith("postgres"):
                by_name["postgres"] += used(process)
            elif name.startswith("redis-server"):
                by_name["redis"] += used(process)
        machine_times = psutil.cpu_times()
        busy = sum(machine_times) - machine_times.idle - getattr(machine_times, "iowait", 0.0)
        return {
            "machine": busy,
            "benchmark_and_emulators": used(psutil.Process()),
            "workers": workers,
            "postgres": by_name["postgres"],
            "redis": by_name["redis"],
        }

    def burst(self, lane: Lane, count: int, timeout_s: float) -> dict[str, Any]:
        """Accept ``count`` requests back to back, then count successful runs per minute.

        ``runs_per_min`` = successful runs / (last run end - burst start), or over the time box when
        it ran out first; ``steady_runs_per_min`` leaves the ramp-up out: (n - 1) / (last end - first end).
        """
        records = self.prepare(count, lane)
        accepted: dict[str, float] = {}
        cpu_before = self.cpu_seconds()
        t0 = time.time()
        for record in records:
            accepted[record.id] = self.accept(record)
        accept_s = time.time() - t0
        finished = self.wait_settled(list(accepted), timeout_s, f"{lane} lane burst of {count}")
        cpu_after = self.cpu_seconds()
        deadline = t0 + timeout_s
        facts = self.final_facts(list(accepted), timeout_s=30.0 if finished else 0.0)
        ends = sorted(
            f.run_end
            for f in facts.values()
            if f.run_status == "SUCCESS" and f.run_end is not None and f.run_end <= deadline
        )
        window = (ends[-1] if finished and ends else deadline) - t0
        waits = [(f.run_start - accepted[i]) * 1000 for i, f in facts.items() if f.run_start is not None]
        return {
            "requests": count,
            "completed": len(ends),
            "all_completed": finished and len(ends) == count,
            "window_s": round(window, 2),
            "accept_s": round(accept_s, 2),
            "runs_per_min": round(len(ends) / window * 60, 1) if window > 0 else None,
            "steady_runs_per_min": (
                round((len(ends) - 1) / (ends[-1] - ends[0]) * 60, 1)
                if len(ends) >= 2 and ends[-1] > ends[0]
                else None
            ),
            "start_ms_under_burst": summarize(waits),
            "statuses": dict(Counter(f.status.value for f in facts.values())),
            "failure_reasons": self.failure_reasons(list(facts)),
            "extra_runs": sum(max(0, f.run_count - 1) for f in facts.values()),
            # Where the burst's CPU went, per request accepted (ms); postgres counts live backends only.
            "cpu_ms_per_request": {
                name: round((cpu_after[name] - cpu_before[name]) * 1000 / count, 1) for name in cpu_before
            },
        }

    # -- priority -------------------------------------------------------------------------------

    def undelivered(self) -> set[str]:
        """Request ids on the fast-lane streams not yet delivered to any worker.

        Acknowledged entries are deleted (XACK + XDEL), so a stream holds pending (delivered, not
        acked) and undelivered entries; the difference with the group's PEL is what still waits.
        """
        waiting: set[str] = set()
        for stream in self.queue.streams:
            entries = self.redis.xrange(stream)
            pending = {
                p["message_id"]
                for p in self.redis.xpending_range(stream, self.queue.group, min="-", max="+", count=100_000)
            }
            for entry_id, fields in entries:
                if entry_id not in pending:
                    waiting.add(fields[b"request_id"].decode())
        return waiting

    def priority(self) -> dict[str, Any]:
        """P0s accepted while the workers are busy with a P1/P2 backlog: do they start first?

        The backlog (40 % P1, 60 % P2, shuffled) is accepted first; once the workers have taken some
        of it, the P0s are committed ``queued`` and then enqueued back to back. What was still
        waiting when they arrived is what was undelivered both just before and just after those
        enqueues (a few milliseconds apart). A waiting P1/P2 that a worker took (its run record was
        created) before the last P0 was taken jumped the queue; ``p0_all_first`` says none did
        (``by_run_start`` repeats the check on RUN_START). Start positions count every run of the
        phase in RUN_START order, from 1.
        """
        args = self.args
        n_p1 = args.priority_backlog * 2 // 5
        order = [Priority.P1] * n_p1 + [Priority.P2] * (args.priority_backlog - n_p1)
        self.rng.shuffle(order)
        backlog = self.prepare(len(order), Lane.FAST, order)
        urgent = self.prepare(args.priority_p0, Lane.FAST, [Priority.P0] * args.priority_p0)
        accepted: dict[str, float] = {}
        for record in backlog:
            accepted[record.id] = self.accept(record)
        backlog_ids = [r.id for r in backlog]
        self.wait_until(
            lambda: self.settled_count(backlog_ids) + self.started_count(backlog_ids) >= args.workers,
            60,
            "the workers to be busy with the backlog",
        )
        # Commit the P0s as queued first, then put them all on the stream within a few milliseconds:
        # the snapshots just before and just after bound what was waiting when they arrived.
        for record in urgent:
            self.requests.transition(
                record.id, Status.QUEUED, actor="gateway", reason="fast lane", expected=Status.CLASSIFIED
            )
        before = self.undelivered()
        for record in urgent:
            self.queue.enqueue(record.id, int(Priority.P0), attempt=0)
            accepted[record.id] = time.time()
        after = self.undelivered()
        waiting = (before & after) - {r.id for r in urgent}
        all_ids = list(accepted)
        if not self.wait_settled(all_ids, args.priority_timeout, "priority: backlog + P0s"):
            raise PhaseError("priority: not every request settled in time")
        facts = self.final_facts(all_ids)
        started = sorted(
            (f for f in facts.values() if f.run_start is not None), key=lambda f: f.run_start or 0
        )
        position = {f.request_id: index + 1 for index, f in enumerate(started)}
        by_priority: dict[str, list[int]] = {}
        for f in started:
            by_priority.setdefault(f"P{f.priority}", []).append(position[f.request_id])
        arrival = max(accepted[r.id] for r in urgent) if urgent else 0.0
        after_arrival = [f for f in started if (f.run_start or 0) > arrival]
        p0_positions = [i + 1 for i, f in enumerate(after_arrival) if f.priority == int(Priority.P0)]
        p0_wait = [(facts[r.id].run_start - accepted[r.id]) * 1000 for r in urgent if facts[r.id].run_start]
        # The order the workers took the requests in is best seen at the run's creation (a few ms
        # after the dequeue); two workers can reach RUN_START in the other order by a few ms.
        taken = self._order_violations(facts, waiting, [r.id for r in urgent], "run_created")
        by_start = self._order_violations(facts, waiting, [r.id for r in urgent], "run_start")
        return {
            "workers": args.workers,
            "backlog": {"P1": n_p1, "P2": len(order) - n_p1},
            "p0": len(urgent),
            "mean_start_position": {p: round(float(np.mean(v)), 1) for p, v in sorted(by_priority.items())},
            "p0_positions_after_arrival": p0_positions,
            "waiting_backlog_when_p0_arrived": len(waiting),
            "waiting_backlog_taken_before_a_p0": taken["jumped"],
            "p0_all_first": taken["jumped"] == 0,
            "waiting_p2_taken_before_a_p1": taken["inversions"],
            "by_run_start": by_start,
            "p0_start_ms": summarize(p0_wait),
            "statuses": dict(Counter(f.status.value for f in facts.values())),
        }

    @staticmethod
    def _order_violations(
        facts: dict[str, RunFacts], waiting: set[str], urgent: Sequence[str], key: str
    ) -> dict[str, int]:
        """Priority order broken, by ``key`` (``run_created`` or ``run_start``) among what waited.

        ``jumped``: waiting P1/P2 whose run came before the last P0's; ``inversions``: pairs of
        waiting requests where a P2's run came before a P1's.
        """

        def at(request_id: str) -> float:
            value = getattr(facts[request_id], key)
            return float("inf") if value is None else value

        last_p0 = max((at(i) for i in urgent), default=float("-inf"))
        p1 = [i for i in waiting if facts[i].priority == int(Priority.P1)]
        p2 = [i for i in waiting if facts[i].priority == int(Priority.P2)]
        return {
            "jumped": sum(1 for i in waiting if at(i) < last_p0),
            "inversions": sum(1 for low in p2 for high in p1 if at(low) < at(high)),
        }

    def started_count(self, ids: Sequence[str]) -> int:
        with self.requests.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM requests WHERE id = ANY(:ids) AND status = 'running'"),
                    {"ids": list(ids)},
                ).scalar_one()
            )

    # -- queue alone ----------------------------------------------------------------------------

    def queue_alone(self) -> dict[str, Any]:
        """Producers and consumers in processes of their own (spawned: no inherited pools or threads)."""
        args = self.args
        context = multiprocessing.get_context("spawn")
        ready, out = context.Queue(), context.Queue()
        go, stop = context.Event(), context.Event()
        prefix = f"{self.prefix}queue:"
        FastQueue(self.redis, prefix=prefix).ensure_groups()
        processes = [
            context.Process(
                target=queue_producer,
                args=(args.redis_url, prefix, args.seed + i, args.queue_cap, ready, go, stop, out),
                name=f"queue-producer-{i}",
            )
            for i in range(args.queue_producers)
        ] + [
            context.Process(
                target=queue_consumer,
                args=(args.redis_url, prefix, f"consumer-{i}", ready, go, stop, out),
                name=f"queue-consumer-{i}",
            )
            for i in range(args.queue_consumers)
        ]
        results: list[dict[str, Any]] = []
        try:
            for process in processes:
                process.start()
            for _ in processes:
                ready.get(timeout=120)
            go.set()
            with progress(self.console) as bar:
                task = bar.add_task("queue alone (seconds)", total=args.queue_seconds)
                started = time.monotonic()
                while (elapsed := time.monotonic() - started) < args.queue_seconds:
                    bar.update(task, completed=min(elapsed, args.queue_seconds))
                    time.sleep(0.2)
            stop.set()
            window = time.monotonic() - started
            results = [out.get(timeout=60) for _ in processes]
        finally:
            stop.set()
            go.set()
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join(timeout=5)
        consumers = [r for r in results if r["role"] == "consumer"]
        acked = sum(r["acked"] for r in consumers)
        latencies = [x for r in consumers for x in r["latencies"]]
        served: Counter[str] = Counter()
        for r in consumers:
            served.update(r["per_priority"])
        return {
            "producers": args.queue_producers,
            "consumers": args.queue_consumers,
            "seconds": round(window, 2),
            "enqueued": sum(r["enqueued"] for r in results if r["role"] == "producer"),
            "acked": acked,
            "empty_dequeues": sum(r["empty"] for r in consumers),
            "served_by_priority": dict(sorted(served.items())),
            "tasks_per_min": round(acked / window * 60, 0),
            "schedule_ms": summarize(latencies),
        }

    # -- requests in flight ---------------------------------------------------------------------

    def inflight(self) -> dict[str, Any]:
        """Put ``--inflight`` requests in flight through the store's API; count them; time queries."""
        args = self.args
        store = RequestStore(
            make_engine(self.db_url, pool_size=args.inflight_threads + 2, application_name="bench-inflight")
        )
        queue = FastQueue(self.redis, prefix=f"{self.prefix}inflight:")
        queue.ensure_groups()
        plan = self._inflight_plan(args.inflight)
        created: dict[str, Status] = {}
        fast_queued: set[str] = set()
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.inflight_threads) as pool, progress(self.console) as bar:
            task = bar.add_task(f"{args.inflight} requests in flight", total=len(plan))
            futures = [pool.submit(self._put_in_flight, store, queue, spec) for spec in plan]
            for future in as_completed(futures):
                try:
                    request_id, status, enqueued = future.result()
                    with lock:
                        created[request_id] = status
                        if enqueued:
                            fast_queued.add(request_id)
                except Exception as exc:  # noqa: BLE001 - a failed create is counted, not fatal
                    errors[type(exc).__name__] += 1
                bar.advance(task)
        create_s = time.monotonic() - started
        found = self._found_statuses(list(created))
        missing = [i for i in created if i not in found]
        moved = [i for i in created if i in found and found[i] != created[i].value]
        on_stream = {
            fields[b"request_id"].decode()
            for stream in queue.streams
            for _, fields in self.redis.xrange(stream)
        }
        with store.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE requests, approvals, request_transitions"))
        queries = self._time_queries(store, created)
        counts = {k.value: v for k, v in store.count_by_status().items() if v}
        store.close()
        expected = Counter(s.value for s in created.values())
        return {
            "planned": len(plan),
            "created": len(created),
            "create_errors": dict(errors),
            "create_s": round(create_s, 1),
            "created_per_s": round(len(created) / create_s, 1) if create_s else None,
            "by_status": dict(sorted(expected.items())),
            "lost": len(missing) + len(moved),
            "missing": len(missing),
            "in_other_status": len(moved),
            "fast_queued": len(fast_queued),
            "lost_queue_entries": len(fast_queued - on_stream),
            "count_by_status_after": counts,
            "queries": queries,
        }

    def _inflight_plan(self, count: int) -> list[dict[str, Any]]:
        """40 % queued (half per lane), 30 % running, 30 % awaiting approval (half overdue), shuffled."""
        plan = []
        for index in range(count):
            share = index % 10
            if share < 4:
                kind, lane = "queued", (Lane.FAST if share % 2 else Lane.STANDARD)
            elif share < 7:
                kind, lane = "running", Lane.FAST
            else:
                kind, lane = "awaiting", Lane.FAST
            intent = (
                self.rng.choice(("finance.invoice_process", "hr.leave_request"))
                if kind == "awaiting"
                else self.rng.choice(tuple(REQUEST_MAKERS))
            )
            text, entities = REQUEST_MAKERS[intent](self.rng)
            plan.append(
                {
                    "kind": kind,
                    "lane": lane,
                    "intent": intent,
                    "text": text,
                    "entities": entities,
                    "client": f"bench-inflight-{index % 50}",
                    "overdue": index % 20 >= 17,
                }
            )
        self.rng.shuffle(plan)
        return plan

    def _put_in_flight(
        self, store: RequestStore, queue: FastQueue, spec: dict[str, Any]
    ) -> tuple[str, Status, bool]:
        """One request's way to its in-flight status, transaction by transaction as the product does it.

        Returns its id, the status it should now be found in, and whether it went on the fast lane's
        stream (those are looked for there too).
        """
        route = route_for(spec["intent"])
        record, _ = store.submit(spec["client"], uuid.uuid4().hex, spec["text"])
        store.classify(
            record.id,
            intent=spec["intent"],
            confidence=0.93,
            entities=spec["entities"],
            agent=route.agent,
            workflow=route.job,
            priority=route.priority,
            lane=spec["lane"],
            model_version="bench",
            needs_review=False,
        )
        queued = store.transition(record.id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)
        if spec["kind"] == "queued":
            if queued.lane is Lane.FAST:
                queue.enqueue(
                    queued.id, int(queued.priority if queued.priority is not None else Priority.P1), attempt=0
                )
                return queued.id, Status.QUEUED, True
            return queued.id, Status.QUEUED, False
        store.transition(
            record.id,
            Status.RUNNING,
            actor=route.agent,
            reason="bench run started",
            expected=Status.QUEUED,
            run_id=str(uuid.uuid4()),
            attempt=True,
        )
        if spec["kind"] == "running":
            return record.id, Status.RUNNING, False
        hours = -1 if spec["overdue"] else 24
        approver = route.approver_role or "manager"
        store.request_approval(record.id, approver, datetime.now(UTC) + timedelta(hours=hours), route.agent)
        return record.id, Status.AWAITING_APPROVAL, False

    def _found_statuses(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.requests.engine.connect() as connection:
            for batch in chunks(ids, 2000):
                rows = connection.execute(
                    sa.text("SELECT id, status FROM requests WHERE id = ANY(:ids)"), {"ids": list(batch)}
                )
                found.update({row.id: row.status for row in rows})
        return found

    def _time_queries(self, store: RequestStore, created: dict[str, Status]) -> dict[str, Any]:
        """P50/P95 of what the sensors and the API ask the store, at this size (after warm-up)."""
        repeats = self.args.query_repeats
        ids = list(created)
        standard = store.queued_for_lane(Lane.STANDARD, limit=1000)
        middle = standard[len(standard) // 2] if standard else None
        cursor = (middle.queued_at - timedelta(seconds=5), "") if middle and middle.queued_at else None
        page = store.list(status=Status.AWAITING_APPROVAL, limit=100)
        anchor = page[-1].id if page else None
        queries: dict[str, Callable[[], object]] = {
            "queued_for_lane": lambda: store.queued_for_lane(Lane.STANDARD, limit=200),
            "queued_for_lane_after_cursor": lambda: store.queued_for_lane(
                Lane.STANDARD, after=cursor, limit=200
            ),
            "count_by_status": store.count_by_status,
            "list_status": lambda: store.list(status=Status.AWAITING_APPROVAL, limit=100),
            "list_status_next_page": lambda: store.list(
                status=Status.AWAITING_APPROVAL, limit=100, before=anchor
            ),
            "get": lambda: store.get(self.rng.choice(ids)),
            "overdue_approvals": lambda: store.overdue_approvals(limit=500),
        }
        results: dict[str, Any] = {}
        for name, query in queries.items():
            for _ in range(5):
                query()
            samples = []
            for _ in range(repeats):
                began = time.perf_counter()
                query()
                samples.append((time.perf_counter() - began) * 1000)
            results[name] = summarize(samples)
        return results


# --- orchestration of the phases ------------------------------------------------------------------


def add_run_server_argument(parser: argparse.ArgumentParser) -> None:
    """``--run-server`` / ``--no-run-server``: how the daemon's standard-lane runs start (both benchmarks)."""
    parser.add_argument(
        "--run-server",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="standard-lane runs forked from `eas run-server` (as `eas up` runs them); --no-run-server: "
        "a new process per run (Dagster's DefaultRunLauncher)",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {PHASES}")
    parser.add_argument("--skip-phases", default="", help="comma-separated phases to leave out")
    parser.add_argument(
        "--job",
        choices=tuple(JOB_INTENTS),
        default="ticket",
        help="workflow the fast, priority and standard phases run (ticket: customer_service_ticket_routing, "
        "invoice: finance_invoice_processing)",
    )
    parser.add_argument("--workers", type=int, default=2, help="warm fast-lane workers")
    parser.add_argument("--fast-requests", type=int, default=1000, help="fast-lane burst size")
    parser.add_argument("--standard-requests", type=int, default=30, help="standard-lane burst size")
    parser.add_argument(
        "--fast-latency-requests", type=int, default=None, help="one-at-a-time samples (min(100, burst))"
    )
    parser.add_argument(
        "--standard-latency-requests", type=int, default=None, help="one-at-a-time samples (min(15, burst))"
    )
    parser.add_argument(
        "--standard-timeout", type=float, default=300.0, help="time box of the standard burst"
    )
    parser.add_argument("--priority-backlog", type=int, default=40, help="P1/P2 requests ahead of the P0s")
    parser.add_argument("--priority-p0", type=int, default=8, help="P0 requests accepted under load")
    parser.add_argument("--priority-timeout", type=float, default=300.0)
    parser.add_argument("--queue-seconds", type=float, default=20.0)
    parser.add_argument("--queue-producers", type=int, default=2)
    parser.add_argument("--queue-consumers", type=int, default=2)
    parser.add_argument("--queue-cap", type=int, default=5000, help="producers pause above this depth")
    parser.add_argument("--inflight", type=int, default=10_000, help="requests put in flight")
    parser.add_argument("--inflight-threads", type=int, default=4)
    parser.add_argument("--query-repeats", type=int, default=50)
    parser.add_argument("--start-timeout", type=float, default=240.0, help="children start + warm-up")
    add_run_server_argument(parser)
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES_URL, help="a role that may CREATE DATABASE"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--dagster-yaml", type=Path, default=ROOT / "dagster.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scrape-interval",
        type=float,
        default=0.0,
        help="seconds between scrapes of each worker's /metrics, as Prometheus would (0: none)",
    )
    parser.add_argument("--keep-temp", action="store_true", help="keep the Dagster home and child logs")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.phases.split(",") if p.strip()]
    skipped = {p.strip() for p in args.skip_phases.split(",") if p.strip()}
    unknown = sorted((set(chosen) | skipped) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {unknown}; choose from {PHASES}")
    args.selected = [p for p in PHASES if p in chosen and p not in skipped]
    args.postgres_url = normalize_database_url(args.postgres_url)  # postgresql:// would mean psycopg 3
    if args.fast_latency_requests is None:
        args.fast_latency_requests = min(100, args.fast_requests)
    if args.standard_latency_requests is None:
        args.standard_latency_requests = min(15, args.standard_requests)
    return args


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "json"}
    config["postgres_url"] = sa.make_url(args.postgres_url).render_as_string(hide_password=True)
    config["dagster_yaml_sha256"] = hashlib.sha256(Path(args.dagster_yaml).read_bytes()).hexdigest()[:16]
    config["job"] = route_for(JOB_INTENTS[args.job]).job
    config["other_jobs_in_inflight_mix"] = [
        j for j in (TICKET_JOB, INVOICE_JOB, LEAVE_JOB) if j != config["job"]
    ]
    config["connectors"] = "eas_sandbox emulators in the benchmark process (HTTPS, SMTP)"
    return config


def run_phases(bench: Bench, result: dict[str, Any]) -> None:
    """Run the selected phases in order; a failed phase is recorded and the next ones still run."""
    args, console = bench.args, bench.console
    selected = args.selected
    errors: dict[str, str] = result["errors"]

    def attempt(name: str, body: Callable[[], None]) -> None:
        console.rule(f"[bold]{name}")
        try:
            body()
        except PhaseError as exc:
            console.log(f"[red]{name} failed: {exc}")
            errors[name] = str(exc)

    if "queue" in selected:

        def queue_phase() -> None:
            q = bench.queue_alone()
            result["phases"]["queue"] = q
            result["queue_tasks_per_min"] = q["tasks_per_min"]
            result["queue_schedule_p95_ms"] = q["schedule_ms"]["p95"]
            console.log(
                f"queue: {q['tasks_per_min']:.0f} tasks/min, dequeue P95 {q['schedule_ms']['p95']} ms"
            )

        attempt("queue", queue_phase)

    if "fast" in selected or "priority" in selected:
        try:
            attempt("fast-lane workers", bench.start_workers)
            if "fast-lane workers" not in errors:
                if "fast" in selected:

                    def fast_phase() -> None:
                        lat = bench.latency(Lane.FAST, args.fast_latency_requests, 0.1, 60)
                        result["phases"]["fast_latency"] = lat
                        result["fast_start_p50_ms"] = lat["start_ms"]["p50"]
                        result["fast_start_p95_ms"] = lat["start_ms"]["p95"]
                        console.log(f"fast latency: {lat['start_ms']}")
                        burst = bench.burst(
                            Lane.FAST, args.fast_requests, max(120.0, args.fast_requests * 2.0)
                        )
                        result["phases"]["fast_burst"] = burst
                        result["fast_runs_per_min"] = burst["runs_per_min"]
                        console.log(
                            f"fast burst: {burst['runs_per_min']} runs/min ({burst['completed']} runs)"
                        )

                    attempt("fast", fast_phase)
                if "priority" in selected:

                    def priority_phase() -> None:
                        order = bench.priority()
                        result["priority_order"] = order
                        console.log(f"priority: {order}")

                    attempt("priority", priority_phase)
        finally:
            bench.stop_workers()
            if bench.scrape_record:
                result["worker_metrics_scrapes"] = bench.scrape_record

    if "standard" in selected:

        def standard_phase() -> None:
            bench.start_daemon()
            lat = bench.latency(Lane.STANDARD, args.standard_latency_requests, 5.0, args.start_timeout)
            result["phases"]["standard_latency"] = lat
            result["standard_start_p50_ms"] = lat["start_ms"]["p50"]
            result["standard_start_p95_ms"] = lat["start_ms"]["p95"]
            console.log(f"standard latency: {lat['start_ms']}")
            burst = bench.burst(Lane.STANDARD, args.standard_requests, args.standard_timeout)
            result["phases"]["standard_burst"] = burst
            result["standard_runs_per_min"] = burst["runs_per_min"]
            result["phases"]["standard_sensor_tick_interval_s"] = bench.sensor_tick_intervals()
            console.log(f"standard burst: {burst['runs_per_min']} runs/min ({burst['completed']} runs)")

        try:
            attempt("standard", standard_phase)
        finally:
            for child in [c for c in bench.group.children if c.name == "dagster-daemon"]:
                bench.group.stop_child(child)

    if "inflight" in selected:

        def inflight_phase() -> None:
            report = bench.inflight()
            result["phases"]["inflight"] = report
            result["inflight_requests"] = report["created"]
            result["lost_requests"] = report["lost"]
            result["lost_queue_entries"] = report["lost_queue_entries"]
            result["query_ms"] = {name: q["p95"] for name, q in report["queries"].items()}
            console.log(f"in flight: {report['created']} created, {report['lost']} lost")

        attempt("inflight", inflight_phase)

    with contextlib.suppress(Exception):  # informative only
        result["sandbox_records"] = bench.sandbox_counts()


def print_summary(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="orchestration benchmark")
    table.add_column("key", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("target / baseline")
    reference = {**TARGETS, "standard_start_p95_ms": f"baseline {BASELINES['standard_start_ms']}"}
    reference["standard_runs_per_min"] = f"baseline {BASELINES['standard_runs_per_min']}"
    for key in (
        "fast_start_p50_ms",
        "fast_start_p95_ms",
        "standard_start_p50_ms",
        "standard_start_p95_ms",
        "fast_runs_per_min",
        "standard_runs_per_min",
        "queue_tasks_per_min",
        "queue_schedule_p95_ms",
        "inflight_requests",
        "lost_requests",
        "lost_queue_entries",
    ):
        if key in result:
            table.add_row(key, str(result[key]), reference.get(key, ""))
    for name, p95 in result.get("query_ms", {}).items():
        table.add_row(f"query_ms.{name} (P95)", str(p95), "")
    if "priority_order" in result:
        order = result["priority_order"]
        table.add_row("priority: P0 all first", str(order["p0_all_first"]), "True")
        table.add_row("priority: mean start position", json.dumps(order["mean_start_position"]), "")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    result: dict[str, Any] = {
        "benchmark": "orchestration",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": config_of(args),
        "definitions": {
            "accepted": "transition(classified -> queued) committed and, on the fast lane, enqueue returned",
            "run_started": "the Dagster run's RUN_START event (run record start_time), both lanes",
            "first_op": "the request's started_at: the first op's queued -> running commit (DB clock)",
            "run_created": "the run record's create_timestamp: sensor tick (standard) or dequeue (fast)",
            "completed": "the run's RUN_SUCCESS event (run record end_time)",
        },
        "targets": TARGETS,
        "baselines": BASELINES,
        "phases": {},
        "errors": {},
    }
    bench = Bench(args, console)
    console.log(
        f"database {bench.db_name}, redis {args.redis_url} prefix {bench.prefix}, "
        f"dagster home {bench.home}; phases {', '.join(args.selected)}"
    )

    def run() -> None:
        bench.setup(need_dagster=bool({"fast", "priority", "standard"} & set(args.selected)))
        result["config"]["dagster_instance"] = bench.dagster_config
        run_phases(bench, result)

    run_recorded(bench, run, result, args.json, console)
    print_summary(console, result)
    return 0 if result["completed"] and not result["leftover_processes"] else 1


def run_recorded(
    bench: Bench, run: Callable[[], None], result: dict[str, Any], json_path: Path | None, console: Console
) -> None:
    """``run`` (set up, then the phases), then always the teardown and the JSON record: an interrupt
    (Ctrl-C, SIGTERM) still removes what the run started and writes what it measured so far."""
    interrupted = False
    try:
        run()
    except KeyboardInterrupt:
        interrupted = True
        console.log("[yellow]interrupted: cleaning up")
    finally:
        result.update(bench.teardown())
        result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        result["completed"] = not interrupted and not result["errors"]
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
            console.log(f"wrote {json_path}")


if __name__ == "__main__":
    raise SystemExit(main())
