"""The warm run server (``eas run-server``): standard-lane runs forked from a process that is ready.

Why: a standard-lane run used to start as a freshly spawned Python process that imported Dagster and
the code location and then, inside its first steps, built the PII engine and imported what those
steps use: 9–12 s from creation to first op on a 2-core VM, and first steps of up to 2 s
(BENCHMARKS.md). This server pays that once: it loads the code location's Definitions and builds the
process-wide engines, then waits. For each run :class:`~eas_pipelines.workers.run_launcher.WarmRunLauncher`
hands it, it forks; the child executes the run exactly as ``dagster api execute_run`` does (Dagster's
own run worker body: run status checks, the "Started process" event, the run's events in the event
log) and exits. Each run still has a process of its own; only the start is shared.

What fork demands, and how it is met:

- nothing that must not be shared across processes exists in the parent: no database or Redis
  connection (the child opens its own instance from the reference the launcher sends), no thread
  (checked before serving: a thread does not survive into the child, and a lock it held would stay
  held there), no ONNX Runtime session (the OCR engine stays per process, built on first use);
- the child gets the default signal handlers back, closes the server's sockets and leaves with
  ``os._exit`` so that nothing of the server (its loop, ``atexit`` hooks) runs in it;
- the parent reaps its children, so none lingers as a zombie;
- code changes: the server remembers the modification time of every project source file it
  imported; a request arriving after one changed is refused as stale (the launcher then starts a
  fresh process, as before) and the server re-executes itself to load the new code.

It listens on 127.0.0.1 only (``EAS_RUN_SERVER_PORT``; 0 disables it): whoever can reach it can run
the code location's jobs, as whoever can reach the Dagster daemon's code server can.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from dagster._grpc.types import ExecuteRunArgs

from eas_pipelines.connectors.base import warm_tls
from eas_pipelines.observability.logs import configure_logging
from eas_pipelines.pii.engine import engines as pii_engines
from eas_pipelines.settings import load_settings
from eas_pipelines.workers.run_launcher import HOST
from eas_pipelines.workers.run_wire import ForkReply, WireError, decode_request, encode_reply, read_line
from eas_pipelines.workers.worker import DEFAULT_DEFINITIONS, load_definitions

log = logging.getLogger(__name__)

SERVICE = "eas-run-server"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ACCEPT_TIMEOUT_S = 0.5
"""How often the loop wakes to reap finished runs and notice a stop signal."""
REQUEST_TIMEOUT_S = 5.0


class RunServerError(RuntimeError):
    """The server cannot serve (the message says why)."""


def project_sources(roots: Sequence[Path]) -> dict[str, int]:
    """Modification time of every imported module's source file under ``roots``, by path."""
    prefixes = tuple(str(root) + os.sep for root in roots)
    found: dict[str, int] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or not path.startswith(prefixes) or "site-packages" in path:
            continue
        try:
            found[path] = os.stat(path).st_mtime_ns
        except OSError:
            continue
    return found


def first_changed(sources: dict[str, int]) -> str | None:
    """The first of ``sources`` whose file changed (or went) since it was recorded."""
    for path, mtime in sources.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return path
        except OSError:
            return path
    return None


def execute_forked_run(args: ExecuteRunArgs) -> int:
    """In the forked child: execute the run as ``dagster api execute_run`` would; the exit code."""
    import dagster as dg
    from dagster._cli.api import _execute_run_command_body
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts(), dg.DagsterInstance.from_ref(args.instance_ref) as instance:
        return _execute_run_command_body(
            args.run_id, instance, lambda _event: None, set_exit_code_on_failure=False
        )


class RunServer:
    """Loads the code location once, then forks a process per run it is handed."""

    def __init__(self, port: int, definitions: str = DEFAULT_DEFINITIONS) -> None:
        self.port = port
        self.definitions = definitions
        self._sources: dict[str, int] = {}
        self._children: set[int] = set()
        self._stopping = False
        self._listener: socket.socket | None = None

    def preload(self) -> None:
        """Everything a run would otherwise import or build in its first seconds."""
        load_definitions(self.definitions)
        pii_engines()  # Presidio and spaCy: ~1.3 s in a fresh process
        warm_tls()  # the system CA store, loaded by the first step that calls a connector
        if self.definitions == DEFAULT_DEFINITIONS:
            from eas_pipelines.agents import warm_agents

            warm_agents()  # e.g. matplotlib's fonts for data_analysis's first chart
        # The project's files and the Definitions' own folder (another code location's, in tests).
        module_file = getattr(sys.modules[self.definitions.partition(":")[0]], "__file__", None)
        roots = [PROJECT_ROOT, *([Path(module_file).parent] if module_file else [])]
        self._sources = project_sources(roots)
        threads = [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()]
        if threads:
            raise RunServerError(
                f"threads running after preload ({', '.join(threads)}): forking would lose them"
            )

    def listen(self) -> socket.socket:
        try:
            self._listener = socket.create_server((HOST, self.port))
        except OSError as exc:
            raise RunServerError(f"cannot listen on {HOST}:{self.port} ({exc})") from None
        self._listener.settimeout(ACCEPT_TIMEOUT_S)
        self.port = self._listener.getsockname()[1]
        return self._listener

    def stop(self, *_: Any) -> None:
        self._stopping = True

    def serve_forever(self) -> None:
        listener = self._listener or self.listen()
        log.info("run server ready on %s:%d (%d source files watched)", HOST, self.port, len(self._sources))
        try:
            while not self._stopping:
                self.reap()
                try:
                    conn, _ = listener.accept()
                except (TimeoutError, InterruptedError):
                    continue
                with conn:
                    if self.handle(conn):
                        self.restart()
        finally:
            listener.close()

    def handle(self, conn: socket.socket) -> bool:
        """Answer one request (forking the run's process); True when the server must reload its code."""
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            args = decode_request(read_line(conn))
        except (WireError, OSError) as exc:
            log.warning("refused a request: %s", exc)
            self._reply(conn, ForkReply(error=f"bad request: {exc}"))
            return False
        changed = first_changed(self._sources)
        if changed is not None:
            log.info("run %s refused: %s changed since it was loaded; restarting", args.run_id, changed)
            self._reply(
                conn, ForkReply(error=f"{changed} changed since the run server loaded it", stale=True)
            )
            return True
        pid = os.fork()
        if pid == 0:
            self._child(conn, args)
        self._children.add(pid)
        log.info("run %s forked as pid %d", args.run_id, pid)
        self._reply(conn, ForkReply(pid=pid))
        return False

    def _child(self, conn: socket.socket, args: ExecuteRunArgs) -> NoReturn:
        code = 1
        try:
            conn.close()
            if self._listener is not None:
                self._listener.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            code = execute_forked_run(args)
        except BaseException:  # noqa: BLE001 - the child must never return into the server's loop
            log.exception("run %s: its process failed", args.run_id)
        finally:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    @staticmethod
    def _reply(conn: socket.socket, reply: ForkReply) -> None:
        try:
            conn.sendall(encode_reply(reply))
        except OSError as exc:
            log.warning("could not reply to the launcher: %s", exc)

    def reap(self) -> None:
        """Collect finished run processes."""
        for pid in list(self._children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                self._children.discard(pid)
                continue
            if done:
                self._children.discard(pid)
                log.info("run process %d exited (%d)", pid, os.waitstatus_to_exitcode(status))

    def restart(self) -> NoReturn:
        """Replace this process by a fresh run server (same command line), which loads the new code.
        Running runs are not affected: they are processes of their own."""
        if self._listener is not None:
            self._listener.close()
        logging.shutdown()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def run_server(port: int | None = None, definitions: str = DEFAULT_DEFINITIONS) -> int:
    """Serve until SIGTERM or SIGINT; the process exit code."""
    settings = load_settings(generate_secrets=False)
    if not logging.getLogger().handlers:
        configure_logging(settings.log_level, service=SERVICE)
    port = settings.run_server_port if port is None else port
    if not port:
        raise RunServerError("EAS_RUN_SERVER_PORT is 0: the run server is disabled")
    server = RunServer(port, definitions)
    # Loaded first, listening after: a run handed over while the server still loads would wait
    # for it; with nothing listening yet, the launcher starts that run in a new process at once.
    server.preload()
    server.listen()
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    server.serve_forever()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve standard-lane runs forked from a warm process.")
    parser.add_argument("--port", type=int, default=None, help="default: EAS_RUN_SERVER_PORT")
    parser.add_argument(
        "--definitions", default=DEFAULT_DEFINITIONS, help=f"module:attribute (default {DEFAULT_DEFINITIONS})"
    )
    args = parser.parse_args(argv)
    try:
        return run_server(args.port, args.definitions)
    except RunServerError as exc:
        print(f"eas run-server: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
