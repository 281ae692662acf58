"""What the tests of ``eas up`` share: starting it as a user does, probing its parts, finding and
killing every process it ran, reading its logs.

``eas up`` runs as a subprocess on a data folder of the test's own (see the ``data_dir`` and
``invoice_model_dir`` fixtures in ``conftest.py``). Processes are matched by argv elements
(:func:`argv_runs`), never by a cut-off command line, so that a long checkout path changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from eas_pipelines.embedded._common import OwnerRecord
from eas_pipelines.embedded.leftovers import UpRecord
from eas_pipelines.lanes.heartbeat import live_workers

BIN = Path(sys.executable).parent  # the virtualenv's bin folder, where `eas` and `eas-nlp` live
# Values the tiny model saw in training; the amount is under the approval threshold and the vendor
# is a supplier with open purchase orders in the SAP emulator's seed (PO-10001, PO-10010), so the
# invoice workflow runs to the end unattended.
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

Probe = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class Ports:
    gateway: int
    nlp: int
    dagster: int
    postgres: int
    redis: int
    sandbox: int
    """HTTPS port of the vendors' emulators (their admin API ``/_sandbox/...`` too)."""
    sandbox_mtls: int
    sandbox_smtp: int
    exporter: int
    worker_metrics: int
    """The first worker's /metrics port; eas up gives the next workers the ports after it."""
    run_server: int


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: every socket stays bound until all are chosen, so none repeats."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def new_ports() -> Ports:
    """Free ports for every server ``eas up`` starts, all distinct."""
    return Ports(*free_ports(len(fields(Ports))))


def up_environment(data_dir: Path, ports: Ports) -> dict[str, str]:
    """A fresh machine's environment: none of the developer's ``EAS_*`` or ``DAGSTER_HOME``.

    Without ``EAS_DATABASE_URL`` / ``EAS_REDIS_URL`` ``eas up`` starts the embedded servers itself.
    Their ports are moved too, like the others (the emulators' three included), only so that a
    developer's own ``eas up`` on the defaults cannot collide with the test's.
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
            "EAS_SANDBOX_PORT": str(ports.sandbox),
            "EAS_SANDBOX_MTLS_PORT": str(ports.sandbox_mtls),
            "EAS_SANDBOX_SMTP_PORT": str(ports.sandbox_smtp),
            "EAS_EXPORTER_PORT": str(ports.exporter),
            "EAS_WORKER_METRICS_PORT": str(ports.worker_metrics),
            "EAS_RUN_SERVER_PORT": str(ports.run_server),
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


def embedded_redis(data_dir: Path, port: int) -> redis.Redis:
    """A client of the embedded Redis of ``data_dir`` (with the password eas up generated there).

    No retries: redis-py would otherwise wait seconds on a refused connection inside one probe.
    Raises ``FileNotFoundError`` until eas up has written the password.
    """
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        password=(data_dir / "redis_password").read_text().strip(),
        socket_connect_timeout=2,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


def worker_probe(data_dir: Path, port: int) -> Probe:
    """Up when a worker's heartbeat key is in the embedded Redis."""

    def probe() -> tuple[bool, str]:
        password_path = data_dir / "redis_password"
        if not password_path.exists():
            return False, f"{password_path} does not exist yet"
        client = embedded_redis(data_dir, port)
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


def server_pids(data_dir: Path, names: Sequence[str] = ("postgres", "redis")) -> dict[str, int]:
    """The embedded servers' PIDs, from their owner records."""
    pids = {}
    for name in names:
        record = OwnerRecord.read(data_dir / "run" / f"{name}.json")
        assert record is not None, f"no record of the embedded {name} in {data_dir / 'run'}"
        pids[name] = record.server_pid
    return pids


def assert_model_reads(model_dir: Path, text: str, needed: dict[str, str]) -> None:
    """Fail, naming what it found, unless the model finds ``needed`` in ``text`` in both precisions.

    So that a model that cannot read a test's request fails as what it is (see
    ``TINY_ENCODER_SEED`` in ``tests/support/tiny_model.py``), not as a failed workflow.
    """
    from nlp_service.inference.parser import NLUParser
    from tests.support.tiny_model import TINY_ENCODER_SEED

    for precision in ("fp32", "int8"):
        parsed = NLUParser.load(model_dir, "onnx", 1, precision).parse(text)
        found = {entity.type: entity.text for entity in parsed.entities}
        assert all(found.get(kind) == value for kind, value in needed.items()), (
            f"the tiny test model ({precision}, encoder seed {TINY_ENCODER_SEED}) finds {found} in "
            f"{text!r}, not {needed}: training changed; pick another TINY_ENCODER_SEED"
        )


def stop_up(up: subprocess.Popen[bytes], data_dir: Path) -> int:
    """SIGTERM ``eas up`` and wait for it to exit; its exit status."""
    up.send_signal(signal.SIGTERM)
    try:
        return up.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"eas up still runs {STOP_TIMEOUT_S:.0f}s after SIGTERM\n{log_tails(data_dir)}")
