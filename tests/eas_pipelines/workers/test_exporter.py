"""The exporter's gauges, computed at scrape time from a seeded store, fast queue, breakers and
Dagster instance (all real: PostgreSQL, Redis, a SQLite Dagster instance), and each source's
failure isolated from the others."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
import redis
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from prometheus_client.parser import text_string_to_metric_families

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.observability.metrics import serve_metrics
from eas_pipelines.resources.circuit import make_breaker
from eas_pipelines.routing import AGENTS, INVOICE_JOB, Priority
from eas_pipelines.runs import now_utc
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore
from eas_pipelines.workers.exporter import (
    SOURCES,
    DagsterFigures,
    EASCollector,
    build_registry,
    queue_figures,
    run_exporter,
)
from tests.eas_pipelines.dagster_support import awaiting
from tests.eas_pipelines.gateway.servers import free_port

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(collector: EASCollector) -> Samples:
    """What Prometheus would read: metric name -> {sorted labels: value}."""
    found: Samples = {}
    for family in collector.collect():
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def up(samples: Samples) -> dict[str, float]:
    return {dict(labels)["source"]: v for labels, v in samples["eas_exporter_source_up"].items()}


def one(samples: Samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


@pytest.fixture
def collectors() -> Iterator[list[EASCollector]]:
    made: list[EASCollector] = []
    yield made
    for collector in made:
        collector.close()


def add_run(instance: dg.DagsterInstance, job: str, status: dg.DagsterRunStatus) -> str:
    """A run of ``job`` in ``status``, from a code location (Dagster requires one of queued runs)."""
    run_id = str(uuid.uuid4())
    location = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("eas"), "__repository__")
    origin = RemoteJobOrigin(location, job)
    instance.add_run(dg.DagsterRun(job_name=job, run_id=run_id, status=status, remote_job_origin=origin))
    return run_id


def test_lane_gauges_count_waiting_entries_and_age_the_oldest_per_priority(queue: FastQueue) -> None:
    queue.ensure_groups()
    for _ in range(2):
        queue.enqueue(str(uuid.uuid4()), Priority.P0)
    queue.enqueue(str(uuid.uuid4()), Priority.P2)
    time.sleep(0.3)
    taken = queue.dequeue("w-test")  # the first P0 entry: in progress, not waiting
    assert taken is not None and taken.priority is Priority.P0
    queue.enqueue(str(uuid.uuid4()), Priority.P0)  # younger than the P0 entry still waiting

    depth, ages = queue_figures(queue)

    assert depth == {"P0": 2, "P1": 0, "P2": 1}
    assert ages["P1"] == 0.0
    assert 0.25 <= ages["P0"] < 600 and 0.25 <= ages["P2"] < 600
    # With no consumer group yet (no worker ever started), every entry waits.
    fresh = FastQueue(queue.client, prefix=f"{queue.prefix}fresh:")
    fresh.enqueue(str(uuid.uuid4()), Priority.P1)
    try:
        assert queue_figures(fresh)[1]["P1"] >= 0.0 and queue_figures(fresh)[0]["P1"] == 1
    finally:
        fresh.delete_all()


def test_every_source_is_exported_from_seeded_state(
    queue: FastQueue,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
    collectors: list[EASCollector],
) -> None:
    queue.ensure_groups()
    queue.enqueue(str(uuid.uuid4()), Priority.P1)
    breakers = f"{redis_key_prefix}circuit"
    make_breaker("sap", redis_client, prefix=breakers)  # never failed: closed
    make_breaker("servicenow", redis_client, prefix=breakers).open()
    make_breaker("jira", redis_client, prefix=breakers).half_open()
    awaiting(request_store, "manager", now_utc() + timedelta(hours=4))  # customer_service
    awaiting(request_store, "manager", now_utc() + timedelta(hours=4))
    add_run(dagster_instance, INVOICE_JOB, dg.DagsterRunStatus.QUEUED)
    add_run(dagster_instance, INVOICE_JOB, dg.DagsterRunStatus.QUEUED)
    add_run(dagster_instance, "hr_leave_request", dg.DagsterRunStatus.STARTED)
    add_run(dagster_instance, INVOICE_JOB, dg.DagsterRunStatus.SUCCESS)
    add_run(dagster_instance, "__ASSET_JOB", dg.DagsterRunStatus.FAILURE)
    collector = EASCollector(
        store_engine=request_store.engine,
        queue=queue,
        breakers=redis_client,
        breaker_prefix=breakers,
        dagster=DagsterFigures(dagster_instance),
    )
    collectors.append(collector)

    samples = scrape(collector)

    assert up(samples) == dict.fromkeys(SOURCES, 1.0)
    assert one(samples, "eas_lane_queue_depth", priority="P1") == 1.0
    assert one(samples, "eas_lane_queue_depth", priority="P0") == 0.0
    assert one(samples, "eas_lane_oldest_age_seconds", priority="P0") == 0.0
    states = {dict(k)["system"]: v for k, v in samples["eas_circuit_breaker_state"].items()}
    assert states == {"sap": 0.0, "jira": 1.0, "servicenow": 2.0}
    pending = {dict(k)["agent"]: v for k, v in samples["eas_approvals_pending"].items()}
    assert pending == {**dict.fromkeys(AGENTS, 0.0), "customer_service": 2.0}
    assert 0.0 <= one(samples, "eas_approvals_oldest_age_seconds") < 600
    assert one(samples, "eas_dagster_runs", status="QUEUED", job=INVOICE_JOB) == 2.0
    assert one(samples, "eas_dagster_runs", status="STARTED", job="hr_leave_request") == 1.0
    assert one(samples, "eas_dagster_runs", status="SUCCESS", job=INVOICE_JOB) == 1.0
    assert one(samples, "eas_dagster_runs", status="SUCCESS", job="hr_leave_request") == 0.0
    assert one(samples, "eas_dagster_runs", status="FAILURE", job="other") == 1.0
    assert one(samples, "eas_dagster_run_queue_length") == 2.0
    assert 0.0 <= one(samples, "eas_dagster_oldest_queued_run_age_seconds") < 600


def test_finished_run_counts_are_cached_for_their_ttl(dagster_instance: dg.DagsterInstance) -> None:
    now = [0.0]
    figures = DagsterFigures(dagster_instance, [INVOICE_JOB], finished_ttl_s=60, clock=lambda: now[0])
    add_run(dagster_instance, INVOICE_JOB, dg.DagsterRunStatus.SUCCESS)
    assert figures.finished()[("SUCCESS", INVOICE_JOB)] == 1
    add_run(dagster_instance, INVOICE_JOB, dg.DagsterRunStatus.SUCCESS)
    assert figures.finished()[("SUCCESS", INVOICE_JOB)] == 1  # cached
    now[0] = 61.0
    assert figures.finished()[("SUCCESS", INVOICE_JOB)] == 2
    assert figures.active()[0] == {}  # runs in flight are never cached


def test_a_down_redis_hides_only_the_redis_figures(
    request_store: RequestStore, dagster_instance: dg.DagsterInstance, collectors: list[EASCollector]
) -> None:
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1, socket_timeout=1)
    awaiting(request_store, "manager", now_utc() + timedelta(hours=4))
    collector = EASCollector(
        store_engine=request_store.engine,
        queue=FastQueue(dead, prefix=f"eas:test:{uuid.uuid4().hex}:"),
        breakers=dead,
        dagster=DagsterFigures(dagster_instance),
    )
    collectors.append(collector)

    samples = scrape(collector)

    assert up(samples) == {"store": 1.0, "fast_queue": 0.0, "circuit_breakers": 0.0, "dagster": 1.0}
    assert "eas_lane_queue_depth" not in samples and "eas_circuit_breaker_state" not in samples
    assert one(samples, "eas_approvals_pending", agent="customer_service") == 1.0
    assert one(samples, "eas_dagster_run_queue_length") == 0.0


def test_a_source_that_hangs_is_reported_down_within_the_deadline(
    request_store: RequestStore, collectors: list[EASCollector]
) -> None:
    """A Redis that accepts the connection and never answers (a half-dead server, a black-holed
    route): the scrape must not wait for its client's timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        silent = redis.Redis(
            host="127.0.0.1", port=listener.getsockname()[1], socket_connect_timeout=30, socket_timeout=30
        )
        collector = EASCollector(store_engine=request_store.engine, breakers=silent, source_timeout_s=1.0)
        collectors.append(collector)
        started = time.monotonic()
        samples = scrape(collector)
        took = time.monotonic() - started
        silent.close()
    assert up(samples) == {"store": 1.0, "circuit_breakers": 0.0}
    assert took < 20  # the deadline (1 s), not the client's 30 s timeout


def test_the_registry_serves_the_gauges_and_the_exporters_own_cost(
    queue: FastQueue, collectors: list[EASCollector]
) -> None:
    collector = EASCollector(queue=queue)
    collectors.append(collector)
    server = serve_metrics(0, registry=build_registry(collector))
    try:
        text = httpx.get(server.url, timeout=10).text
    finally:
        server.close()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"eas_lane_queue_depth", "eas_exporter_source_up", "process_cpu_seconds"} <= names


def test_eas_exporter_serves_until_stopped(
    migrated_database_url: str,
    redis_url: str,
    redis_key_prefix: str,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = EASSettings(
        database_url=migrated_database_url, redis_url=redis_url, data_dir=tmp_path / "eas", exporter_port=port
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            run_exporter(settings, instance=dagster_instance, stop_event=stop, queue_prefix=redis_key_prefix)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline and not errors:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            break
        except httpx.TransportError:
            time.sleep(0.1)
    stop.set()
    thread.join(timeout=30)
    assert not errors and not thread.is_alive()
    up_lines = [line for line in text.splitlines() if line.startswith("eas_exporter_source_up{")]
    assert sorted(up_lines) == sorted(f'eas_exporter_source_up{{source="{s}"}} 1.0' for s in SOURCES)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
