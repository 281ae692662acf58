"""The warm run server and its launcher: a real ``eas run-server`` process forking real Dagster runs.

Each test starts ``python -m eas_pipelines.workers.run_server`` (what ``eas run-server`` runs) on
Definitions written into the test's own folder, and launches runs of a Dagster instance of the test
(SQLite storage the forked runs open from the reference the launcher sends) through
:class:`WarmRunLauncher`, as the daemon's run coordinator would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.launcher import LaunchRunContext

from eas_pipelines.embedded import free_port
from eas_pipelines.workers.run_launcher import TAG_RUN_SERVER_PID, WarmRunLauncher
from eas_pipelines.workers.run_wire import ForkReply, WireError, decode_reply, decode_request, encode_reply

REPO_ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 120.0  # importing dagster and building the PII engine on a busy 2-core machine
RUN_TIMEOUT_S = 60.0

JOBS = """
import os
import time

import dagster as dg


@dg.op
def report_process(context) -> None:
    context.log.info(f"process {os.getpid()} parent {os.getppid()}")


@dg.op
def nap(context) -> None:
    time.sleep(120)


@dg.job(executor_def=dg.in_process_executor)
def where_job():
    report_process()


@dg.job(executor_def=dg.in_process_executor)
def nap_job():
    nap()


defs = dg.Definitions(jobs=[where_job, nap_job])
"""


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "forked_jobs.py").write_text(textwrap.dedent(JOBS))
    return folder


@pytest.fixture
def server(code_dir: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(REPO_ROOT)]),
        "EAS_DATA_DIR": str(tmp_path / "eas"),
        "EAS_LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "run-server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eas_pipelines.workers.run_server",
            "--definitions",
            "forked_jobs:defs",
            "--port",
            str(port),
        ],
        env=env,
        cwd=str(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: accepting(port) or proc.poll() is not None, START_TIMEOUT_S, "the run server")
        if proc.poll() is not None:
            pytest.fail(f"run server exited {proc.returncode}: {(tmp_path / 'run-server.log').read_text()}")
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def instance(dagster_instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """The test's instance (SQLite in its ``dagster_home``: the forked runs open the same files)."""
    return dagster_instance


def new_run(instance: dg.DagsterInstance, code_dir: Path, job_name: str) -> dg.DagsterRun:
    repository = ReconstructableRepository.for_module("forked_jobs", "defs", working_directory=str(code_dir))
    sys.path.insert(0, str(code_dir))
    try:
        job = repository.get_reconstructable_job(job_name)
        return instance.create_run_for_job(
            job_def=job.get_definition(), job_code_origin=job.get_python_origin()
        )
    finally:
        sys.path.remove(str(code_dir))
        sys.modules.pop("forked_jobs", None)


def launcher_for(instance: dg.DagsterInstance, port: int) -> WarmRunLauncher:
    launcher = WarmRunLauncher(port=port)
    launcher.register_instance(instance)
    return launcher


def finished(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    return wait_for(
        lambda: (run := instance.get_run_by_id(run_id)) is not None and run.is_finished and run,
        RUN_TIMEOUT_S,
        f"run {run_id} to finish",
    )


def messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        (entry.dagster_event.message if entry.dagster_event else None) or entry.user_message or ""
        for entry in instance.all_logs(run_id)
    ]


def test_a_run_is_forked_from_the_server_and_succeeds(server, instance, code_dir) -> None:
    proc, port = server
    run = new_run(instance, code_dir, "where_job")

    launcher_for(instance, port).launch_run(LaunchRunContext(dagster_run=run, workspace=None))

    done = finished(instance, run.run_id)
    assert done.status == dg.DagsterRunStatus.SUCCESS
    pid = int(done.tags[TAG_RUN_SERVER_PID])
    # The op ran in the forked process, whose parent is the server.
    assert f"process {pid} parent {proc.pid}" in messages(instance, run.run_id)
    assert any(f"Started process for run (pid: {pid})" in line for line in messages(instance, run.run_id))


def test_terminate_cancels_a_forked_run(server, instance, code_dir) -> None:
    _, port = server
    launcher = launcher_for(instance, port)
    run = new_run(instance, code_dir, "nap_job")
    launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    wait_for(
        lambda: any('Started execution of step "nap"' in line for line in messages(instance, run.run_id)),
        RUN_TIMEOUT_S,
        "the nap step to start",
    )

    assert launcher.terminate(run.run_id) is True

    assert finished(instance, run.run_id).status == dg.DagsterRunStatus.CANCELED
    assert launcher.terminate(run.run_id) is False  # finished: nothing to signal


def test_without_a_server_the_run_gets_a_new_process(instance, code_dir) -> None:
    run = new_run(instance, code_dir, "where_job")
    launcher = launcher_for(instance, free_port())

    # The fallback is Dagster's DefaultRunLauncher, which needs the workspace's code server; this
    # test has none, so reaching it is its error.
    with pytest.raises(DagsterInvariantViolationError, match="requires a workspace"):
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))

    assert any("no run server on 127.0.0.1" in line for line in messages(instance, run.run_id))
    assert TAG_RUN_SERVER_PID not in instance.get_run_by_id(run.run_id).tags


def test_changed_code_is_refused_as_stale_and_the_server_reloads_it(server, instance, code_dir) -> None:
    proc, port = server
    launcher = launcher_for(instance, port)
    source = code_dir / "forked_jobs.py"
    stamp = source.stat().st_mtime_ns + 5_000_000_000
    os.utime(source, ns=(stamp, stamp))

    stale = new_run(instance, code_dir, "where_job")
    with pytest.raises(DagsterInvariantViolationError):  # fell back to the default launcher
        launcher.launch_run(LaunchRunContext(dagster_run=stale, workspace=None))
    assert any(
        "forked_jobs.py changed since the run server loaded it" in line
        for line in messages(instance, stale.run_id)
    )

    # The server re-executes itself (same pid) and serves the new code once it listens again.
    time.sleep(0.5)
    wait_for(lambda: accepting(port), START_TIMEOUT_S, "the reloaded run server")
    assert proc.poll() is None
    fresh = new_run(instance, code_dir, "where_job")
    launcher.launch_run(LaunchRunContext(dagster_run=fresh, workspace=None))
    assert finished(instance, fresh.run_id).status == dg.DagsterRunStatus.SUCCESS


def test_the_server_refuses_a_line_that_is_not_a_request(server) -> None:
    _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b'{"execute_run_args": "not dagster"}\n')
        reply = decode_reply(conn.makefile("rb").readline().rstrip(b"\n"))
    assert reply.pid is None
    assert "bad request" in (reply.error or "")


def test_the_wire_names_what_is_wrong() -> None:
    with pytest.raises(WireError, match="not JSON"):
        decode_request(b"hello")
    with pytest.raises(WireError, match="execute_run_args"):
        decode_request(b'{"run": 1}')
    with pytest.raises(WireError, match="not from an eas-run-server"):
        decode_reply(b'{"pid": 12}')  # something else listening on the port
    assert decode_reply(encode_reply(ForkReply(pid=42)).rstrip(b"\n")) == ForkReply(pid=42)
    refused = decode_reply(encode_reply(ForkReply(error="changed", stale=True)).rstrip(b"\n"))
    assert refused == ForkReply(error="changed", stale=True)
