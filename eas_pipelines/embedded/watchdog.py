"""The watchdog of ``eas up``: when ``eas up`` dies, whatever it ran dies too.

``python -m eas_pipelines.embedded.watchdog DATA_DIR PID CREATE_TIME`` polls process ``PID`` (the
one that started at ``CREATE_TIME``, so a reused PID does not fool it) every half second. Once it
is gone, if ``data_dir/run/eas-up.json`` still names it (an ``eas up`` that stopped cleanly has
removed it), the watchdog stops its leftovers (:func:`~eas_pipelines.embedded.leftovers.
stop_leftovers`): the children's whole process groups, which the kernel's parent-death signal
does not reach (``dagster dev``'s webserver and daemon), and the embedded PostgreSQL and Redis.

The watchdog runs in a session of its own, so that neither the terminal's Ctrl-C nor a signal to
``eas up``'s process group reaches it, and without a parent-death signal: it must outlive its
parent. On a clean stop ``eas up`` dismisses it (SIGTERM) once every child and server is stopped,
then removes its record.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from eas_pipelines.embedded._common import process_create_time, same_process_alive
from eas_pipelines.embedded.leftovers import stop_leftovers_of


def watch(data_dir: Path, pid: int, create_time: float, *, poll_interval: float = 0.5) -> list[str]:
    """Block until process ``pid`` is gone, then stop its leftovers; returns what was stopped."""
    while same_process_alive(pid, create_time):
        time.sleep(poll_interval)
    return stop_leftovers_of(data_dir, pid, create_time)


class Watchdog:
    """``with Watchdog(data_dir, log_path):`` runs the watchdog of this process, dismissed on exit."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        me = os.getpid()
        command = [
            sys.executable,
            "-m",
            "eas_pipelines.embedded.watchdog",
            str(self.data_dir),
            str(me),
            repr(process_create_time(me) or 0.0),
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("pid", type=int)
    parser.add_argument("create_time", type=float)
    args = parser.parse_args(argv)
    # Only eas up's dismissal (SIGTERM) ends the watch; an inherited "ignore" must not block it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"--- {stamp} watchdog (pid {os.getpid()}) watching eas up (pid {args.pid})", flush=True)
    stopped = watch(args.data_dir, args.pid, args.create_time)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    if stopped:
        print(f"{stamp} eas up (pid {args.pid}) died; stopped what it left: {', '.join(stopped)}", flush=True)
    else:
        print(f"{stamp} eas up (pid {args.pid}) is gone and left nothing running", flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
