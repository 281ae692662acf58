"""Fixtures of the fast-lane and worker tests: a queue on its own key prefix, a real Dagster instance,
requests, workers. The conftests of ``lanes/``, ``workers/`` and ``observability/`` re-export them
(``import *``: the names in ``__all__``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.routing import Priority
from eas_pipelines.store import Lane, RequestRecord, RequestStore, Status
from eas_pipelines.workers.worker import Worker
from tests.eas_pipelines.dagster_support import NO_COMPUTE_LOGS

__all__ = ["dagster_home", "dagster_instance", "lane_env", "make_request", "make_worker", "queue"]
"""The fixtures: what the conftests' ``import *`` takes (helpers such as :func:`queued_request` are
imported by name)."""

LANE_DEFS = "tests.eas_pipelines.lane_jobs:defs"
"""The test-only jobs (``tests/eas_pipelines/lane_jobs.py``) workers run unless a test gives others."""

DAGSTER_YAML = (
    "telemetry:\n  enabled: false\n"
    "compute_logs:\n  module: dagster.core.storage.noop_compute_log_manager\n  class: NoOpComputeLogManager\n"
)


@pytest.fixture
def queue(redis_client: redis.Redis, redis_key_prefix: str) -> FastQueue:
    """A fast queue whose every key is under this test's prefix (deleted afterwards)."""
    return FastQueue(redis_client, prefix=redis_key_prefix)


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME of this test: SQLite storage that worker subprocesses share with the test."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    return home


@pytest.fixture
def dagster_instance(dagster_home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(overrides=NO_COMPUTE_LOGS, temp_dir=str(dagster_home)) as instance:
        yield instance


@pytest.fixture
def lane_env(
    monkeypatch: pytest.MonkeyPatch, migrated_database_url: str, redis_url: str, redis_key_prefix: str
) -> dict[str, str]:
    """The environment the test jobs' resources read (and worker subprocesses inherit)."""
    env = {
        "EAS_DATABASE_URL": migrated_database_url,
        "EAS_REDIS_URL": redis_url,
        "EAS_TEST_LANES_PREFIX": redis_key_prefix,
        # Worker subprocesses serve no /metrics unless a test gives them a free port of its own.
        "EAS_WORKER_METRICS_PORT": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def make_request(request_store: RequestStore) -> Callable[..., RequestRecord]:
    """A request routed to ``job`` and queued on the fast lane."""

    def make(job: str, priority: Priority = Priority.P1, *, agent: str = "lanes") -> RequestRecord:
        return queued_request(request_store, job, priority, agent=agent, intent="test.lanes")

    return make


def queued_request(
    store: RequestStore,
    job: str,
    priority: Priority = Priority.P1,
    *,
    agent: str,
    intent: str,
    text: str | None = None,
    trace_context: dict[str, str] | None = None,
) -> RequestRecord:
    """A request routed to ``job`` and queued on the fast lane (``text`` and ``trace_context`` as the
    gateway would store them); not put on the queue itself."""
    record, _ = store.submit(
        f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, text or f"run {job}", trace_context=trace_context
    )
    store.transition(
        record.id,
        Status.CLASSIFIED,
        actor="test",
        intent=intent,
        confidence=0.99,
        agent=agent,
        workflow=job,
        priority=int(priority),
        lane=Lane.FAST,
    )
    return store.transition(record.id, Status.QUEUED, actor="test")


WORKER_OPTIONS = {"heartbeat_s": 0.5, "backoff_base_s": 0.1, "backoff_cap_s": 0.5}
"""Worker settings of the tests: a quick heartbeat and retry backoff (a test overrides any of them)."""


@pytest.fixture
def make_worker(
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
    lane_env: dict[str, str],
) -> Iterator[Callable[..., Worker]]:
    """Workers on the test store, queue and Dagster instance, running :data:`LANE_DEFS` unless given
    ``defs=``; closed after the test."""
    workers: list[Worker] = []

    def make(worker_id: str = "w-test", *, defs: str | dg.Definitions = LANE_DEFS, **options: Any) -> Worker:
        options = {**WORKER_OPTIONS, **options}
        worker = Worker(request_store, queue, defs, dagster_instance, worker_id, **options)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()
