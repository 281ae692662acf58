"""Entry point of a warm fast-lane worker process (what ``eas worker`` runs).

:func:`run_worker` wires a :class:`~eas_pipelines.lanes.worker.Worker` from the settings: the request
store on ``EAS_DATABASE_URL``, the queue on ``EAS_REDIS_URL`` (embedded servers when unset, as for
every EAS process), the Dagster instance of ``DAGSTER_HOME`` (the one the UI shows, so the worker's
runs appear there) and the Definitions loaded once. It returns when SIGTERM or SIGINT asks it to,
after the task in progress.

``python -m eas_pipelines.lanes.cli_worker [--definitions module:attr] [--worker-id ID]`` runs one
too, for deployments and tests that start workers without the ``eas`` CLI.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Sequence

import dagster as dg

from eas_pipelines.embedded import resolve_services
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX, FastQueue
from eas_pipelines.lanes.worker import DEFAULT_DEFINITIONS, Worker, redis_client_for_worker, serve
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.settings import EASSettings, load_settings
from eas_pipelines.store import RequestStore, make_engine

log = logging.getLogger(__name__)

BLOCK_MS = 1000


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
    # Timestamped lines in the worker's log, however it was started (``eas worker`` under ``eas up``,
    # or this module); a no-op where the caller (a test, an embedding process) configured logging.
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_event or threading.Event()
    with resolve_services(settings) as services:
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
                backoff_base_s=WorkflowPolicyResource.from_env().retry_backoff_seconds,
                block_ms=BLOCK_MS,
            )
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
