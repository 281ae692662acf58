"""``eas up``, the README's quick start, run the way a user runs it on a fresh machine.

One real ``eas up --workers 1`` on an empty data folder, with no ``EAS_*`` configuration but the
data folder and ports: it must start the embedded PostgreSQL and Redis itself, migrate, and bring
up the NLP service, the gateway, Dagster (webserver + daemon) and a warm worker; ``eas submit``,
typed as a user types it, must then take an invoice through the fast lane to a succeeded Dagster
run; and SIGTERM must stop every process it started, the daemonised PostgreSQL included. Until
this test that path was only tried by hand, and the parts' own tests (embedded servers, process
group, gateway, worker) cannot see a wrong wire between them.

A second test kills ``eas up`` with SIGKILL (the cheapest configuration: no Dagster, one worker):
its watchdog must stop every process it ran, the embedded servers included, and a new ``eas up``
must then start cleanly on the same folder (and be refused while the first one lives).

A tiny test model is copied in as ``models/nlp-default`` so that the NLP service skips its
first-start training (minutes); everything else is the production path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from eas_pipelines.cli.up import child_environment
from eas_pipelines.embedded._common import OwnerRecord, pid_alive
from eas_pipelines.embedded.leftovers import UpRecord
from eas_pipelines.lanes.heartbeat import live_workers
from eas_pipelines.routing import INVOICE_JOB
from eas_pipelines.settings import EASSettings
from tests.support.tiny_model import TINY_ENCODER_SEED

BIN = Path(sys.executable).parent  # the virtualenv's bin folder, where `eas` and `eas-nlp` live
# Values the tiny model saw in training; the amount is under the approval threshold and the vendor
# has an open purchase order in the sandbox, so the invoice workflow runs to the end unattended.
TEXT = "process invoice INV-4242 from Acme Corp for $99"
# The invoice job needs all three; the tiny model's encoder seed gives a model that finds them.
NEEDED_ENTITIES = {"invoice_id": "INV-4242", "vendor": "Acme Corp", "amount": "$99"}
START_TIMEOUT_S = 240.0  # importing torch and dagster in six processes on a busy 2-core machine
SETTLE_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
# Statuses a request does not leave on its own (the CLI's follow also stops at "received").
TERMINAL = {"succeeded", "failed", "rejected", "cancelled", "needs_review", "awaiting_approval"}
UP_OUTPUT = "eas-up.out"  # eas up's own console output, next to (not inside) its logs folder
KILLED_GONE_TIMEOUT_S = 15.0  # the watchdog polls every 0.5s and gives children 5s before SIGKILL
RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId jobName status tags { key value } }
  }
}
"""

Probe = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class Ports:
    gateway: int
    nlp: int
    dagster: int
    postgres: int
    redis: int


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: every socket stays bound until all are chosen, so none repeats."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def up_environment(data_dir: Path, ports: Ports) -> dict[str, str]:
    """A fresh machine's environment: none of the developer's ``EAS_*`` or ``DAGSTER_HOME``.

    Without ``EAS_DATABASE_URL`` / ``EAS_REDIS_URL`` ``eas up`` starts the embedded servers itself.
    Their ports are moved too, like the others, only so that a developer's own ``eas up`` on the
    defaults cannot collide with the test's.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("EAS_")}
    env.pop("DAGSTER_HOME", None)
    env.update(
        {
            "EAS_DATA_DIR": str(data_dir),
            "EAS_GATEWAY_PORT": str(ports.gateway),
            "EAS_NLP_PORT": str(ports.nlp),
            "EAS_DAGSTER_PORT": str(ports.dagster),
            "EAS_EMBEDDED_POSTGRES_PORT": str(ports.postgres),
            "EAS_EMBEDDED_REDIS_PORT": str(ports.redis),
        }
    )
    return env


def log_tails(data_dir: Path, lines: int = 25) -> str:
    """The end of every child's log and of eas up's own output: the diagnosis of a failure."""
    paths = [*sorted((data_dir / "logs").glob("*.log")), *sorted(data_dir.glob("eas-up*.out"))]
    parts = []
    for path in paths:
        if not path.exists():
            continue
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"----- {path.name} (last {lines} lines)\n" + "\n".join(line[:400] for line in tail))
    return "\n".join(parts) if parts else f"(no logs under {data_dir})"


def http_probe(url: str, check: Callable[[httpx.Response], bool] | None = None) -> Probe:
    """Up when ``url`` answers 200 (and ``check`` accepts the answer)."""

    def probe() -> tuple[bool, str]:
        try:
            response = httpx.get(url, timeout=5.0)
        except httpx.HTTPError as exc:
            return False, f"GET {url}: {type(exc).__name__}: {exc}"
        ok = response.status_code == 200 and (check is None or check(response))
        return ok, f"GET {url}: {response.status_code} {response.text[:300]}"

    return probe


def worker_probe(data_dir: Path, port: int) -> Probe:
    """Up when a worker's heartbeat key is in the embedded Redis (with the password eas up generated)."""

    def probe() -> tuple[bool, str]:
        password_path = data_dir / "redis_password"
        if not password_path.exists():
            return False, f"{password_path} does not exist yet"
        # No retries: redis-py would otherwise wait seconds on a refused connection inside one probe.
        client = redis.Redis(
            host="127.0.0.1",
            port=port,
            password=password_path.read_text().strip(),
            socket_connect_timeout=2,
            socket_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            workers = live_workers(client)
        except redis.RedisError as exc:
            return False, f"Redis on port {port}: {type(exc).__name__}: {exc}"
        finally:
            client.close()
        return bool(workers), f"live workers: {workers}"

    return probe


def wait_until_up(up: subprocess.Popen[bytes], data_dir: Path, probes: dict[str, Probe]) -> None:
    """Poll every part until all are up; fail naming the parts that are not, with the logs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = dict(probes)
    last: dict[str, str] = {}
    while True:
        for name, probe in list(pending.items()):
            ok, last[name] = probe()
            if ok:
                del pending[name]
        if not pending:
            return
        not_up = "; ".join(f"{name} ({last[name]})" for name in pending)
        if up.poll() is not None:
            pytest.fail(
                f"eas up exited with status {up.returncode} before these were up: {not_up}\n"
                + log_tails(data_dir)
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"{START_TIMEOUT_S:.0f}s after `eas up` started, these were not up: {not_up}\n"
                + log_tails(data_dir)
            )
        time.sleep(1.0)


def eas_json(args: list[str], env: dict[str, str], data_dir: Path) -> dict:
    """Run ``eas ARGS --json`` as a user would, in the same environment as eas up; return what it printed."""
    command = [str(BIN / "eas"), *args, "--json"]
    result = subprocess.run(command, env=env, cwd=data_dir, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{command} exited with status {result.returncode}:\n{result.stderr}\n{result.stdout}\n"
        f"{log_tails(data_dir)}"
    )
    return json.loads(result.stdout)


def run_ids_of(request: dict) -> set[str]:
    """The Dagster run ids a request's audit trail names (the worker records each run it starts)."""
    ids = set()
    for entry in request.get("audit") or []:
        detail = entry.get("detail") or {}
        for source in (detail, detail.get("changes") or {}):
            if isinstance(source.get("run_id"), str):
                ids.add(source["run_id"])
    return ids


def _belongs_to(process: psutil.Process, root: str) -> bool:
    """``process`` names the data folder on its command line, works in it, or was given it by eas up.

    Each check catches one kind of process: PostgreSQL's postmaster names it (``-D``), its
    backends and Redis work in it, and every child of eas up (Dagster's own grandchildren too)
    inherits ``EAS_DATA_DIR``.
    """
    if any(root in arg for arg in process.cmdline()):
        return True
    cwd = process.cwd()
    if cwd == root or cwd.startswith(root + os.sep):
        return True
    env = process.environ()
    return env.get("EAS_DATA_DIR") == root or env.get("DAGSTER_HOME", "").startswith(root + os.sep)


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie (``is_running`` also tells a reused PID from the process we saw)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def processes_of(data_dir: Path) -> list[psutil.Process]:
    """Every live process that belongs to this data folder (see :func:`_belongs_to`)."""
    root = str(data_dir)
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() != psutil.STATUS_ZOMBIE and _belongs_to(process, root):
                found.append(process)
        except psutil.Error:  # gone meanwhile, or a kernel thread with nothing to read
            continue
    return found


def describe(processes: Iterable[psutil.Process]) -> str:
    """One line per process, for failure messages (never for matching: see :func:`argv_runs`)."""
    lines = []
    for process in processes:
        try:
            lines.append(f"  pid {process.pid}: {' '.join(process.cmdline())}")
        except psutil.Error as exc:
            lines.append(f"  pid {process.pid}: ({type(exc).__name__})")
    return "\n".join(lines)


def argv_runs(argv: Sequence[str], *words: str) -> bool:
    """``argv`` holds ``words`` as consecutive elements; a word also matches a path ending in it.

    Matched element by element, so that a long interpreter or checkout path (a console script runs
    as ``[/path/to/python, /path/to/bin/eas-nlp, serve, ...]``) can never hide what runs.
    """

    def same(arg: str, word: str) -> bool:
        return arg == word or os.path.basename(arg) == word

    n = len(words)
    return any(all(same(argv[i + j], word) for j, word in enumerate(words)) for i in range(len(argv) - n + 1))


def argv_of(processes: Iterable[psutil.Process]) -> list[tuple[str, list[str]]]:
    """(name, argv) of each process still readable."""
    found = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            found.append((process.name(), process.cmdline()))
    return found


def start_up(
    data_dir: Path, env: dict[str, str], args: list[str], output_name: str
) -> subprocess.Popen[bytes]:
    """``eas up ARGS`` as a user starts it, its console output in ``data_dir/output_name``."""
    with (data_dir / output_name).open("wb") as output:
        return subprocess.Popen(
            [str(BIN / "eas"), "up", *args],
            env=env,
            cwd=data_dir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # like a terminal's job: its own session, signalled by us alone
        )


def kill_leftovers(up: subprocess.Popen[bytes], data_dir: Path, tracked: dict[int, psutil.Process]) -> None:
    """SIGKILL everything this test started, so that a failing run never leaves servers behind.

    Only processes of this data folder or seen as eas up's descendants are touched; eas up's
    children lead sessions of their own, so its process group alone would not reach them.
    """
    if up.poll() is None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(up.pid).children(recursive=True):
                tracked.setdefault(child.pid, child)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(up.pid, signal.SIGKILL)
        up.wait(30)
    for _ in range(5):
        victims = {p.pid: p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)}
        if not victims:
            return
        for process in victims.values():
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(list(victims.values()), timeout=5)


@pytest.fixture(scope="module")
def invoice_model_dir(tiny_model_dir: Path) -> Path:
    """The tiny test model, checked to read :data:`TEXT` before anything starts.

    So that a model that cannot find the invoice's fields fails as what it is (see
    ``TINY_ENCODER_SEED`` in ``tests/support/tiny_model.py``), not as a failed invoice.
    """
    from nlp_service.inference.parser import NLUParser

    for precision in ("fp32", "int8"):
        parsed = NLUParser.load(tiny_model_dir, "onnx", 1, precision).parse(TEXT)
        found = {entity.type: entity.text for entity in parsed.entities}
        assert all(found.get(kind) == text for kind, text in NEEDED_ENTITIES.items()), (
            f"the tiny test model ({precision}, encoder seed {TINY_ENCODER_SEED}) finds {found} in "
            f"{TEXT!r}, not {NEEDED_ENTITIES}: training changed; pick another TINY_ENCODER_SEED"
        )
    return tiny_model_dir


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """An empty EAS data folder directly under the system temp folder, removed afterwards.

    Not pytest's ``tmp_path``: as root, the embedded PostgreSQL runs as another OS user that must
    traverse every folder above its data, and pytest keeps ``/tmp/pytest-of-root`` at 0700 (see
    ``tests/eas_pipelines/embedded/conftest.py``).
    """
    path = Path(tempfile.mkdtemp(prefix="eas-test-up-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_eas_up_serves_an_invoice_end_to_end_and_sigterm_leaves_nothing_running(
    data_dir: Path, invoice_model_dir: Path
) -> None:
    for tool in ("eas", "eas-nlp", "dagster"):
        assert (BIN / tool).exists(), f"{BIN / tool} is missing: install the project (pip install -e .)"
    shutil.copytree(invoice_model_dir, data_dir / "models" / "nlp-default")
    ports = Ports(*free_ports(5))
    env = up_environment(data_dir, ports)
    nlp_url = f"http://127.0.0.1:{ports.nlp}"
    tracked: dict[int, psutil.Process] = {}
    started = time.monotonic()
    up = start_up(data_dir, env, ["--workers", "1"], UP_OUTPUT)
    try:
        tracked[up.pid] = psutil.Process(up.pid)
        wait_until_up(
            up,
            data_dir,
            {
                "gateway": http_probe(f"http://127.0.0.1:{ports.gateway}/healthz"),
                "NLP service": http_probe(f"{nlp_url}/readyz"),
                # The gateway must call the NLP server eas up started, on its port, and see it ready.
                "gateway's NLP replica": http_probe(
                    f"http://127.0.0.1:{ports.gateway}/readyz",
                    lambda response: response.json().get("nlp_replicas") == {nlp_url: True},
                ),
                "Dagster webserver": http_probe(f"http://127.0.0.1:{ports.dagster}/server_info"),
                "fast-lane worker": worker_probe(data_dir, ports.redis),
            },
        )
        up_after = time.monotonic() - started

        submitted = eas_json(["submit", TEXT, "--timeout", str(SETTLE_TIMEOUT_S)], env, data_dir)
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        request = eas_json(["status", submitted["id"]], env, data_dir)
        while request["status"] not in TERMINAL and time.monotonic() < deadline:
            time.sleep(2.0)
            request = eas_json(["status", submitted["id"]], env, data_dir)
        assert request["status"] == "succeeded", (
            f"request ended {request['status']}: {json.dumps(request, indent=1)[:4000]}\n"
            f"{log_tails(data_dir)}"
        )
        assert (submitted["intent"], submitted["lane"]) == ("finance.invoice_process", "fast"), submitted
        assert (request["agent"], request["workflow"], request["lane"]) == ("finance", INVOICE_JOB, "fast")
        assert [step["to_status"] for step in request["history"]] == [
            "received",
            "classified",
            "queued",
            "running",
            "succeeded",
        ]
        run_ids = run_ids_of(request)
        assert len(run_ids) == 1, f"expected one Dagster run in the audit trail, got {run_ids}"
        run_id = run_ids.pop()
        # The run is in the Dagster instance the UI shows (PostgreSQL storage shared with the worker).
        response = httpx.post(
            f"http://127.0.0.1:{ports.dagster}/graphql",
            json={"query": RUN_QUERY, "variables": {"runId": run_id}},
            timeout=60.0,
        )
        assert response.status_code == 200, response.text
        run = response.json()["data"]["runOrError"]
        assert (run["__typename"], run["jobName"], run["status"]) == ("Run", INVOICE_JOB, "SUCCESS"), run
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert (tags.get("eas/request_id"), tags.get("eas/lane")) == (submitted["id"], "fast"), tags
        settled_after = time.monotonic() - started - up_after

        # Everything eas up runs, as seen now; each kind must be found, or "nothing left" proves nothing.
        for process in [*psutil.Process(up.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)
        seen = argv_of(tracked.values())
        expected: dict[str, Callable[[str, list[str]], bool]] = {
            # the postmaster, daemonised by pg_ctl: no child of eas up
            "postgres -D": lambda name, argv: argv_runs(argv, "-D", str(data_dir / "postgres")),
            "redis-server": lambda name, argv: name == "redis-server",  # its title replaces its argv
            "eas-nlp serve": lambda name, argv: argv_runs(argv, "eas-nlp", "serve"),
            "eas gateway": lambda name, argv: argv_runs(argv, "eas", "gateway"),
            "eas worker": lambda name, argv: argv_runs(argv, "eas", "worker"),
            "dagster_webserver": lambda name, argv: argv_runs(argv, "-m", "dagster_webserver"),
            "dagster._daemon": lambda name, argv: argv_runs(argv, "-m", "dagster._daemon"),
        }
        for label, matches in expected.items():
            assert any(matches(name, argv) for name, argv in seen), (
                f"no process matching {label!r} among those of eas up:\n{describe(tracked.values())}"
            )

        stopping = time.monotonic()
        up.send_signal(signal.SIGTERM)
        try:
            status = up.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"eas up still runs {STOP_TIMEOUT_S:.0f}s after SIGTERM\n{log_tails(data_dir)}")
        stopped_after = time.monotonic() - stopping
        assert status == 0, f"eas up exited with status {status} after SIGTERM\n{log_tails(data_dir)}"
        left = {p.pid: p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)}
        assert not left, (
            f"still running after eas up exited:\n{describe(left.values())}\n{log_tails(data_dir)}"
        )
        print(
            f"eas up: all parts up after {up_after:.1f}s, invoice succeeded {settled_after:.1f}s later, "
            f"stopped {stopped_after:.1f}s after SIGTERM"
        )
    finally:
        kill_leftovers(up, data_dir, tracked)


def wait_for_record(up: subprocess.Popen[bytes], data_dir: Path, names: set[str]) -> UpRecord:
    """eas up's record of the data folder, once it lists the children ``names`` (started, not ready)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        record = UpRecord.read(data_dir)
        if record is not None and record.pid == up.pid and names <= {child.name for child in record.children}:
            return record
        if up.poll() is not None:
            pytest.fail(
                f"eas up exited with status {up.returncode} before starting {names}\n{log_tails(data_dir)}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"eas up did not start {names} in {START_TIMEOUT_S:.0f}s\n{log_tails(data_dir)}")
        time.sleep(0.5)


def server_pids(data_dir: Path) -> dict[str, int]:
    """The embedded servers' PIDs, from their owner records."""
    pids = {}
    for name in ("postgres", "redis"):
        record = OwnerRecord.read(data_dir / "run" / f"{name}.json")
        assert record is not None, f"no record of the embedded {name} in {data_dir / 'run'}"
        pids[name] = record.server_pid
    return pids


def test_sigkilled_eas_up_leaves_nothing_running_and_the_next_one_starts_cleanly(
    data_dir: Path, invoice_model_dir: Path
) -> None:
    shutil.copytree(invoice_model_dir, data_dir / "models" / "nlp-default")
    ports = Ports(*free_ports(5))
    env = up_environment(data_dir, ports)
    cheap = ["--workers", "1", "--no-dagster"]
    tracked: dict[int, psutil.Process] = {}
    first = start_up(data_dir, env, cheap, "eas-up-1.out")
    second: subprocess.Popen[bytes] | None = None
    try:
        record = wait_for_record(first, data_dir, {"nlp", "gateway", "worker-1"})
        servers = server_pids(data_dir)
        for process in [*psutil.Process(first.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)
        assert record.watchdog_pid in tracked, f"no watchdog among {describe(tracked.values())}"
        assert set(servers.values()) <= set(tracked), "the embedded servers belong to the data folder"

        refused = subprocess.run(
            [str(BIN / "eas"), "up", *cheap],
            env=env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert refused.returncode == 1, f"{refused.stdout}\n{refused.stderr}"
        assert (
            f"another eas up is running on this data folder ({data_dir}), pid {first.pid}" in refused.stderr
        )

        first.send_signal(signal.SIGKILL)
        first.wait()
        deadline = time.monotonic() + KILLED_GONE_TIMEOUT_S
        while True:
            left = [p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)]
            left_servers = [pid for pid in servers.values() if pid_alive(pid)]
            if not left and not left_servers:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{KILLED_GONE_TIMEOUT_S:.0f}s after eas up was killed, still running:\n"
                    f"{describe(left)}\nservers {left_servers}\n{log_tails(data_dir)}"
                )
            time.sleep(0.1)
        assert not UpRecord.path(data_dir).exists(), "the watchdog removes the record of what it stopped"
        watchdog_log = (data_dir / "logs" / "watchdog.log").read_text()
        assert f"eas up (pid {first.pid}) died; stopped what it left:" in watchdog_log, watchdog_log

        second = start_up(data_dir, env, cheap, "eas-up-2.out")
        tracked[second.pid] = psutil.Process(second.pid)
        wait_until_up(second, data_dir, {"gateway": http_probe(f"http://127.0.0.1:{ports.gateway}/healthz")})
        for process in [*psutil.Process(second.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)

        # A crash is not an outage: a worker killed with SIGKILL is restarted, the rest run on.
        def children_now() -> dict[str, int]:
            return {
                child.name: child.pid for child in wait_for_record(second, data_dir, {"worker-1"}).children
            }

        before = children_now()
        os.kill(before["worker-1"], signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        after = children_now()
        while after["worker-1"] == before["worker-1"]:
            assert time.monotonic() < deadline, f"worker-1 was not restarted\n{log_tails(data_dir)}"
            time.sleep(0.2)
            after = children_now()
        assert after["worker-1"] != before["worker-1"] and pid_alive(after["worker-1"])
        assert {name: pid for name, pid in after.items() if name != "worker-1"} == {
            name: pid for name, pid in before.items() if name != "worker-1"
        }
        assert all(pid_alive(after[name]) for name in ("nlp", "gateway"))
        tracked.setdefault(after["worker-1"], psutil.Process(after["worker-1"]))
        second.send_signal(signal.SIGTERM)
        try:
            status = second.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"eas up still runs {STOP_TIMEOUT_S:.0f}s after SIGTERM\n{log_tails(data_dir)}")
        output = (data_dir / "eas-up-2.out").read_text()
        assert status == 0, f"the second eas up exited with status {status}\n{log_tails(data_dir)}"
        assert "leftovers" not in output, output
        restarts = [line for line in output.splitlines() if line.startswith("restarting ")]
        assert restarts == [
            f"restarting worker-1 (pid {before['worker-1']} exited with status -9; restart 1 of 5) in 1.0s; "
            f"see {data_dir / 'logs' / 'worker-1.log'}"
        ], output
        left = [p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)]
        assert not left, f"still running after eas up exited:\n{describe(left)}\n{log_tails(data_dir)}"
    finally:
        kill_leftovers(first, data_dir, tracked)
        if second is not None:
            kill_leftovers(second, data_dir, tracked)


def test_argv_matching_survives_long_paths() -> None:
    """The interpreter and script paths of a deep checkout fill any cut-off, never the argv elements."""
    deep = "/" + "/".join(["a-rather-long-folder-name"] * 12)
    argv = [f"{deep}/.venv/bin/python", f"{deep}/.venv/bin/eas-nlp", "serve", "--port", "8081"]
    assert len(" ".join(argv[:2])) > 200
    assert argv_runs(argv, "eas-nlp", "serve")
    assert not argv_runs(argv, "eas", "serve") and not argv_runs(argv, "serve", "eas-nlp")
    assert argv_runs(["postgres", "-D", f"{deep}/postgres"], "-D", f"{deep}/postgres")


def test_children_call_the_nlp_server_eas_up_starts_unless_replicas_are_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default EAS_NLP_URLS names port 8081, whatever EAS_NLP_PORT says; configured replicas win.
    monkeypatch.delenv("EAS_NLP_URLS", raising=False)
    moved = child_environment(
        EASSettings(data_dir=tmp_path, nlp_port=18181), "postgresql://h/db", "redis://h"
    )
    assert moved["EAS_NLP_URLS"] == "http://127.0.0.1:18181"
    assert moved["EAS_NLP_PORT"] == "18181"

    configured = EASSettings(
        data_dir=tmp_path, nlp_port=18181, nlp_urls="http://nlp-a:8081,http://nlp-b:8081"
    )
    assert "EAS_NLP_URLS" not in child_environment(configured, "postgresql://h/db", "redis://h")
