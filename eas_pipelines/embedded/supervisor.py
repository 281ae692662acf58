"""The children of ``eas up``: restarted when one crashes, stopped together only when told.

:class:`ProcessGroup` starts each child in a session of its own, with its output appended to
``log_dir/<name>.log``. :meth:`ProcessGroup.wait` supervises them: a child that exits on its own is
started again (same command, environment, folder and log) after a delay that doubles with each
recent restart (:class:`RestartPolicy`); a child that keeps crashing (``limit`` restarts within
``window`` seconds) makes the group give up, stop everything and return 1. SIGINT / SIGTERM stop
everything and return 0.

Children also die with their parent: on Linux each asks the kernel (``PR_SET_PDEATHSIG``) for its
stop signal when the thread that started it exits, so start and supervise children from the main
thread. That reaches the direct child only; what it started in its own process group (``dagster
dev``'s webserver and daemon) is the job of :mod:`eas_pipelines.embedded.watchdog`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

import psutil

from eas_pipelines.embedded._common import process_create_time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Resolved once in the parent: the pre-exec hook runs between fork and exec and must not load libraries.
_PRCTL = _load_prctl()


def set_parent_death_signal(sig: signal.Signals) -> bool:
    """Have the kernel send ``sig`` to this process when its parent (thread) dies; False if unsupported."""
    if _PRCTL is None:
        return False
    return _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def _child_setup(death_signal: signal.Signals | None, parent_pid: int) -> Callable[[], None]:
    """The pre-exec hook: default signal handling, and death with the parent.

    Python handlers are reset by exec anyway, but an *ignored* signal stays ignored across exec,
    and so does a blocked one. A script started in the background by a non-interactive shell has
    SIGINT ignored; without the reset, ``dagster dev`` and friends inherit that and cannot be
    stopped gracefully.
    """

    def setup() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if death_signal is not None and set_parent_death_signal(death_signal) and os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)  # the parent died before prctl: no signal would ever come

    return setup


@dataclass(frozen=True)
class RestartPolicy:
    """When a child that exited on its own is started again.

    The n-th restart within ``window`` seconds waits ``delay * 2**(n-1)`` seconds (at most
    ``max_delay``); once a child has been restarted ``limit`` times within ``window``, its next exit
    makes the group give up. ``limit=0`` turns restarts off: the first exit stops everything.
    """

    limit: int = 5
    window: float = 60.0
    delay: float = 1.0
    max_delay: float = 30.0

    def delay_before(self, restart_number: int) -> float:
        return min(self.max_delay, self.delay * 2 ** (restart_number - 1))


@dataclass(eq=False)
class Child:
    """One process of a :class:`ProcessGroup`, leader of its own process group.

    ``process`` is the current process: a restart replaces it, keeping everything else.
    """

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | str | None = None
    create_time: float = 0.0  # of the current process, to tell it from a later one with its PID
    restarts: int = 0  # in all
    recent_restarts: deque[float] = field(default_factory=deque)  # monotonic times, within the window
    restart_at: float | None = None  # set while the child has exited and waits to be started again

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
    """Children started together, restarted when they crash, and stopped together.

    Each child runs in a new session (so it is the leader of its own process group, the terminal's
    Ctrl-C does not reach it behind our back, and its own children can be found again) with default
    signal dispositions restored and, on Linux, its ``stop_signal`` due when this process dies.

    Stopping a child sends its ``stop_signal`` to its whole process group, as a terminal's Ctrl-C
    would (``dagster dev`` expects its webserver and daemon to get the signal too), waits up to
    ``stop_timeout`` for the group to empty, then SIGKILLs whatever is left. Children are stopped
    in reverse order of start, so that servers outlive their clients. ``on_change`` is called with
    the children after every start, restart and stop (``eas up`` records their PIDs).
    """

    def __init__(
        self,
        log_dir: Path | str,
        *,
        stop_timeout: float = 15.0,
        echo: Callable[[str], None] | None = None,
        restart: RestartPolicy | None = None,
        on_change: Callable[[Sequence[Child]], None] | None = None,
        die_with_parent: bool = True,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.stop_timeout = stop_timeout
        self.restart = restart if restart is not None else RestartPolicy()
        self.die_with_parent = die_with_parent
        self.children: list[Child] = []
        self._echo = echo if echo is not None else (lambda line: print(line, file=sys.stderr, flush=True))
        self._on_change = on_change
        self._stop_requested: int | None = None
        self._force = False  # a second stop signal: no more grace periods

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    # -- starting ----------------------------------------------------------------------------------

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
        command, child_env = list(command), {**os.environ, **(env or {})}
        process = self._spawn(command, child_env, cwd, log_path, stop_signal, f"starting {name}")
        child = Child(
            name=name,
            process=process,
            log_path=log_path,
            stop_signal=stop_signal,
            command=command,
            env=child_env,
            cwd=cwd,
            create_time=process_create_time(process.pid) or 0.0,
        )
        self.children.append(child)
        self._echo(f"started {name} (pid {process.pid}), log: {log_path}")
        self._changed()
        return child

    def _spawn(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path | str | None,
        log_path: Path,
        stop_signal: signal.Signals,
        banner: str,
    ) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {banner}: {command}\n".encode())
            log.flush()
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                # Not thread-safe, and the death signal follows the forking *thread*: start children
                # from the main thread.
                preexec_fn=_child_setup(stop_signal if self.die_with_parent else None, os.getpid()),
            )

    def _restart(self, child: Child) -> None:
        """Start ``child`` again, after killing what its last process left in its process group."""
        if _group_members(child.pid):
            _signal_group(child.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0
            while _group_members(child.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        child.restart_at = None
        child.restarts += 1
        child.recent_restarts.append(time.monotonic())
        old_pid = child.pid
        try:
            banner = f"restarting {child.name} (restart {child.restarts})"
            child.process = self._spawn(
                child.command, child.env, child.cwd, child.log_path, child.stop_signal, banner
            )
        except OSError as exc:  # counts as one more crash: the next poll schedules (or gives up)
            self._echo(f"could not restart {child.name} (pid {old_pid} exited): {exc}")
            return
        child.create_time = process_create_time(child.pid) or 0.0
        self._echo(f"restarted {child.name} (pid {child.pid})")
        self._changed()

    def _changed(self) -> None:
        """Tell ``on_change`` (eas up's record); a failure there must not stop the stopping."""
        if self._on_change is not None:
            try:
                self._on_change(list(self.children))
            except Exception as exc:  # a full disk must not leave children running
                self._echo(f"could not record the children: {exc}")

    # -- supervising -------------------------------------------------------------------------------

    def exited(self) -> list[Child]:
        """Children that have exited on their own."""
        return [child for child in self.children if child.process.poll() is not None]

    def supervise(self) -> bool:
        """One round of supervision: schedule restarts of exited children, start those due.

        Returns False when a child has crashed more often than the restart policy allows: the group
        gives up (the caller stops everything).
        """
        policy = self.restart
        for child in list(self.children):
            now = time.monotonic()
            if child.restart_at is not None:
                if now >= child.restart_at and self._stop_requested is None:
                    self._restart(child)
                continue
            status = child.process.poll()
            if status is None:
                continue
            while child.recent_restarts and now - child.recent_restarts[0] > policy.window:
                child.recent_restarts.popleft()
            recent = len(child.recent_restarts)
            if recent >= policy.limit:
                why = (
                    f"it was restarted {recent} times in the last {policy.window:.0f}s: giving up"
                    if policy.limit
                    else "restarts are off"
                )
                self._echo(
                    f"{child.name} (pid {child.pid}) exited with status {status}; {why}. "
                    f"See {child.log_path}. Stopping everything."
                )
                return False
            delay = policy.delay_before(recent + 1)
            child.restart_at = now + delay
            self._echo(
                f"restarting {child.name} (pid {child.pid} exited with status {status}; "
                f"restart {recent + 1} of {policy.limit}) in {delay:.1f}s; see {child.log_path}"
            )
            # What it started in its group gets the stop signal now, and SIGKILL when the restart is due.
            _signal_group(child.pid, child.stop_signal)
        return True

    def wait(self, *, poll_interval: float = 0.2) -> int:
        """Supervise until Ctrl-C / SIGTERM (or :meth:`request_stop`) or until the group gives up.

        Then stop every child. Returns 0 when told to stop and 1 when the group gave up on a child
        that kept crashing, so that ``eas up`` under a supervisor of its own reports the failure.
        """
        status = 0
        with self.handling_stop_signals():
            try:
                while self._stop_requested is None:
                    if not self.supervise():
                        status = 1
                        break
                    time.sleep(poll_interval)
                else:
                    self._echo(f"received {signal.Signals(self._stop_requested).name}: stopping")
            finally:
                self.stop_all()
        return status

    # -- stopping ----------------------------------------------------------------------------------

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
        child.restart_at = None
        if child in self.children:
            self.children.remove(child)
        self._echo(f"stopped {child.name} (pid {child.pid}, exit {child.process.returncode})")
        self._changed()
        return child.process.returncode

    def stop_all(self, timeout: float | None = None) -> None:
        """Stop every child, last started first. Safe to call repeatedly."""
        for child in list(reversed(self.children)):
            self.stop_child(child, timeout)

    def request_stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Ask :meth:`wait` to stop the group, as the signal ``sig`` would (a second request forces)."""
        if self._stop_requested is not None:
            self._force = True
        self._stop_requested = int(sig)

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested is not None

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
            self.request_stop(signal.Signals(signum))

        for sig in previous:
            signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
