"""Which ``eas up`` owns a data folder, and the cleanup of what a dead one left running.

``eas up`` keeps ``data_dir/run/eas-up.json``: its own PID and start time, a random token, and
each child's PID (the ID of the child's process group) and start time, rewritten whenever a child
starts, restarts or stops. Every child gets the token in its environment as ``EAS_UP_TOKEN``, and
passes it on to what it starts (``dagster dev``'s webserver, daemon and code servers).

When that ``eas up`` is gone without stopping what it ran (killed with SIGKILL, out of memory),
:func:`stop_leftovers` stops it all: every live process carrying the token, every member of a
recorded process group whose leader still runs, and the embedded PostgreSQL and Redis that the
dead process started (their own records in ``data_dir/run/`` name their owner). Its watchdog
(:mod:`eas_pipelines.embedded.watchdog`) does this the moment it dies; the next ``eas up`` on the
folder does it again at start (:class:`DataFolderClaim`), in case the watchdog died too.

A PID is signalled only when it is provably the process recorded: same start time as recorded,
or the token in its environment (a random value no other process carries), so a PID reused by
an unrelated process is never touched.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import psutil

from eas_pipelines.embedded._common import (
    EmbeddedServiceError,
    file_lock,
    process_create_time,
    same_process_alive,
)

TOKEN_VARIABLE = "EAS_UP_TOKEN"
_CREATE_TIME_TOLERANCE_S = 0.1


class DataFolderInUse(EmbeddedServiceError):
    """Another live ``eas up`` runs on this data folder."""


class _Started(Protocol):
    """What is recorded of a child (a :class:`~eas_pipelines.embedded.supervisor.Child`)."""

    name: str
    create_time: float

    @property
    def pid(self) -> int: ...


@dataclass
class RecordedChild:
    name: str
    pid: int  # the child leads a process group of this ID
    create_time: float


@dataclass
class UpRecord:
    """The contents of ``data_dir/run/eas-up.json``."""

    pid: int
    create_time: float
    token: str
    children: list[RecordedChild] = field(default_factory=list)
    watchdog_pid: int | None = None

    @staticmethod
    def path(data_dir: Path) -> Path:
        return data_dir / "run" / "eas-up.json"

    @classmethod
    def read(cls, data_dir: Path) -> UpRecord | None:
        """The record of ``data_dir``; None when missing or unreadable (a torn write names nobody)."""
        try:
            values = json.loads(cls.path(data_dir).read_text())
            values["children"] = [RecordedChild(**child) for child in values.get("children", [])]
            return cls(**values)
        except (OSError, ValueError, TypeError):
            return None

    def write(self, data_dir: Path) -> None:
        path = self.path(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    def names(self, pid: int, create_time: float) -> bool:
        return self.pid == pid and abs(self.create_time - create_time) <= _CREATE_TIME_TOLERANCE_S

    def alive(self) -> bool:
        return same_process_alive(self.pid, self.create_time)


def _lock(data_dir: Path) -> Path:
    return data_dir / "run" / "eas-up.lock"


def _processes_of(record: UpRecord) -> list[tuple[str, psutil.Process]]:
    """Live processes of the recorded ``eas up``'s children, named after the child they belong to."""
    groups = {child.pid: child.name for child in record.children}
    verified = {child.pid for child in record.children if same_process_alive(child.pid, child.create_time)}
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            pgid = os.getpgid(process.pid)
            if pgid not in verified and not (
                record.token and process.environ().get(TOKEN_VARIABLE) == record.token
            ):
                continue
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append((groups.get(pgid) or process.name(), process))
        except (psutil.Error, OSError):  # gone meanwhile, or not ours to read
            continue
    return found


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` for ``processes`` to exit (a zombie has); returns those still running."""
    deadline = time.monotonic() + timeout
    while True:
        running = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process)
            except psutil.Error:
                continue
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)


def _signal_all(processes: list[psutil.Process], sig: signal.Signals) -> None:
    for process in processes:
        try:
            process.send_signal(sig)  # psutil refuses if the PID now names another process
        except psutil.Error:
            continue


def _describe(stopped: list[tuple[str, int]]) -> list[str]:
    """``[("dagster", 1), ("dagster", 2), ("nlp", 3)]`` -> ``["dagster (pids 1, 2)", "nlp (pid 3)"]``."""
    by_name: dict[str, list[int]] = {}
    for name, pid in stopped:
        by_name.setdefault(name, []).append(pid)
    return [
        f"{name} (pid{'s' if len(pids) > 1 else ''} {', '.join(str(pid) for pid in sorted(pids))})"
        for name, pids in by_name.items()
    ]


def stop_leftovers(record: UpRecord, data_dir: Path, *, grace: float = 5.0) -> list[str]:
    """Stop what the dead ``eas up`` of ``record`` left running; returns what was stopped, for a message.

    Children first (SIGTERM, SIGKILL after ``grace`` seconds), then the embedded servers it
    started. Does nothing while that ``eas up`` is alive.
    """
    if record.pid != os.getpid() and record.alive():
        return []
    from eas_pipelines.embedded.postgres import EmbeddedPostgres
    from eas_pipelines.embedded.redis_server import EmbeddedRedis

    found = _processes_of(record)
    processes = [process for _, process in found]
    _signal_all(processes, signal.SIGTERM)
    survivors = _wait_gone(processes, grace)
    if survivors:
        _signal_all(survivors, signal.SIGKILL)
        _wait_gone(survivors, 5.0)
    stopped = [(name, process.pid) for name, process in found]
    described = []
    for server in (EmbeddedPostgres(data_dir, 0), EmbeddedRedis(data_dir, 0)):
        try:
            pid = server.stop_if_owned_by(record.pid, record.create_time)
        except (EmbeddedServiceError, OSError) as exc:  # say so, and still try the other one
            described.append(f"{server.name} (not stopped: {exc})")
            continue
        if pid is not None:
            stopped.append((server.name, pid))
    return _describe(stopped) + described


def stop_leftovers_of(data_dir: Path, pid: int, create_time: float, *, grace: float = 5.0) -> list[str]:
    """The watchdog's cleanup: :func:`stop_leftovers` if the folder's record still names ``pid``.

    An ``eas up`` that stopped cleanly removed its record, and a newer one replaced it: nothing to do.
    """
    if not UpRecord.path(data_dir).exists():  # and never recreate a data folder removed meanwhile
        return []
    with file_lock(_lock(data_dir)):
        record = UpRecord.read(data_dir)
        if record is None or not record.names(pid, create_time):
            return []
        stopped = stop_leftovers(record, data_dir, grace=grace)
        UpRecord.path(data_dir).unlink(missing_ok=True)
        return stopped


class DataFolderClaim:
    """``with DataFolderClaim(data_dir, echo) as claim:`` makes this process the folder's ``eas up``.

    Entering refuses (:class:`DataFolderInUse`) while another live ``eas up`` runs on the folder,
    stops the leftovers of a dead one (saying what it stopped through ``echo``), and writes this
    process's record. :meth:`record_children` keeps the record current; leaving removes it.
    """

    def __init__(self, data_dir: Path, echo: Callable[[str], None], *, grace: float = 5.0) -> None:
        self.data_dir = Path(data_dir)
        self.echo = echo
        self.grace = grace
        self.record: UpRecord | None = None

    @property
    def token(self) -> str:
        assert self.record is not None, "not claimed"
        return self.record.token

    def __enter__(self) -> Self:
        with file_lock(_lock(self.data_dir)):
            previous = UpRecord.read(self.data_dir)
            if previous is not None:
                if previous.pid != os.getpid() and previous.alive():
                    raise DataFolderInUse(
                        f"another eas up is running on this data folder ({self.data_dir}), pid "
                        f"{previous.pid}; stop it first, or use another EAS_DATA_DIR"
                    )
                stopped = stop_leftovers(previous, self.data_dir, grace=self.grace)
                if stopped:
                    self.echo(
                        f"stopped leftovers of a previous eas up (pid {previous.pid}): {', '.join(stopped)}"
                    )
            self.record = UpRecord(
                pid=os.getpid(),
                create_time=process_create_time(os.getpid()) or 0.0,
                token=secrets.token_hex(16),
            )
            self.record.write(self.data_dir)
        return self

    def record_children(self, children: Sequence[_Started]) -> None:
        if self.record is None:
            return
        self.record.children = [RecordedChild(c.name, c.pid, c.create_time) for c in children]
        self.record.write(self.data_dir)

    def record_watchdog(self, pid: int | None) -> None:
        if self.record is not None:
            self.record.watchdog_pid = pid
            self.record.write(self.data_dir)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        record, self.record = self.record, None
        if record is None:
            return
        with file_lock(_lock(self.data_dir)):
            current = UpRecord.read(self.data_dir)
            if current is not None and current.names(record.pid, record.create_time):
                UpRecord.path(self.data_dir).unlink(missing_ok=True)
