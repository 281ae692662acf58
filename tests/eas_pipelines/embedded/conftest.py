"""Fixtures for the embedded servers: one initdb per test session, and nothing left running after it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from eas_pipelines.embedded import EmbeddedPostgres, free_port
from eas_pipelines.embedded._common import pid_alive, terminate_pid

REPO_ROOT = Path(__file__).resolve().parents[3]

# Starts an embedded server, prints its PID, then waits to be killed: a parent that dies with SIGKILL.
HOLDER_SCRIPT = """
import sys, time
from eas_pipelines.embedded import EmbeddedPostgres, EmbeddedRedis
kind, data_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = {"postgres": EmbeddedPostgres, "redis": EmbeddedRedis}[kind](data_dir, port)
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""


def _stop_leftover_postgres(data_dir: Path) -> None:
    handle = EmbeddedPostgres(data_dir, 0)
    running = handle._running_postmaster()
    if running is not None:
        handle._run_as = handle._prepare_os_user()
        handle._stop_postmaster(running[0])


@contextlib.contextmanager
def server_data_dir(prefix: str) -> Iterator[Path]:
    """A data dir directly under the system temp folder, removed afterwards.

    Not pytest's ``tmp_path``: as root the server runs as another OS user that must traverse every
    folder above its data, and each pytest session (any concurrent one included) resets
    ``/tmp/pytest-of-root`` to 0700 and prunes old numbered folders, pulling the data from under
    a running server.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield data_dir
    finally:
        for folder in (data_dir, data_dir / "data"):
            if folder.exists():
                _stop_leftover_postgres(folder)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_data_dir() -> Iterator[Path]:
    """An EAS data dir whose PostgreSQL cluster is initialised once (initdb takes seconds)."""
    with server_data_dir("eas-test-pg-") as parent:
        data_dir = parent / "data"  # not there yet: start() creates it
        server = EmbeddedPostgres(data_dir, free_port())
        server.start()
        server.stop()
        yield data_dir


@pytest.fixture
def fresh_data_dir() -> Iterator[Path]:
    """An empty data dir of this test's own (see :func:`server_data_dir`)."""
    with server_data_dir("eas-test-") as data_dir:
        yield data_dir


@pytest.fixture
def pg_dir(pg_data_dir: Path) -> Iterator[Path]:
    """The shared data dir, checked to be left with no server running by each test."""
    yield pg_data_dir
    _stop_leftover_postgres(pg_data_dir)


class Holder:
    """A child process that owns an embedded server, to be killed (or left alive) by the test."""

    def __init__(self, kind: str, data_dir: Path, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER_SCRIPT, kind, str(data_dir), str(port)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            self.process.wait(30)
            raise AssertionError(f"holder failed to start its {kind} server (exit {self.process.returncode})")
        self.server_pid = int(line)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.cleanup()
        if pid_alive(holder.server_pid):  # never leave a server of a test behind
            import signal

            terminate_pid(holder.server_pid, ((signal.SIGINT, 10.0),))
