"""Starting what is not configured, and the child processes of ``eas up``.

:func:`resolve_services` turns settings into URLs: a configured ``EAS_DATABASE_URL`` /
``EAS_REDIS_URL`` is used as is, an unset one starts the embedded server. :class:`ProcessGroup`
runs the long-lived children of ``eas up`` (Dagster, gateway, NLP server, workers) so that Ctrl-C
or SIGTERM stops every one of them, and everything they started, before ``eas up`` returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Protocol

import psutil

from eas_pipelines.embedded.postgres import EmbeddedPostgres
from eas_pipelines.embedded.redis_server import EmbeddedRedis
from eas_pipelines.settings import EASSettings

_log = logging.getLogger(__name__)


class EmbeddedServer(Protocol):
    """What :class:`ResolvedServices` needs of an embedded server."""

    owned: bool

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class ResolvedServices:
    """The URLs every EAS process should use, and the embedded servers started to provide them.

    ``started`` holds the servers this call started (and must stop); ``reused`` those that another
    live EAS process owns (left running by :meth:`stop_all`).
    """

    database_url: str
    redis_url: str
    started: list[EmbeddedServer] = field(default_factory=list)
    reused: list[EmbeddedServer] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Environment for child processes, so that they use these servers instead of starting their own."""
        return {"EAS_DATABASE_URL": self.database_url, "EAS_REDIS_URL": self.redis_url}

    def stop_all(self) -> None:
        """Stop the started servers in reverse order of start; every one is tried even if one fails."""
        errors: list[BaseException] = []
        while self.started:
            server = self.started.pop()
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others; report all at the end
                _log.error("could not stop embedded %s: %s", server.name, exc)
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> ResolvedServices:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def resolve_services(settings: EASSettings) -> ResolvedServices:
    """URLs for PostgreSQL and Redis, starting an embedded server for each one not configured.

    If a later start fails, the servers already started are stopped before the error propagates,
    so a failed ``eas up`` leaves nothing running.
    """
    planned: list[tuple[str, EmbeddedServer]] = []
    if settings.database_url is None:
        planned.append(("database_url", EmbeddedPostgres(settings.data_dir, settings.embedded_postgres_port)))
    if settings.redis_url is None:
        planned.append(("redis_url", EmbeddedRedis(settings.data_dir, settings.embedded_redis_port)))
    urls: dict[str, str | None] = {"database_url": settings.database_url, "redis_url": settings.redis_url}
    resolved = ResolvedServices(database_url="", redis_url="")
    try:
        for key, server in planned:
            urls[key] = server.start()
            (resolved.started if server.owned else resolved.reused).append(server)
    except BaseException:
        resolved.stop_all()
        raise
    resolved.database_url = urls["database_url"] or ""
    resolved.redis_url = urls["redis_url"] or ""
    return resolved


def _reset_child_signals() -> None:
    """Run in the child between fork and exec: undo what the parent's signal setup would pass on.

    Python handlers are reset by exec anyway, but an *ignored* signal stays ignored across exec,
    and so does a blocked one. A script started in the background by a non-interactive shell has
    SIGINT ignored; without this, ``dagster dev`` and friends inherit that and cannot be stopped
    gracefully.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


@dataclass
class Child:
    """One process of a :class:`ProcessGroup`, leader of its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals

    @property
    def pid(self) -> int:
        return self.process.pid


def _group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes of process group ``pgid``, including grandchildren."""
    members = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


class ProcessGroup:
    """Children started together and stopped together, whatever stops the parent.

    Each child runs in a new session (so it is the leader of its own process group, the terminal's
    Ctrl-C does not reach it behind our back, and its own children can be found again) with default
    signal dispositions restored. Its stdout and stderr go to ``log_dir/<name>.log``.

    Stopping a child sends its ``stop_signal`` to its whole process group, as a terminal's Ctrl-C
    would (``dagster dev`` expects its webserver and daemon to get the signal too), waits up to
    ``stop_timeout`` for the group to empty, then SIGKILLs whatever is left. Children are stopped
    in reverse order of start, so that servers outlive their clients.
    """

    def __init__(
        self,
        log_dir: Path | str,
        *,
        stop_timeout: float = 15.0,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self._echo = echo if echo is not None else (lambda line: print(line, file=sys.stderr, flush=True))
        self._stop_requested: int | None = None
        self._force = False  # a second stop signal: no more grace periods

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> Child:
        """Start ``command``; ``env`` is added to (and overrides) this process's environment."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        child_env = {**os.environ, **(env or {})}
        with log_path.open("ab") as log:
            log.write(
                f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {list(command)}\n".encode()
            )
            log.flush()
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_reset_child_signals,  # not thread-safe: start children from one thread
            )
        child = Child(name=name, process=process, log_path=log_path, stop_signal=stop_signal)
        self.children.append(child)
        self._echo(f"started {name} (pid {process.pid}), log: {log_path}")
        return child

    def exited(self) -> list[Child]:
        """Children that have exited on their own."""
        return [child for child in self.children if child.process.poll() is not None]

    def stop_child(self, child: Child, timeout: float | None = None) -> int | None:
        """Stop one child and its whole process group; returns the child's exit status."""
        timeout = self.stop_timeout if timeout is None else timeout
        pgid = child.pid  # start_new_session: the child leads a group of its own PID
        deadline = time.monotonic() + timeout
        if child.process.poll() is None or _group_members(pgid):
            _signal_group(pgid, child.stop_signal)
            while child.process.poll() is None and time.monotonic() < deadline and not self._force:
                time.sleep(0.05)
            while _group_members(pgid) and time.monotonic() < deadline and not self._force:
                time.sleep(0.05)
            if child.process.poll() is None or _group_members(pgid):
                self._echo(f"{child.name} (pid {child.pid}) still running after {timeout:.0f}s: killing it")
                _signal_group(pgid, signal.SIGKILL)
                child.process.wait()
                kill_deadline = time.monotonic() + 5.0
                while _group_members(pgid) and time.monotonic() < kill_deadline:
                    time.sleep(0.05)
        if child in self.children:
            self.children.remove(child)
        self._echo(f"stopped {child.name} (pid {child.pid}, exit {child.process.returncode})")
        return child.process.returncode

    def stop_all(self, timeout: float | None = None) -> None:
        """Stop every child, last started first. Safe to call repeatedly."""
        for child in list(reversed(self.children)):
            self.stop_child(child, timeout)

    @contextlib.contextmanager
    def handling_stop_signals(self) -> Iterator[None]:
        """While inside, SIGINT and SIGTERM ask :meth:`wait` to stop the group instead of killing us.

        A second signal while stopping skips the remaining grace periods (SIGKILL at once), as an
        impatient operator pressing Ctrl-C twice expects. Outside the main thread this does nothing:
        Python only lets the main thread install handlers.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._stop_requested is not None:
                self._force = True
            self._stop_requested = signum

        for sig in previous:
            signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested is not None

    def wait(self, *, poll_interval: float = 0.2) -> int:
        """Run until Ctrl-C / SIGTERM or until any child exits, then stop every child.

        Returns 0 when stopped by a signal (the operator asked for it) and 1 when a child exited on
        its own (for a group of servers that is a failure, whatever its exit status), so that
        ``eas up`` under a supervisor reports the crash.
        """
        status = 0
        with self.handling_stop_signals():
            try:
                while self._stop_requested is None:
                    dead = self.exited()
                    if dead:
                        for child in dead:
                            self._echo(
                                f"{child.name} (pid {child.pid}) exited with status "
                                f"{child.process.returncode}; see {child.log_path}. Stopping the others."
                            )
                        status = 1
                        break
                    time.sleep(poll_interval)
                else:
                    self._echo(f"received {signal.Signals(self._stop_requested).name}: stopping")
            finally:
                self.stop_all()
        return status
