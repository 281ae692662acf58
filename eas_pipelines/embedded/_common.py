"""Pieces shared by the embedded servers: ownership records, locks, port checks, log tails.

An embedded server outlives a parent killed with SIGKILL (PostgreSQL daemonises through ``pg_ctl``;
Redis runs in its own session so that Ctrl-C reaches it only through an orderly stop). Each server
therefore leaves a small JSON record in ``data_dir/run/`` naming its PID and the process that owns
it; the next start reads it to tell a *stale* server (owner gone: stop it, start fresh) from one
*in use* by another live EAS process (reuse it, never stop it).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

import psutil

# psutil reads a process's start time from /proc with tick resolution; equal processes agree exactly,
# a PID reused by another process differs by far more than this.
_CREATE_TIME_TOLERANCE_S = 0.1


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped; the message says why and where to look."""


@dataclass(frozen=True)
class OwnerRecord:
    """Who started a server and which process it is, so that a later start can judge it."""

    server_pid: int
    server_create_time: float
    port: int
    owner_pid: int
    owner_create_time: float

    @classmethod
    def for_current_process(cls, server_pid: int, port: int) -> OwnerRecord:
        return cls(
            server_pid=server_pid,
            server_create_time=process_create_time(server_pid) or 0.0,
            port=port,
            owner_pid=os.getpid(),
            owner_create_time=process_create_time(os.getpid()) or 0.0,
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> OwnerRecord | None:
        """The record at ``path``; ``None`` when missing or unreadable (a torn write is a stale record)."""
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def owned_by(self, pid: int, create_time: float) -> bool:
        """The server was started by process ``pid`` that started at ``create_time`` (alive or not)."""
        return self.owner_pid == pid and abs(self.owner_create_time - create_time) <= _CREATE_TIME_TOLERANCE_S

    def owner_is_another_live_process(self) -> bool:
        """True when the owner still runs and is not us: its server must be left alone.

        Our own PID counts as "not another": a handle this process lost (or an earlier instance
        in it) gives no reason to keep a server that nobody will stop.
        """
        if self.owner_pid == os.getpid():
            return False
        return same_process_alive(self.owner_pid, self.owner_create_time)


def process_create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def same_process_alive(pid: int, create_time: float) -> bool:
    """``pid`` runs and is the process recorded, not a later one that reused the number."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(process.create_time() - create_time) <= _CREATE_TIME_TOLERANCE_S
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def pid_alive(pid: int) -> bool:
    """``pid`` exists and has not exited (a zombie has exited, it only waits to be reaped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def terminate_pid(pid: int, signals: tuple[tuple[signal.Signals, float], ...]) -> bool:
    """Send each signal in turn, waiting its timeout for ``pid`` to exit; True once it has.

    SIGKILL is sent last whatever ``signals`` says, so that nothing is left running.
    """
    for sig, timeout in (*signals, (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        if wait_for_exit(pid, timeout):
            return True
    return False


def port_in_use(host: str, port: int) -> bool:
    """Someone already listens on ``host:port`` (bind test; SO_REUSEADDR ignores TIME_WAIT leftovers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (tests and callers that do not care which)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, for error messages: the server's own words are the diagnosis."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(could not read {path}: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail) if tail else "    (empty)"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes, so that two EAS processes never start one server twice.

    ``flock`` locks die with their process, so a killed holder never blocks the next start.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ServerContext:
    """``with server:`` starts an embedded server and always stops it (PostgreSQL and Redis alike)."""

    def start(self) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
