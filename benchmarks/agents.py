"""Agents benchmark: every routed workflow, warm and cold, one by one, in bulk and under connector faults.

    .venv/bin/python -m benchmarks.agents --json benchmarks/results/agents.json

It runs on the machinery of ``benchmarks/orchestration.py`` (its :class:`Bench`: a database
``eas_bench_<hex>`` of its own, Redis keys under a prefix of its own, a temporary ``DAGSTER_HOME``
with the project's ``dagster.yaml``, the vendors' emulators in this process, ``--workers`` warm
``eas worker`` processes for the fast lane and ``dagster-daemon`` for the standard lane and the
sensors), with one request builder per routed intent (``benchmarks/agent_requests.py``: the
sentence, the entities the NLP service would extract, and whatever the emulators must hold first).
Phases, in order (``--phases`` selects):

``cold``
    **Initialisation, cold**: per agent (each module of ``eas_pipelines.agents.AGENTS``), a fresh
    Python process imports the agent's ``definitions`` module (``import_ms``), then builds the
    resources it names (``CONNECTORS``, configured from the environment as the code location does,
    through ``dg.build_resources``) and creates each connector's client (``build_ms``). Median of
    ``--cold-repeats`` processes. ``cold_ms`` = import + build. Interpreter start-up is not counted.
``agents``
    Each routed intent ``--samples`` times, one request at a time on an idle system, on its route's
    lane. From the runs' Dagster event logs:

    - **initialisation, warm** (``init_ms``): from the run's creation (the warm worker's dequeue on
      the fast lane; the sensor's tick on the standard lane) to its first op's ``STEP_START``. Target
      (issue 15) < 100 ms P95, fast lane (a standard-lane run starts a new process: reported apart).
    - **step latency** (``steps``): each op's ``STEP_START`` -> ``STEP_SUCCESS``, per agent and op;
      ``step_p95_ms`` per agent is the P95 over all its ops' executions. Target < 150 ms P95.
``mixed``
    ``--requests`` requests spread evenly over every covered intent (shuffled), built first, then
    accepted in one burst through the lanes as the gateway queues them (fast lane: committed queued
    and on the Redis stream; standard lane: committed queued, for the sensor), while the emulators
    inject faults into a share of calls (``--fault-5xx`` answered 503, ``--fault-429`` throttled with
    ``Retry-After`` 0.05 s; QuickBooks, which throttles without ``Retry-After`` and so makes the
    connector wait Intuit's 60 s, gets the 5xx share only). The failure sensor retries runs that
    fail and fails requests whose retries are spent, with the reason. Each request ends:

    - **completed**: ``succeeded``, or ``awaiting_approval`` (the workflow correctly stopped for a
      decision: invoices over the threshold, leave for the manager...);
    - **failed with a reason**: ``failed``/``rejected``/``cancelled`` with a ``last_error``;
    - **lost**: anything else after ``--mixed-timeout`` (still queued or running, or failed with no
      reason). Any lost request makes the benchmark exit 1.

    Target: completed >= 97.24 %, the rest failed with a reason, none lost. Per agent breakdown and
    the failure reasons tallied (numbers and ids blanked so that alike reasons count together).
``fanout``
    An announcement to a department of ``--fanout-items`` people (written into the BambooHR
    emulator's directory), on its route's lane: **items per minute** = recipients delivered /
    (the summary op's end - the batching op's start), and over the whole run (RUN_START -> end).

The fast lane uses the code location's own key prefix (``eas:``) in the benchmark's Redis database
(14 by default), because the sensors and the runs re-queue fast-lane requests there (the failure
sensor's retries, resumed approvals, the recovery agent): so run one agents benchmark at a time per
Redis database. Keys it created there are deleted at the end. Every run's events are read from
Dagster's event log in the benchmark database. Timings include
whatever else the machine does: the JSON records load averages before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from benchmarks.agent_requests import (
    BUILDERS,
    Built,
    Seeding,
    announcement,
    covered_intents,
    fanout_department,
    iter_round_robin,
    missing_builders,
)
from benchmarks.orchestration import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    FOREIGN_KEY_PATTERNS,
    ROOT,
    Bench,
    PhaseError,
    _raise_keyboard_interrupt,
    add_run_server_argument,
    machine,
    progress,
    run_recorded,
    summarize,
)
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX, FastQueue
from eas_pipelines.routing import route_for
from eas_pipelines.store import Lane, RequestRecord, Status, normalize_database_url

PHASES = ("cold", "agents", "mixed", "fanout")
TARGETS = {
    "init_p95_ms": "< 100 (fast lane, warm)",
    "step_p95_ms": "< 150",
    "mixed_completed_pct": ">= 97.24",
    "mixed_lost": "== 0",
}
COMPLETED = (Status.SUCCEEDED, Status.AWAITING_APPROVAL)
ENDED = (Status.FAILED, Status.REJECTED, Status.CANCELLED)
DEFINITIONS = {
    "init_ms (warm)": "run record created (worker dequeue / sensor tick) -> first op's STEP_START",
    "cold_ms": "fresh process: import the agent's definitions module + build its resources and clients "
    "(median; interpreter start-up not counted). Importing any agent runs eas_pipelines/agents/__init__.py, "
    "which imports every agent: import_ms is the code location's import (dagster_import_ms of it is "
    "Dagster's own)",
    "step_ms": "each op's STEP_START -> STEP_SUCCESS (Dagster event log)",
    "completed": "succeeded, or awaiting_approval (the workflow asked for a decision, as it should)",
    "failed_with_reason": "failed / rejected / cancelled with a last_error",
    "lost": "neither after the timeout (still queued/running), or ended without a reason",
    "fanout_items_per_min": "recipients delivered / (summary op end - batching op start)",
}
COLD_SCRIPT = r"""
import importlib, json, os, sys, time
t0 = time.perf_counter()
import dagster as dg
td = time.perf_counter()
module = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
redis_url, database_url = os.environ["EAS_REDIS_URL"], os.environ["EAS_DATABASE_URL"]
resources = {}
for key, connector in module.CONNECTORS.items():
    if hasattr(connector, "from_env"):
        resources[key] = connector.from_env(redis_url)
    else:
        resources[key] = connector(database_url=database_url, redis_url=redis_url)
clients = []
with dg.build_resources(resources) as built:
    for key in resources:
        made = getattr(built, key)
        if hasattr(made, "client"):
            clients.append(made.client())
    t2 = time.perf_counter()
    for client in clients:
        close = getattr(client, "close", None)
        if close is not None:
            close()
print(json.dumps({
    "dagster_import_ms": (td - t0) * 1000,
    "import_ms": (t1 - t0) * 1000,
    "build_ms": (t2 - t1) * 1000,
    "resources": len(resources),
}))
"""
STEP_KEY_INDEX = re.compile(r"\[.*\]$")  # a mapped (fan-out) step: announce_batch[3] -> announce_batch
REASON_NOISE = re.compile(r"\b(?=[\w-]*\d)[\w.@:/-]{4,}\b")  # ids, numbers, addresses in a reason


def pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


class AgentBench(Bench):
    """:class:`Bench` with request builders for every agent and the event-log figures of their runs."""

    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        super().__init__(args, console)
        # The fast lane on the code location's own prefix (in the benchmark's Redis database): the
        # failure sensor's retries, resumed approvals and the recovery agent's re-queues enqueue there.
        self.lane_prefix = DEFAULT_PREFIX
        self.foreign_patterns = (*FOREIGN_KEY_PATTERNS, f"{DEFAULT_PREFIX}workers:*")
        self.queue = FastQueue(self.redis, prefix=self.lane_prefix)
        self.seeding: Seeding | None = None
        self.lanes_up = False
        self.intents: list[str] = []
        self.skipped: list[str] = []

    def setup(self, need_dagster: bool = True) -> None:
        super().setup(need_dagster=need_dagster)
        assert self.sandbox is not None and self.sandbox.records is not None
        self.seeding = Seeding(self.sandbox.records, self.requests, self.args.redis_url, self.prefix)
        from eas_pipelines.agents import AGENT_JOBS

        loaded = {job.name for job in AGENT_JOBS}
        self.intents = [i for i in covered_intents(loaded) if not self.args.only or i in self.args.only]
        self.skipped = missing_builders(loaded)
        for intent in self.skipped:
            self.console.log(f"[yellow]no request builder for {intent}: left out")

    def teardown(self) -> dict[str, Any]:
        if self.seeding is not None:
            with contextlib.suppress(Exception):
                self.seeding.close()
        return super().teardown()

    # -- lanes ---------------------------------------------------------------------------------

    def ensure_lanes(self) -> None:
        """Warm fast-lane workers and the daemon (standard lane, failure and approval sensors)."""
        if self.lanes_up:
            return
        self.start_workers()
        self.start_daemon()
        self.lanes_up = True
        assert self.seeding is not None
        self.seeding.run_now = self.run_now

    def run_now(self, intent: str, built: Built) -> str:
        """Queue a request and wait until it settles (a rollback's target); its id."""
        record = self.classified(intent, built)
        self.accept(record)
        self.wait_one(record.id, self.args.start_timeout, 0.05)
        return record.id

    # -- requests ------------------------------------------------------------------------------

    def build(self, intent: str) -> RequestRecord:
        """The intent's request, built (and its prerequisites seeded) and taken up to classified."""
        assert self.seeding is not None
        return self.classified(intent, BUILDERS[intent](self.seeding))

    def classified(self, intent: str, built: Built) -> RequestRecord:
        """The request taken through intake and routing to ``classified``, as the gateway does."""
        route = route_for(intent)
        client = built.client_id or f"bench-client-{uuid.uuid4().hex[:6]}"
        record, _ = self.requests.submit(client, uuid.uuid4().hex, built.text)
        return self.requests.classify(
            record.id,
            intent=intent,
            confidence=0.97,
            entities=built.entities,
            agent=route.agent,
            workflow=route.job,
            priority=route.priority,
            lane=route.lane,
            model_version="bench",
            needs_review=False,
        )

    def build_many(self, intents: Sequence[str], label: str) -> list[RequestRecord]:
        records = []
        with progress(self.console) as bar:
            task = bar.add_task(label, total=len(intents))
            for intent in intents:
                records.append(self.build(intent))
                bar.advance(task)
        return records

    def outcomes(self, ids: Sequence[str]) -> list[Any]:
        with self.requests.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT id, intent, agent, status, coalesce(last_error, '') AS reason, run_ids "
                        "FROM requests WHERE id = ANY(:ids)"
                    ),
                    {"ids": list(ids)},
                ).all()
            )

    # -- the event log -------------------------------------------------------------------------

    def run_events(self, run_ids: Sequence[str]) -> dict[str, list[tuple[str, str | None, float]]]:
        """(event type, step key, epoch seconds) of each run's run and step events, in order."""
        import dagster as dg

        found: dict[str, list[tuple[str, str | None, float]]] = defaultdict(list)
        names = ("RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE")
        # The stored type is the enum's value (RUN_START is stored as PIPELINE_START): read back as names.
        by_value = {getattr(dg.DagsterEventType, name).value: name for name in names}
        kinds = list(by_value)
        with self.requests.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT run_id, dagster_event_type, step_key, timestamp FROM event_logs "
                    "WHERE run_id = ANY(:runs) AND dagster_event_type = ANY(:kinds) ORDER BY id"
                ),
                {"runs": list(run_ids), "kinds": kinds},
            ).all()
            created = dict(
                connection.execute(
                    sa.text("SELECT run_id, create_timestamp FROM runs WHERE run_id = ANY(:runs)"),
                    {"runs": list(run_ids)},
                ).all()
            )
        for row in rows:
            found[row.run_id].append((by_value[row.dagster_event_type], row.step_key, _epoch(row.timestamp)))
        for run_id, when in created.items():
            found[run_id].insert(0, ("RUN_CREATED", None, _epoch(when)))
        return found

    def timings(self, records: Sequence[Any]) -> dict[str, Any]:
        """Warm initialisation and step latency per agent (and per op) from the runs' event logs."""
        runs = {run: row for row in records for run in (row.run_ids or ())}
        events = self.run_events(list(runs))
        init: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        steps: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for run_id, run_events in events.items():
            row = runs[run_id]
            lane = route_for(row.intent).lane.value
            created = next((t for kind, _, t in run_events if kind == "RUN_CREATED"), None)
            first = next((t for kind, _, t in run_events if kind == "STEP_START"), None)
            if created is not None and first is not None:
                init[row.agent][lane].append((first - created) * 1000)
            started: dict[str, float] = {}
            for kind, step, when in run_events:
                if step is None:
                    continue
                if kind == "STEP_START":
                    started[step] = when
                elif kind == "STEP_SUCCESS" and step in started:
                    steps[row.agent][STEP_KEY_INDEX.sub("", step)].append((when - started.pop(step)) * 1000)
        agents: dict[str, Any] = {}
        for agent in sorted(set(init) | set(steps)):
            every_step = [ms for values in steps[agent].values() for ms in values]
            agents[agent] = {
                "init_ms": {lane: summarize(values) for lane, values in sorted(init[agent].items())},
                "step_ms": summarize(every_step),
                "steps": {op: summarize(values) for op, values in sorted(steps[agent].items())},
            }
        return agents

    # -- phases --------------------------------------------------------------------------------

    def cold(self) -> dict[str, Any]:
        """Per agent: a fresh process imports its definitions and builds its resources (median)."""
        from eas_pipelines.agents import AGENTS

        env = {**os.environ, **self.env}
        figures: dict[str, Any] = {}
        with progress(self.console) as bar:
            task = bar.add_task("cold initialisation", total=len(AGENTS) * self.args.cold_repeats)
            for module in AGENTS:
                samples = []
                for _ in range(self.args.cold_repeats):
                    done = subprocess.run(
                        [sys.executable, "-c", COLD_SCRIPT, module.__name__],
                        env=env,
                        cwd=ROOT,
                        capture_output=True,
                        text=True,
                        timeout=300,
                        check=False,
                    )
                    if done.returncode != 0:
                        raise PhaseError(f"cold start of {module.__name__} failed: {done.stderr[-2000:]}")
                    samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
                    bar.advance(task)
                agent = module.__name__.split(".")[-2]
                import_ms = statistics.median(s["import_ms"] for s in samples)
                build_ms = statistics.median(s["build_ms"] for s in samples)
                figures[agent] = {
                    "module": module.__name__,
                    "resources": samples[0]["resources"],
                    "dagster_import_ms": round(statistics.median(s["dagster_import_ms"] for s in samples), 1),
                    "import_ms": round(import_ms, 1),
                    "build_ms": round(build_ms, 1),
                    "cold_ms": round(statistics.median(s["import_ms"] + s["build_ms"] for s in samples), 1),
                }
        return figures

    def one_by_one(self) -> dict[str, Any]:
        """Each intent ``--samples`` times, one request at a time; warm init and step latency."""
        self.ensure_lanes()
        order = [intent for intent in self.intents for _ in range(self.args.samples)]
        records = self.build_many(order, "building requests (one by one)")
        with progress(self.console) as bar:
            task = bar.add_task("one request at a time", total=len(records))
            for record in records:
                self.accept(record)
                lane_fast = record.lane is Lane.FAST
                self.wait_one(record.id, self.args.start_timeout, 0.02 if lane_fast else 0.2)
                bar.advance(task)
        ids = [r.id for r in records]
        self.final_facts(ids, timeout_s=15.0)
        rows = self.outcomes(ids)
        by_intent: dict[str, Counter[str]] = defaultdict(Counter)
        reasons: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_intent[row.intent][row.status] += 1
            if row.reason and row.status not in {s.value for s in COMPLETED}:
                reasons[row.intent].append(row.reason[:300])
        return {
            "requests": len(records),
            "statuses_by_intent": {k: dict(v) for k, v in sorted(by_intent.items())},
            "not_completed_reasons": {k: sorted(set(v))[:3] for k, v in sorted(reasons.items())},
            "agents": self.timings(rows),
        }

    def inject_faults(self) -> dict[str, Any]:
        from eas_sandbox.faults import Fault

        assert self.sandbox is not None
        faults = self.sandbox.faults
        faults.clear(seed=self.args.seed)
        if self.args.fault_5xx > 0:
            faults.add(Fault(kind="error", vendor=None, rate=self.args.fault_5xx, status=503))
        throttled = []
        if self.args.fault_429 > 0:
            for vendor in self.sandbox.vendors or ():
                if vendor.name == "quickbooks":
                    continue  # no Retry-After from Intuit: the connector waits 60 s per throttle
                faults.add(
                    Fault(kind="throttle", vendor=vendor.name, rate=self.args.fault_429, retry_after_s=0.05)
                )
                throttled.append(vendor.name)
        return {
            "5xx_rate": self.args.fault_5xx,
            "429_rate": self.args.fault_429,
            "throttled_vendors": throttled,
        }

    def mixed(self) -> dict[str, Any]:
        """``--requests`` over every intent, accepted in one burst while the emulators inject faults."""
        self.ensure_lanes()
        order = list(iter_round_robin(self.intents, self.args.requests, self.rng))
        records = self.build_many(order, f"building {len(order)} mixed requests")
        assert self.sandbox is not None
        ids = [r.id for r in records]
        faults = self.inject_faults()
        try:
            t0 = time.time()
            for record in records:
                self.accept(record)
            finished = self.wait_settled_counted(ids, self.args.mixed_timeout, "mixed workload (faults on)")
            elapsed = time.time() - t0
        finally:
            self.sandbox.faults.clear()
        rows = self.outcomes(ids)
        totals: Counter[str] = Counter()
        per_agent: dict[str, Counter[str]] = defaultdict(Counter)
        reasons: Counter[str] = Counter()
        lost_examples = []
        for row in rows:
            status = Status(row.status)
            if status in COMPLETED:
                outcome = "completed"
            elif status in ENDED and row.reason:
                outcome = "failed_with_reason"
                reasons[f"{row.agent}: {REASON_NOISE.sub('#', row.reason)[:160]}"] += 1
            else:
                outcome = "lost"
                lost_examples.append({"id": row.id, "intent": row.intent, "status": row.status})
            totals[outcome] += 1
            totals[f"status:{row.status}"] += 1
            per_agent[row.agent][outcome] += 1
        missing = len(ids) - len(rows)
        totals["lost"] += missing
        count = len(ids)
        return {
            "requests": count,
            "intents": len(self.intents),
            "faults": faults,
            "all_settled_in_time": finished,
            "elapsed_s": round(elapsed, 1),
            "requests_per_min": round(count / elapsed * 60, 1) if elapsed > 0 else None,
            "completed": totals["completed"],
            "failed_with_reason": totals["failed_with_reason"],
            "lost": totals["lost"],
            "completed_pct": pct(totals["completed"], count),
            "failed_with_reason_pct": pct(totals["failed_with_reason"], count),
            "statuses": {k.split(":", 1)[1]: v for k, v in sorted(totals.items()) if k.startswith("status:")},
            "per_agent": {
                agent: {**dict(c), "completed_pct": pct(c["completed"], sum(c.values()))}
                for agent, c in sorted(per_agent.items())
            },
            "failure_reasons": dict(reasons.most_common(25)),
            "lost_examples": lost_examples[:10],
            "agents_under_faults": self.timings(rows),
        }

    def wait_settled_counted(self, ids: Sequence[str], timeout_s: float, label: str) -> bool:
        """Until every request is completed or ended (awaiting approval counts); False at the timeout."""
        deadline = time.monotonic() + timeout_s
        done_statuses = [s.value for s in (*COMPLETED, *ENDED)]
        with progress(self.console) as bar:
            task = bar.add_task(label, total=len(ids))
            while True:
                with self.requests.engine.connect() as connection:
                    done = int(
                        connection.execute(
                            sa.text(
                                "SELECT count(*) FROM requests WHERE id = ANY(:ids) AND status = ANY(:s)"
                            ),
                            {"ids": list(ids), "s": done_statuses},
                        ).scalar_one()
                    )
                bar.update(task, completed=done)
                if done >= len(ids):
                    return True
                if time.monotonic() > deadline:
                    return False
                self.check_children()
                time.sleep(1.0)

    def fanout(self) -> dict[str, Any]:
        """An announcement to ``--fanout-items`` people: items per minute."""
        self.ensure_lanes()
        assert self.sandbox is not None and self.sandbox.records is not None
        count = self.args.fanout_items
        with self.console.status(f"writing {count} employees into the BambooHR emulator"):
            department = fanout_department(self.sandbox.records, count)
        record = self.classified("communication.announcement", announcement(department))
        self.accept(record)
        timeout = max(self.args.start_timeout, count * 1.0)
        if not self.wait_settled([record.id], timeout, f"fan-out to {count} recipients"):
            raise PhaseError(f"the announcement to {count} recipients did not settle within {timeout:.0f}s")
        self.final_facts([record.id], timeout_s=30.0)
        (row,) = self.outcomes([record.id])
        events = [e for run in (row.run_ids or ()) for e in self.run_events([run]).get(run, [])]
        summary = next(
            (e for e in self.requests.audit_trail(record.id) if e.action == "fanout.completed"), None
        )
        detail = summary.detail if summary is not None else {}
        delivered = int(detail.get("succeeded", 0))
        batch_start = min(
            (t for kind, step, t in events if kind == "STEP_START" and step and "batches" in step),
            default=None,
        )
        summary_end = max(
            (t for kind, step, t in events if kind == "STEP_SUCCESS" and step and "summary" in step),
            default=None,
        )
        run_start = min((t for kind, _, t in events if kind == "RUN_START"), default=None)
        run_end = max((t for kind, _, t in events if kind in ("RUN_SUCCESS", "RUN_FAILURE")), default=None)
        fan_s = (summary_end - batch_start) if batch_start and summary_end else None
        run_s = (run_end - run_start) if run_start and run_end else None
        return {
            "recipients": count,
            "status": row.status,
            "reason": row.reason or None,
            "runs": len(row.run_ids or ()),
            "delivered": delivered,
            "failed_items": int(detail.get("failed", 0)),
            "fanout_s": round(fan_s, 2) if fan_s else None,
            "run_s": round(run_s, 2) if run_s else None,
            "items_per_min": round(delivered / fan_s * 60, 1) if fan_s else None,
            "items_per_min_whole_run": round(delivered / run_s * 60, 1) if run_s else None,
        }


def _epoch(value: datetime | float) -> float:
    """Dagster stores event and run times as naive UTC datetimes."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


# --- CLI -------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {PHASES}")
    parser.add_argument("--requests", type=int, default=1000, help="mixed workload size")
    parser.add_argument("--workers", type=int, default=2, help="warm fast-lane workers")
    parser.add_argument(
        "--scrape-interval",
        type=float,
        default=0.0,
        help="seconds between scrapes of each worker's /metrics (orchestration.py's Bench reads it; 0: none)",
    )
    parser.add_argument("--fanout-items", type=int, default=2000, help="announcement recipients")
    parser.add_argument("--fault-5xx", type=float, default=0.10, help="share of vendor calls answered 503")
    parser.add_argument("--fault-429", type=float, default=0.05, help="share of vendor calls throttled")
    parser.add_argument("--samples", type=int, default=5, help="one-at-a-time requests per intent")
    parser.add_argument("--cold-repeats", type=int, default=3, help="fresh processes per agent (median)")
    parser.add_argument("--only", default="", help="comma-separated intents (default: every covered one)")
    parser.add_argument(
        "--mixed-timeout", type=float, default=None, help="seconds (default: 60 + 1.5/request)"
    )
    parser.add_argument("--start-timeout", type=float, default=240.0, help="children start + warm-up")
    add_run_server_argument(parser)
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES_URL, help="a role that may CREATE DATABASE"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--dagster-yaml", type=Path, default=ROOT / "dagster.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-temp", action="store_true", help="keep the Dagster home and child logs")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {unknown}; choose from {PHASES}")
    args.selected = [p for p in PHASES if p in chosen]
    args.only = {i.strip() for i in args.only.split(",") if i.strip()}
    unknown_intents = sorted(args.only - set(BUILDERS))
    if unknown_intents:
        parser.error(f"--only names intents without a builder: {unknown_intents}")
    args.postgres_url = normalize_database_url(args.postgres_url)
    if args.mixed_timeout is None:
        args.mixed_timeout = 60.0 + 1.5 * args.requests
    args.job = "ticket"  # what Bench's warm-ups run (customer_service_ticket_routing)
    return args


def run_phases(bench: AgentBench, result: dict[str, Any]) -> None:
    args, console = bench.args, bench.console
    errors: dict[str, str] = result["errors"]

    def attempt(name: str, body: Callable[[], Any]) -> None:
        console.rule(f"[bold]{name}")
        try:
            result["phases"][name] = body()
        except PhaseError as exc:
            console.log(f"[red]{name} failed: {exc}")
            errors[name] = str(exc)

    for name, body in (
        ("cold", bench.cold),
        ("agents", bench.one_by_one),
        ("mixed", bench.mixed),
        ("fanout", bench.fanout),
    ):
        if name in args.selected:
            attempt(name, body)
    phases = result["phases"]
    if "agents" in phases:
        agents = phases["agents"]["agents"]
        result["init_p95_ms"] = {a: f["init_ms"].get("fast", {}).get("p95") for a, f in agents.items()}
        result["step_p95_ms"] = {a: f["step_ms"]["p95"] for a, f in agents.items()}
    if "cold" in phases:
        result["cold_ms"] = {a: f["cold_ms"] for a, f in phases["cold"].items()}
    if "mixed" in phases:
        mixed = phases["mixed"]
        result["mixed_completed_pct"] = mixed["completed_pct"]
        result["mixed_failed_with_reason_pct"] = mixed["failed_with_reason_pct"]
        result["mixed_lost"] = mixed["lost"]
    if "fanout" in phases:
        result["fanout_items_per_min"] = phases["fanout"]["items_per_min"]
    with contextlib.suppress(Exception):
        result["sandbox_records"] = bench.sandbox_counts()


def print_summary(console: Console, result: dict[str, Any]) -> None:
    phases = result["phases"]
    agents = phases.get("agents", {}).get("agents", {})
    cold = phases.get("cold", {})
    if agents or cold:
        table = Table(title="per agent: initialisation and step latency (ms)")
        for column in (
            "agent",
            "init P50",
            "init P95 (<100)",
            "std-lane init P95",
            "cold",
            "step P50",
            "step P95 (<150)",
            "slowest op (P95)",
        ):
            table.add_column(column, justify="right", no_wrap=column in ("agent", "slowest op (P95)"))
        for agent in sorted(set(agents) | set(cold)):
            figures = agents.get(agent, {})
            fast = figures.get("init_ms", {}).get("fast", {})
            standard = figures.get("init_ms", {}).get("standard", {})
            slowest = max(figures.get("steps", {}).items(), key=lambda kv: kv[1]["p95"] or 0, default=None)
            table.add_row(
                agent,
                str(fast.get("p50", "")),
                str(fast.get("p95", "")),
                str(standard.get("p95", "")),
                str(cold.get(agent, {}).get("cold_ms", "")),
                str(figures.get("step_ms", {}).get("p50", "")),
                str(figures.get("step_ms", {}).get("p95", "")),
                f"{slowest[0]} {slowest[1]['p95']}" if slowest else "",
            )
        console.print(table)
    if "mixed" in phases:
        mixed = phases["mixed"]
        table = Table(
            title=f"mixed workload: {mixed['requests']} requests, faults {mixed['faults']['5xx_rate']:.0%} "
            f"5xx + {mixed['faults']['429_rate']:.0%} 429"
        )
        for column in ("agent", "completed", "failed with reason", "lost", "completed %"):
            table.add_column(column, justify="right", no_wrap=column in ("agent", "slowest op (P95)"))
        for agent, c in mixed["per_agent"].items():
            table.add_row(
                agent,
                str(c.get("completed", 0)),
                str(c.get("failed_with_reason", 0)),
                str(c.get("lost", 0)),
                str(c["completed_pct"]),
            )
        table.add_row(
            "[bold]all",
            str(mixed["completed"]),
            str(mixed["failed_with_reason"]),
            str(mixed["lost"]),
            f"[bold]{mixed['completed_pct']}",
        )
        console.print(table)
        for reason, n in list(mixed["failure_reasons"].items())[:10]:
            console.print(f"  {n:4d}  {reason}")
    if "fanout" in phases:
        f = phases["fanout"]
        console.print(
            f"fan-out: {f['delivered']}/{f['recipients']} delivered, {f['items_per_min']} items/min "
            f"({f['items_per_min_whole_run']} over the whole run), status {f['status']}"
        )
    for name, error in result["errors"].items():
        console.print(f"[red]{name}: {error[:500]}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    result: dict[str, Any] = {
        "benchmark": "agents",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            k: (str(v) if isinstance(v, Path) else sorted(v) if isinstance(v, set) else v)
            for k, v in vars(args).items()
            if k not in {"json", "postgres_url", "job"}
        },
        "definitions": DEFINITIONS,
        "targets": TARGETS,
        "phases": {},
        "errors": {},
    }
    console.print("[bold]definitions")
    for name, meaning in DEFINITIONS.items():
        console.print(f"  {name}: {meaning}")
    bench = AgentBench(args, console)

    def run() -> None:
        bench.setup(need_dagster=True)
        result["intents"] = bench.intents
        result["intents_without_builder"] = bench.skipped
        run_phases(bench, result)

    run_recorded(bench, run, result, args.json, console)
    print_summary(console, result)
    lost = result.get("mixed_lost", 0)
    return 0 if result["completed"] and not lost and not result["leftover_processes"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
