"""Crashes under ``eas up`` in the middle of a run: the request must still end ``succeeded``, once.

Two ways a run is lost, each tried on a real ``eas up --workers 1 --no-dagster`` with the tiny test
model (see :mod:`.test_up`):

1. the fast-lane worker is killed with SIGKILL mid-run: the gateway keeps answering, the supervisor
   restarts the worker within seconds, and the new worker finishes the request (its queue entry is
   still pending in Redis, and the stranded-request pass sees the dead worker's run);
2. ``eas up`` itself is killed with SIGKILL mid-run (its watchdog stops everything, the memory-only
   embedded Redis included, so the queue entry is gone), and started again on the same data folder
   once the request has been stranded for longer than the pass's grace: the new worker's start-up
   stranded-request pass (:mod:`eas_pipelines.lanes.stranded`) must find it from the store alone.

How a run is held in flight without touching product code: the request is an invoice, whose
workflow's first call after the run has claimed the request ``running`` goes to SAP, which ``eas up``
emulates in a child of its own (``eas_sandbox``). Before submitting, the test tells the emulators
through their admin API (``POST /_sandbox/faults``, over TLS trusting ``<data dir>/sandbox/tls/ca.pem``)
to answer the next SAP calls slowly, each for longer than the connector's timeout, so the run sits in
its first SAP call (then in its retries). Once the emulators have logged that call, the worker that
holds the request (named, with its PID, by its heartbeat document) has a connection open to them, and
the run is STARTED, that worker is killed and the faults are cleared (``DELETE /_sandbox/faults``).
The request store is the suite's own PostgreSQL (a fresh database, ``EAS_DATABASE_URL``), so that it
and the killed run's records survive ``eas up``'s death; Redis stays the embedded, memory-only one
whose loss test 2 is about. The emulators keep their records in a database of their own on that same
server (``eas_sandbox``, shared by every ``eas up`` on it): each test resets them first
(``POST /_sandbox/reset``), so that an invoice an earlier test posted is no duplicate of this one's.

Both end the same way: the request's history shows one re-queue by the recovery rule naming the
dead worker, the killed Dagster run is FAILURE with a reason naming the dead worker, exactly one
other run (by another worker) succeeded, and SAP holds exactly one supplier invoice posted by the
request (counted through the emulator's OData API by the request's idempotency marker).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import httpx
import psutil
import pytest
import sqlalchemy as sa

from eas_pipelines.agents.finance.jobs import POSTING_STEP
from eas_pipelines.cli.gateway_client import GatewayClient
from eas_pipelines.connectors.sap import invoice_marker
from eas_pipelines.embedded._common import pid_alive
from eas_pipelines.gateway.tokens import ALL_SCOPES, issue_token
from eas_pipelines.lanes.heartbeat import live_workers, worker_info
from eas_pipelines.lanes.stranded import default_grace_s
from eas_pipelines.recovery import RECOVERY_ACTOR
from eas_pipelines.routing import INVOICE_JOB
from eas_pipelines.runs import TAG_LANE, TAG_REQUEST_ID, TAG_WORKER
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore, Status, make_engine
from tests.eas_pipelines.cli.up_support import (
    BIN,
    TEXT,
    Ports,
    Probe,
    alive,
    argv_runs,
    assert_model_reads,
    describe,
    eas_json,
    embedded_redis,
    http_probe,
    kill_leftovers,
    log_tails,
    new_ports,
    processes_of,
    run_ids_of,
    server_pids,
    start_up,
    stop_up,
    up_environment,
    wait_for_record,
    wait_until_up,
    worker_probe,
)

T = TypeVar("T")

# Each slow SAP answer outlasts the connector's 10 s timeout; the count outlasts every attempt the
# run makes before the test kills its worker (seconds) and clears them.
SLOW_SAP = {"kind": "slow", "vendor": "sap", "count": 12, "delay_s": 30.0}
INVOICES = "/sap/opu/odata/sap/API_SUPPLIERINVOICE_PROCESS_SRV/A_SupplierInvoice"
# A second invoice, submitted while the worker is down: another invoice id, so that it is no
# duplicate of the held one (whichever ran first would refuse the other).
OTHER_TEXT = "process invoice INV-4243 from Acme Corp for $99"
OTHER_ENTITIES = {"invoice_id": "INV-4243", "vendor": "Acme Corp", "amount": "$99"}
CHEAP = ["--workers", "1", "--no-dagster"]
HEARTBEAT_S = 1  # heartbeat TTL 3 s, stranded-request grace 6 s: recovery within about 10 s
WAIT_S = 120.0  # generous: every wait below polls, none sleeps for correctness
GONE_TIMEOUT_S = 60.0  # the watchdog's 5 s grace before SIGKILL, on a busy machine
EXPECTED_HISTORY = ["received", "classified", "queued", "running", "queued", "running", "succeeded"]


# ------------------------------------------------------------------------------------------ helpers


def crash_environment(data_dir: Path, ports: Ports, database_url: str) -> dict[str, str]:
    """:func:`~.up_support.up_environment` with the request store (and Dagster's storage) on
    ``database_url``, quick heartbeats and retries, and no fallback to the standard lane.

    ``EAS_REDIS_URL`` stays unset: Redis is the embedded, memory-only one. With one worker and no
    Dagster, a request that fell back to the standard lane while the worker restarts would never
    run, hence the long fallback.
    """
    env = up_environment(data_dir, ports)
    env.update(
        {
            "EAS_DATABASE_URL": database_url,
            "EAS_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
            "EAS_RETRY_BACKOFF_SECONDS": "1",
            "EAS_FAST_LANE_FALLBACK_SECONDS": "3600",
        }
    )
    return env


def serving(data_dir: Path, ports: Ports) -> dict[str, Probe]:
    """What must be up before a request can reach a worker: the gateway, the NLP server it calls
    (ready: a request submitted before would wait unclassified) and a worker's heartbeat."""
    nlp_url = f"http://127.0.0.1:{ports.nlp}"
    return {
        "gateway's NLP replica": http_probe(
            f"http://127.0.0.1:{ports.gateway}/readyz",
            lambda response: response.json().get("nlp_replicas") == {nlp_url: True},
        ),
        "fast-lane worker": worker_probe(data_dir, ports.redis),
    }


def wait_for(
    what: str,
    condition: Callable[[], T | None],
    data_dir: Path,
    up: subprocess.Popen[bytes] | None = None,
    *,
    timeout: float = WAIT_S,
    state: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` until it returns something truthy (returned); fail with the logs otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        now = f" (now: {state()})" if state is not None else ""
        if up is not None and up.poll() is not None:
            pytest.fail(
                f"eas up exited with status {up.returncode} while waiting for {what}{now}\n"
                + log_tails(data_dir)
            )
        if time.monotonic() > deadline:
            pytest.fail(f"{timeout:.0f}s waiting for {what}{now}\n{log_tails(data_dir)}")
        time.sleep(0.2)


class Emulators:
    """The admin API and SAP's OData API of the emulators ``eas up`` started for ``data_dir``.

    Every call builds its TLS context from the CA file anew: a restarted ``eas up`` writes a new one.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        self.folder = data_dir / "sandbox"
        self.base_url = f"https://127.0.0.1:{port}"

    def _client(self, **options: Any) -> httpx.Client:
        verify = ssl.create_default_context(cafile=str(self.folder / "tls" / "ca.pem"))
        return httpx.Client(verify=verify, timeout=30.0, **options)

    def _admin(self, method: str, path: str, **options: Any) -> httpx.Response:
        with self._client() as client:
            response = client.request(method, f"{self.base_url}/_sandbox/{path}", **options)
        response.raise_for_status()
        return response

    def reset(self) -> None:
        """Forget every record, fault and call, and seed the demo data again."""
        self._admin("POST", "reset")

    def slow_sap(self) -> None:
        self._admin("POST", "faults", json=SLOW_SAP)

    def clear_faults(self) -> None:
        """Idempotent, and quiet when the emulators are gone (after eas up died with them)."""
        with contextlib.suppress(httpx.HTTPError, OSError):
            self._admin("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._admin("GET", "faults").json()

    def sap_calls(self) -> list[dict[str, Any]]:
        return self._admin("GET", "calls", params={"vendor": "sap"}).json()

    def postings(self, request_id: str) -> int:
        """How many supplier invoices the request's workflow posted in SAP: those with its marker."""
        settings = json.loads((self.folder / "connectors.json").read_text())
        marker = invoice_marker(f"{request_id}:{POSTING_STEP}")
        with self._client(auth=(settings["EAS_SAP_USER"], settings["EAS_SAP_PASSWORD"])) as client:
            response = client.get(
                f"{settings['EAS_SAP_URL']}{INVOICES}",
                params={"$filter": f"DocumentHeaderText eq '{marker}'"},
                headers={"Accept": "application/json"},
            )
        response.raise_for_status()
        return len(response.json()["d"]["results"])


@dataclass(frozen=True)
class HeldRun:
    """A request whose run sits in a slow SAP call, and the worker that runs it."""

    request_id: str
    run_id: str
    worker_id: str
    worker_pid: int
    worker: psutil.Process


def runs_of(instance: dg.DagsterInstance, request_id: str) -> dict[str, dg.DagsterRun]:
    """Every Dagster run of the request, by id."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={TAG_REQUEST_ID: request_id}))
    return {run.run_id: run for run in runs}


def run_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The messages of the run's RUN_FAILURE events (one per time it was marked failed)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return [record.event_log_entry.dagster_event.message or "" for record in records]


def heartbeats(data_dir: Path, port: int) -> dict[str, dict[str, Any]]:
    """What each live worker last said about itself (pid, request in progress...), by worker id."""
    client = embedded_redis(data_dir, port)
    try:
        found = {worker: worker_info(client, worker) for worker in live_workers(client)}
    finally:
        client.close()
    return {worker: info for worker, info in found.items() if info is not None}


def gateway_client(data_dir: Path, port: int) -> GatewayClient:
    """The CLI's client, in this process: a submission costs milliseconds, not an interpreter start."""
    secret = (data_dir / "jwt_secret").read_text().strip()
    fields = EASSettings.model_fields  # eas up's environment leaves issuer and audience at their defaults
    token = issue_token(
        secret, "cli", ALL_SCOPES, fields["jwt_issuer"].default, fields["jwt_audience"].default
    )
    return GatewayClient(f"http://127.0.0.1:{port}", token)


def connected(pid: int, port: int) -> bool:
    """Process ``pid`` has a TCP connection established to ``port`` on this machine."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED for c in connections)


def hold_a_run(
    up: subprocess.Popen[bytes],
    data_dir: Path,
    env: dict[str, str],
    ports: Ports,
    emulators: Emulators,
    store: RequestStore,
    instance: dg.DagsterInstance,
) -> HeldRun:
    """Reset the emulators, slow SAP down, submit :data:`~.up_support.TEXT`, and wait until its run
    sits in its first SAP call."""
    emulators.reset()
    emulators.slow_sap()
    submitted = eas_json(["submit", TEXT, "--no-follow"], env, data_dir)
    assert (submitted["intent"], submitted["lane"]) == ("finance.invoice_process", "fast"), submitted
    request_id = submitted["id"]

    def holders() -> dict[str, dict[str, Any]]:
        beats = heartbeats(data_dir, ports.redis)
        return {worker: info for worker, info in beats.items() if info.get("current_request") == request_id}

    def blocked() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]] | None:
        if store.get(request_id).status is not Status.RUNNING:
            return None
        calls = emulators.sap_calls()  # since the reset: this run's alone
        found = holders()  # the worker that runs it says so in its heartbeat document
        if not calls or not found:
            return None
        if len(found) == 1 and not connected(next(iter(found.values()))["pid"], ports.sandbox):
            return None  # between two attempts: the next one reconnects at once
        return calls, found

    calls, found = wait_for(
        f"request {request_id} running, its run in a slow SAP call, its worker beating",
        blocked,
        data_dir,
        up,
        state=lambda: (
            f"request {store.get(request_id).status}, SAP calls: {len(emulators.sap_calls())}, "
            f"heartbeats: {heartbeats(data_dir, ports.redis)}"
        ),
    )
    assert len(found) == 1, f"heartbeats naming {request_id}: {found}"
    [(worker_id, info)] = found.items()
    worker = psutil.Process(info["pid"])
    assert argv_runs(worker.cmdline(), "eas", "worker"), worker.cmdline()
    # The heartbeat and the emulators agree: that process is the one talking to SAP, and it only read.
    assert connected(worker.pid, ports.sandbox), worker.net_connections(kind="tcp")
    assert {call["method"] for call in calls} <= {"GET", "HEAD"}, calls
    runs = runs_of(instance, request_id)
    assert len(runs) == 1, runs
    [run] = runs.values()
    assert run.status is dg.DagsterRunStatus.STARTED, run.status
    assert (run.tags.get(TAG_WORKER), run.tags.get(TAG_LANE)) == (worker_id, "fast"), run.tags
    assert store.get(request_id).run_ids == (run.run_id,)
    return HeldRun(request_id, run.run_id, worker_id, worker.pid, worker)


def assert_succeeded_once(
    held: HeldRun,
    store: RequestStore,
    instance: dg.DagsterInstance,
    emulators: Emulators,
    env: dict[str, str],
    data_dir: Path,
) -> None:
    """The held request succeeded exactly once, after one recovery of the killed run."""
    request_id = held.request_id
    record = store.get(request_id)
    history = store.history(request_id)
    trail = store.audit_trail(request_id)
    detail = (
        f"history {[(t.from_status, t.to_status, t.actor, t.reason) for t in history]}\n"
        f"audit {[(e.actor, e.action, e.detail) for e in trail]}\n{log_tails(data_dir)}"
    )
    assert record.status is Status.SUCCEEDED, detail
    assert [str(t.to_status) for t in history] == EXPECTED_HISTORY, detail
    [requeue] = [t for t in history if t.actor == RECOVERY_ACTOR]
    assert (requeue.from_status, requeue.to_status) == (Status.RUNNING, Status.QUEUED), detail
    assert f"worker {held.worker_id} gone (no heartbeat); run {held.run_id} marked failed" in (
        requeue.reason or ""
    ), detail
    assert [e.action for e in trail].count("retry.scheduled") == 1, detail

    assert len(record.run_ids) == 2 and record.run_ids[0] == held.run_id, (record.run_ids, detail)
    runs = runs_of(instance, request_id)
    assert set(runs) == set(record.run_ids), f"runs {runs} of request runs {record.run_ids}"
    killed, retry = runs[held.run_id], runs[record.run_ids[1]]
    assert killed.status is dg.DagsterRunStatus.FAILURE, killed.status
    failures = run_failures(instance, held.run_id)
    dead = f"worker {held.worker_id} stopped heartbeating during this run"
    assert len(failures) == 1 and dead in failures[0], failures
    assert (retry.job_name, retry.status) == (INVOICE_JOB, dg.DagsterRunStatus.SUCCESS), retry
    assert retry.tags.get(TAG_WORKER) not in (None, held.worker_id), retry.tags
    assert [run.status for run in runs.values()].count(dg.DagsterRunStatus.SUCCESS) == 1

    assert emulators.postings(request_id) == 1, detail

    # What a user sees agrees (the CLI reads the gateway).
    shown = eas_json(["status", request_id], env, data_dir)
    assert shown["status"] == "succeeded", json.dumps(shown, indent=1)[:4000]
    assert run_ids_of(shown) == set(record.run_ids), json.dumps(shown, indent=1)[:4000]


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def crash_model_dir(invoice_model_dir: Path) -> Path:
    """The tiny model, checked to read :data:`OTHER_TEXT` too."""
    assert_model_reads(invoice_model_dir, OTHER_TEXT, OTHER_ENTITIES)
    return invoice_model_dir


@dataclass
class Scene:
    data_dir: Path
    ports: Ports
    env: dict[str, str]
    database_url: str
    store: RequestStore
    emulators: Emulators
    tracked: dict[int, psutil.Process]
    _instance: dg.DagsterInstance | None = None

    @property
    def instance(self) -> dg.DagsterInstance:
        """The Dagster instance eas up's children use (their DAGSTER_HOME, storage in the database)."""
        if self._instance is None:
            self._instance = dg.DagsterInstance.from_config(str(self.data_dir / "dagster_home"))
        return self._instance

    def track(self, up: subprocess.Popen[bytes]) -> None:
        """Remember every process of eas up and the data folder seen now (for the final cleanup)."""
        found = list(processes_of(self.data_dir))
        if up.poll() is None:
            with contextlib.suppress(psutil.Error):
                found += psutil.Process(up.pid).children(recursive=True)
        for process in found:
            self.tracked.setdefault(process.pid, process)


@pytest.fixture
def scene(
    data_dir: Path,
    crash_model_dir: Path,
    postgres_database_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Scene]:
    """A data folder with the tiny model, a fresh request-store database, and the readers the tests
    use (closed afterwards, whatever happened)."""
    for tool in ("eas", "eas-nlp"):
        assert (BIN / tool).exists(), f"{BIN / tool} is missing: install the project (pip install -e .)"
    shutil.copytree(crash_model_dir, data_dir / "models" / "nlp-default")
    database_url = postgres_database_factory()
    ports = new_ports()
    # What eas up gives its children (child_environment): Dagster's storage in the same database.
    dagster_url = sa.make_url(database_url).set(drivername="postgresql+psycopg2")
    monkeypatch.setenv("EAS_DAGSTER_PG_URL", dagster_url.render_as_string(hide_password=False))
    store = RequestStore(make_engine(database_url, pool_size=2, application_name="eas-test-observer"))
    scene = Scene(
        data_dir,
        ports,
        crash_environment(data_dir, ports, database_url),
        database_url,
        store,
        Emulators(data_dir, ports.sandbox),
        {},
    )
    try:
        yield scene
    finally:
        if scene._instance is not None:
            scene._instance.dispose()
        store.close()


# ------------------------------------------------------------------------------------------- tests


def test_a_worker_killed_mid_run_is_restarted_and_its_request_succeeds_exactly_once(scene: Scene) -> None:
    data_dir, ports, env = scene.data_dir, scene.ports, scene.env
    up = start_up(data_dir, env, CHEAP, "eas-up.out")
    try:
        scene.tracked[up.pid] = psutil.Process(up.pid)
        wait_until_up(up, data_dir, serving(data_dir, ports))
        scene.track(up)
        held = hold_a_run(up, data_dir, env, ports, scene.emulators, scene.store, scene.instance)
        children = {child.name: child.pid for child in wait_for_record(up, data_dir, {"worker-1"}).children}
        assert children["worker-1"] == held.worker_pid, f"worker-1 is not pid {held.worker_pid}: {children}"

        held.worker.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(f"worker pid {held.worker_pid} to die", lambda: not alive(held.worker), data_dir, up)

        # The gateway keeps answering while the worker is down, and queues new work on the fast lane.
        def gateway_answers() -> None:
            health = httpx.get(f"http://127.0.0.1:{ports.gateway}/healthz", timeout=30.0)
            assert health.status_code == 200, f"/healthz while worker-1 is down: {health.text}"

        gateway_answers()
        other = gateway_client(data_dir, ports.gateway).submit(OTHER_TEXT)
        submitted_after = time.monotonic() - killed_at
        workers_then = sorted(heartbeats(data_dir, ports.redis))
        assert (other["intent"], other["lane"], other["status"]) == (
            "finance.invoice_process",
            "fast",
            "queued",
        ), other
        scene.emulators.clear_faults()  # SAP answers at once again: the new worker's runs go through

        # The supervisor starts a new worker; its heartbeat appears.
        def restarted() -> dict[str, Any] | None:
            gateway_answers()
            record = wait_for_record(up, data_dir, {"worker-1"})
            [child] = [child for child in record.children if child.name == "worker-1"]
            if child.pid == held.worker_pid:
                return None
            beats = {w: i for w, i in heartbeats(data_dir, ports.redis).items() if i.get("pid") == child.pid}
            return next(iter(beats.values()), None)

        new_worker = wait_for(
            "a new worker-1 with a heartbeat",
            restarted,
            data_dir,
            up,
            state=lambda: f"heartbeats {heartbeats(data_dir, ports.redis)}",
        )
        back_after = time.monotonic() - killed_at
        assert new_worker["worker_id"] != held.worker_id
        process = scene.tracked.setdefault(new_worker["pid"], psutil.Process(new_worker["pid"]))
        assert argv_runs(process.cmdline(), "eas", "worker"), process.cmdline()

        def settled() -> bool:
            return scene.store.get(held.request_id).status is Status.SUCCEEDED and scene.store.get(
                other["id"]
            ).status in (Status.SUCCEEDED, Status.FAILED, Status.REJECTED, Status.NEEDS_REVIEW)

        wait_for(
            "both requests to settle",
            settled,
            data_dir,
            up,
            state=lambda: (
                f"held {scene.store.get(held.request_id).status}, other {scene.store.get(other['id']).status}"
            ),
        )
        settled_after = time.monotonic() - killed_at
        assert_succeeded_once(held, scene.store, scene.instance, scene.emulators, env, data_dir)
        assert scene.store.get(other["id"]).status is Status.SUCCEEDED, scene.store.history(other["id"])
        assert scene.emulators.postings(other["id"]) == 1

        status = stop_up(up, data_dir)
        output = (data_dir / "eas-up.out").read_text()
        assert status == 0, f"eas up exited with status {status}\n{log_tails(data_dir)}"
        restarts = [line for line in output.splitlines() if line.startswith("restarting ")]
        assert restarts == [
            f"restarting worker-1 (pid {held.worker_pid} exited with status -9; restart 1 of 5) in 1.0s; "
            f"see {data_dir / 'logs' / 'worker-1.log'}"
        ], output
        print(
            f"second request accepted {submitted_after:.1f}s after the kill (live workers then: "
            f"{workers_then}); new worker beating after {back_after:.1f}s; held request succeeded "
            f"{settled_after:.1f}s after the kill"
        )
    finally:
        kill_leftovers(up, data_dir, scene.tracked)


def test_sigkilled_eas_up_mid_run_then_restarted_finishes_the_request_exactly_once(scene: Scene) -> None:
    data_dir, ports, env = scene.data_dir, scene.ports, scene.env
    first = start_up(data_dir, env, CHEAP, "eas-up-1.out")
    second: subprocess.Popen[bytes] | None = None
    try:
        scene.tracked[first.pid] = psutil.Process(first.pid)
        wait_until_up(first, data_dir, serving(data_dir, ports))
        held = hold_a_run(first, data_dir, env, ports, scene.emulators, scene.store, scene.instance)
        redis_pid = server_pids(data_dir, ["redis"])["redis"]
        scene.track(first)
        assert held.worker_pid in scene.tracked and redis_pid in scene.tracked

        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()

        def nothing_left() -> bool:
            left = [p for p in [*scene.tracked.values(), *processes_of(data_dir)] if alive(p)]
            return not left and not pid_alive(redis_pid)

        wait_for(
            "every process of the killed eas up to stop",
            nothing_left,
            data_dir,
            timeout=GONE_TIMEOUT_S,
            state=lambda: describe(p for p in [*scene.tracked.values(), *processes_of(data_dir)] if alive(p)),
        )
        # Nothing settled it meanwhile: the request is stranded, its run still STARTED.
        assert scene.store.get(held.request_id).status is Status.RUNNING
        assert scene.instance.get_run_by_id(held.run_id).status is dg.DagsterRunStatus.STARTED
        # The slow SAP answers died with the emulators: the next eas up's start with none (checked below).
        gone_after = time.monotonic() - killed_at
        # As after any real outage, the request has been running unchanged for longer than the
        # stranded-request pass's grace when the next eas up starts: the new worker's start-up pass
        # finds it (a restart within the grace leaves it to the next periodic pass, ~30 s later).
        grace = timedelta(seconds=default_grace_s(HEARTBEAT_S))
        wait_for(
            f"request {held.request_id} to be running unchanged for {grace.total_seconds():.0f}s",
            lambda: held.request_id in {record.id for record in scene.store.stale_running(grace)},
            data_dir,
        )

        restarting = time.monotonic()
        second = start_up(data_dir, env, CHEAP, "eas-up-2.out")
        scene.tracked[second.pid] = psutil.Process(second.pid)
        wait_until_up(second, data_dir, serving(data_dir, ports))
        scene.track(second)
        assert server_pids(data_dir, ["redis"])["redis"] != redis_pid, "a new (empty) embedded Redis"
        assert scene.emulators.faults() == [], "new emulators, no fault left"
        up_after = time.monotonic() - restarting
        wait_for(
            f"request {held.request_id} to succeed",
            lambda: scene.store.get(held.request_id).status is Status.SUCCEEDED,
            data_dir,
            second,
            state=lambda: str(scene.store.get(held.request_id).status),
        )
        settled_after = time.monotonic() - restarting - up_after
        assert_succeeded_once(held, scene.store, scene.instance, scene.emulators, env, data_dir)
        # The entry died with Redis: the stranded-request pass (not a reclaim) re-queued the request.
        worker_log = (data_dir / "logs" / "worker-1.log").read_text(errors="replace")
        assert f": request {held.request_id} queued: worker {held.worker_id} gone" in worker_log, worker_log[
            -4000:
        ]

        status = stop_up(second, data_dir)
        output = (data_dir / "eas-up-2.out").read_text()
        assert status == 0, f"the second eas up exited with status {status}\n{log_tails(data_dir)}"
        assert "leftovers" not in output, output
        print(
            f"killed eas up: all gone after {gone_after:.1f}s; the next one up after {up_after:.1f}s, "
            f"the held request succeeded {settled_after:.1f}s later"
        )
    finally:
        kill_leftovers(first, data_dir, scene.tracked)
        if second is not None:
            kill_leftovers(second, data_dir, scene.tracked)
