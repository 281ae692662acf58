"""A warm fast-lane worker process (what ``eas worker`` runs): wiring, signals, the loop's thread.

:func:`run_worker` wires a :class:`~eas_pipelines.workers.worker.Worker` from the settings: the request
store on ``EAS_DATABASE_URL``, the queue on ``EAS_REDIS_URL`` (embedded servers when unset, as for
every EAS process), the Dagster instance of ``DAGSTER_HOME`` (the one the UI shows, so the worker's
runs appear there) and the Definitions loaded once. It returns when SIGTERM or SIGINT asks it to,
after the task in progress.

``python -m eas_pipelines.workers.process [--definitions module:attr] [--worker-id ID]`` runs one
too, for deployments and tests that start workers without the ``eas`` CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import dagster as dg
import redis

from eas_pipelines.embedded import resolve_services
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX, FastQueue
from eas_pipelines.observability.logs import configure_logging
from eas_pipelines.observability.metrics import MetricsServer, serve_metrics
from eas_pipelines.observability.tracing import setup_tracing
from eas_pipelines.pii.engine import engines as pii_engines
from eas_pipelines.settings import EASSettings, load_settings
from eas_pipelines.store import RequestStore, make_engine
from eas_pipelines.workers.worker import DEFAULT_DEFINITIONS, Worker

log = logging.getLogger(__name__)

BLOCK_MS = 1000
SERVICE = "eas-worker"


class WorkerConfigError(RuntimeError):
    """The worker cannot start with this environment (the message says what to set)."""


def dagster_instance() -> dg.DagsterInstance:
    """The instance of ``DAGSTER_HOME``; refusing an ephemeral one, whose runs nobody would ever see."""
    if not os.environ.get("DAGSTER_HOME"):
        raise WorkerConfigError(
            "DAGSTER_HOME is not set: a worker must run its jobs against the Dagster instance the UI "
            "and daemon use (set DAGSTER_HOME to the directory holding their dagster.yaml)"
        )
    instance = dg.DagsterInstance.get()
    # dagster-postgres opens a new connection per stored event by default (NullPool): about 60 per
    # run. A warm worker keeps a pool instead, which measured 2.5x faster per run on 2 cores.
    instance.optimize_for_webserver(statement_timeout=15000, pool_recycle=3600, max_overflow=20)
    return instance


def install_stop_signals(
    stop_event: threading.Event, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)
) -> None:
    """SIGTERM/SIGINT set ``stop_event``: the worker finishes the task in progress, then exits.

    Call from the main thread, and run the work loop in another thread (see :func:`serve`): during
    each run ``execute_in_process`` replaces the SIGINT/SIGTERM handlers with Dagster's own (which
    swallow the signal or interrupt the op), but only when it runs on the main thread. Blocking the
    signals instead is no option: the blocked mask is inherited by the child processes Dagster
    starts (its compute-log ``tail``), which then ignore the SIGTERM meant to end them. A second
    signal exits at once (an operator's second Ctrl-C); the unacknowledged task is reclaimed.
    """

    def handler(signum: int, _frame: Any) -> None:
        if stop_event.is_set():
            log.warning("signal %d again: exiting now; the task in progress will be reclaimed", signum)
            os._exit(128 + signum)
        log.info("signal %d: stopping after the current task (send it again to exit now)", signum)
        stop_event.set()

    for sig in signals:
        signal.signal(sig, handler)


def serve(worker: Worker, stop_event: threading.Event, *, handle_signals: bool = True) -> None:
    """Run ``worker`` until ``stop_event`` is set (or a stop signal arrives, from the main thread).

    The loop runs in a thread of its own so that the main thread keeps the signal handlers (see
    :func:`install_stop_signals`). An error that escapes the loop is re-raised here.
    """
    if handle_signals and threading.current_thread() is threading.main_thread():
        install_stop_signals(stop_event)
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            worker.run_forever(stop_event)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread below
            errors.append(exc)
            stop_event.set()

    thread = threading.Thread(target=loop, name=f"eas-worker-{worker.worker_id}")
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    if errors:
        raise errors[0]


@contextlib.contextmanager
def start_metrics(settings: EASSettings) -> Iterator[MetricsServer | None]:
    """The worker's Prometheus ``/metrics`` on ``EAS_WORKER_METRICS_PORT`` while the block runs
    (None when that is 0).

    A port already taken is logged, not fatal: a worker without metrics still does its work, and
    a restarted worker whose predecessor's socket lingers must not crash-loop over it.
    """
    if not settings.worker_metrics_port:
        yield None
        return
    try:
        server = serve_metrics(settings.worker_metrics_port, settings.metrics_host)
    except OSError as exc:
        log.error(
            "worker metrics: cannot listen on %s:%d (%s); running without /metrics",
            settings.metrics_host,
            settings.worker_metrics_port,
            exc,
        )
        yield None
        return
    log.info("worker metrics on %s", server.url)
    try:
        yield server
    finally:
        server.close()


def redis_client_for_worker(redis_url: str, block_ms: int) -> redis.Redis:
    """A client whose socket timeout outlasts the blocking dequeue (else the block reads as a timeout)."""
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=5,
        socket_timeout=block_ms / 1000 + 10,
        health_check_interval=30,
    )


def run_worker(
    settings: EASSettings | None = None,
    *,
    definitions: str | dg.Definitions | None = None,
    worker_id: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    stop_event: threading.Event | None = None,
    instance: dg.DagsterInstance | None = None,
) -> int:
    """Run one worker until stopped; returns the process exit code (0 after a graceful stop).

    ``definitions`` defaults to the project's code location (``eas_pipelines.definitions:defs``).
    Signal handlers are installed only when called from the main thread (a test may run this in a
    thread and stop it with ``stop_event``).
    """
    settings = settings or load_settings(generate_secrets=False)
    # JSON lines in the worker's log (observability.logs: PII masked, request and trace ids), however
    # it was started (``eas worker`` under ``eas up``, or this module); left alone where the caller (a
    # test, an embedding process) configured logging.
    if not logging.getLogger().handlers:
        configure_logging(settings.log_level, service=SERVICE)
    setup_tracing(SERVICE)  # OTEL_* variables: the runs' spans continue their requests' traces
    stop = stop_event or threading.Event()
    with start_metrics(settings), resolve_services(settings) as services:
        # Resources of the jobs read these through dg.EnvVar: make embedded URLs visible to them.
        for name, value in services.env().items():
            os.environ.setdefault(name, value)
        own_instance = instance is None
        dagster = instance or dagster_instance()
        store = RequestStore(make_engine(services.database_url, application_name="eas-worker"))
        client = redis_client_for_worker(services.redis_url, BLOCK_MS)
        try:
            worker = Worker(
                store,
                FastQueue(client, prefix=prefix),
                definitions or DEFAULT_DEFINITIONS,
                dagster,
                worker_id,
                heartbeat_s=settings.worker_heartbeat_seconds,
                max_attempts=settings.max_attempts,
                backoff_base_s=settings.retry_backoff_seconds,
                block_ms=BLOCK_MS,
            )
            # The PII analyzer takes seconds to import and build: built before the first task, not
            # during its run. Not in a thread beside the definitions' import: both import parts of
            # transformers, whose lazy module is not safe to import from two threads at once.
            pii_engines()
            if definitions is None:
                from eas_pipelines.agents import warm_agents

                warm_agents()  # the project's agents' first-use costs (e.g. matplotlib's fonts)
            serve(worker, stop)
        finally:
            client.close()
            store.close()
            if own_instance:
                dagster.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one warm EAS fast-lane worker.")
    parser.add_argument(
        "--definitions", default=None, help=f"module:attribute (default {DEFAULT_DEFINITIONS})"
    )
    parser.add_argument("--worker-id", default=None, help="default: <host>-<pid>-<random>")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="Redis key prefix of the fast lane")
    args = parser.parse_args(argv)
    settings = load_settings(generate_secrets=False)
    return run_worker(settings, definitions=args.definitions, worker_id=args.worker_id, prefix=args.prefix)


if __name__ == "__main__":
    raise SystemExit(main())
