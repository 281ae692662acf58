"""Fixtures of the fast-lane and worker tests: a queue on its own key prefix, a real Dagster instance,
requests. ``tests/eas_pipelines/lanes/conftest.py`` and ``workers/conftest.py`` re-export them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.routing import Priority
from eas_pipelines.store import Lane, RequestRecord, RequestStore, Status
from tests.eas_pipelines.dagster_support import NO_COMPUTE_LOGS

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
        record, _ = request_store.submit(f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, f"run {job}")
        request_store.transition(
            record.id,
            Status.CLASSIFIED,
            actor="test",
            intent="test.lanes",
            confidence=0.99,
            agent=agent,
            workflow=job,
            priority=int(priority),
            lane=Lane.FAST,
        )
        return request_store.transition(record.id, Status.QUEUED, actor="test")

    return make
