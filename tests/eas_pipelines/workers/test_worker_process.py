"""Real worker processes: one killed with SIGKILL mid-run, one stopped with SIGTERM mid-run.

Each worker is ``python -m eas_pipelines.workers.process`` (what ``eas worker`` runs) on the test-only
Definitions of :mod:`tests.eas_pipelines.lane_jobs`, sharing this test's Redis prefix, PostgreSQL
database and Dagster home (SQLite storage) with the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import live_workers
from eas_pipelines.recovery import RECOVERY_ACTOR
from eas_pipelines.routing import Priority
from eas_pipelines.runs import TAG_WORKER
from eas_pipelines.store import RequestRecord, RequestStore, Status
from tests.eas_pipelines import lane_jobs

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFS = "tests.eas_pipelines.lane_jobs:defs"
HEARTBEAT_S = 0.5  # lease and heartbeat TTL: 1.5 s
START_TIMEOUT_S = 120.0  # importing dagster on a busy 2-core machine is slow


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, procs: list[subprocess.Popen]
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None and proc.returncode not in (-signal.SIGKILL,):
                pytest.fail(f"worker exited with {proc.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def start_worker(
    lane_env: dict[str, str], dagster_home: Path, redis_key_prefix: str, tmp_path: Path
) -> Iterator[Callable[[str], subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(worker_id: str) -> subprocess.Popen:
        env = {
            **os.environ,
            **lane_env,
            "DAGSTER_HOME": str(dagster_home),
            "EAS_DATA_DIR": str(tmp_path / "eas"),
            "EAS_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
            "EAS_MAX_ATTEMPTS": "3",
            "EAS_LOG_LEVEL": "INFO",
        }
        log_path = tmp_path / f"{worker_id}.log"
        logs.append(log_path)
        command = [
            sys.executable,
            "-m",
            "eas_pipelines.workers.process",
            "--definitions",
            DEFS,
            "--worker-id",
            worker_id,
            "--prefix",
            redis_key_prefix,
        ]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    for log_path in logs:  # shown by pytest when a test failed
        print(f"----- {log_path.name}\n{log_path.read_text(errors='replace')[-4000:]}")


def test_a_worker_killed_mid_run_is_replaced_and_the_request_completes_once(
    start_worker: Callable[[str], subprocess.Popen],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    record = make_request(lane_jobs.HOLD_JOB, Priority.P1)
    queue.enqueue(record.id, Priority.P1)
    started_key = f"{redis_key_prefix}started:{record.id}"
    starts_key = f"{redis_key_prefix}starts:{record.id}"

    doomed = start_worker("w-doomed")
    stale_run_id = wait_for(lambda: redis_client.get(started_key), START_TIMEOUT_S, "the first run", [doomed])
    stale_run_id = stale_run_id.decode()
    assert request_store.get(record.id).status is Status.RUNNING
    assert dagster_instance.get_run_by_id(stale_run_id).status is dg.DagsterRunStatus.STARTED

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    assert queue.pending_count()[Priority.P1] == 1  # the dead worker's entry, never acknowledged

    rescuer = start_worker("w-rescuer")
    wait_for(
        lambda: int(redis_client.get(starts_key) or 0) >= 2, START_TIMEOUT_S, "the second run", [rescuer]
    )
    redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
    wait_for(
        lambda: request_store.get(record.id).status is Status.SUCCEEDED,
        60,
        "the request to succeed",
        [rescuer],
    )
    # Acknowledged once execute_in_process has returned: the run's own end is recorded by then.
    wait_for(lambda: queue.pending_count()[Priority.P1] == 0, 30, "the acknowledgement", [rescuer])

    final = request_store.get(record.id)
    assert final.run_ids[0] == stale_run_id and len(final.run_ids) == 2
    stale = dagster_instance.get_run_by_id(stale_run_id)
    assert stale.status is dg.DagsterRunStatus.FAILURE
    assert stale.tags[TAG_WORKER] == "w-doomed"
    fresh = dagster_instance.get_run_by_id(final.run_ids[1])
    assert fresh.status is dg.DagsterRunStatus.SUCCESS
    assert fresh.tags[TAG_WORKER] == "w-rescuer"

    history = request_store.history(record.id)
    assert sum(1 for t in history if t.to_status is Status.SUCCEEDED) == 1
    assert [(t.from_status, t.to_status, t.actor) for t in history if t.actor == RECOVERY_ACTOR] == [
        (Status.RUNNING, Status.QUEUED, RECOVERY_ACTOR)
    ]
    assert int(redis_client.get(starts_key)) == 2

    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(timeout=30) == 0
    assert live_workers(redis_client, redis_key_prefix) == []


def test_sigterm_lets_the_worker_finish_its_run_then_exit(
    start_worker: Callable[[str], subprocess.Popen],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    record = make_request(lane_jobs.HOLD_JOB, Priority.P0)
    queue.enqueue(record.id, Priority.P0)
    worker = start_worker("w-graceful")
    wait_for(
        lambda: redis_client.exists(f"{redis_key_prefix}started:{record.id}"),
        START_TIMEOUT_S,
        "the run",
        [worker],
    )

    worker.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert worker.poll() is None  # still running the job
    redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)

    assert worker.wait(timeout=60) == 0
    assert request_store.get(record.id).status is Status.SUCCEEDED
    assert queue.pending_count()[Priority.P0] == 0
    assert live_workers(redis_client, redis_key_prefix) == []


def test_a_request_whose_entry_died_with_redis_is_recovered_by_the_next_worker_at_start_up(
    start_worker: Callable[[str], subprocess.Popen],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``eas up`` restarted after a worker was SIGKILLed: its memory-only Redis lost the queue entry,
    so no reclaim can happen; the next worker's start-up stranded-request pass recovers the request."""
    monkeypatch.setenv("EAS_RETRY_BACKOFF_SECONDS", "0.2")
    record = make_request(lane_jobs.HOLD_JOB, Priority.P1)
    queue.enqueue(record.id, Priority.P1)
    started_key = f"{redis_key_prefix}started:{record.id}"
    starts_key = f"{redis_key_prefix}starts:{record.id}"

    doomed = start_worker("w-doomed")
    stale_run_id = wait_for(lambda: redis_client.get(started_key), START_TIMEOUT_S, "the first run", [doomed])
    stale_run_id = stale_run_id.decode()
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    lost = [*queue.streams, queue.delayed_key, *redis_client.scan_iter(match=f"{redis_key_prefix}fast:*")]
    redis_client.delete(*lost)  # the restarted Redis is empty
    assert request_store.get(record.id).status is Status.RUNNING
    # Past the pass's grace (two heartbeat TTLs), as after a restart: the start-up pass judges it.
    time.sleep(2 * 3 * HEARTBEAT_S + 0.5)

    rescuer = start_worker("w-rescuer")
    wait_for(
        lambda: int(redis_client.get(starts_key) or 0) >= 2, START_TIMEOUT_S, "the second run", [rescuer]
    )
    redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
    wait_for(
        lambda: request_store.get(record.id).status is Status.SUCCEEDED,
        60,
        "the request to succeed",
        [rescuer],
    )

    final = request_store.get(record.id)
    assert final.run_ids[0] == stale_run_id and len(final.run_ids) == 2
    stale = dagster_instance.get_run_by_id(stale_run_id)
    assert stale.status is dg.DagsterRunStatus.FAILURE
    fresh = dagster_instance.get_run_by_id(final.run_ids[1])
    assert fresh.tags[TAG_WORKER] == "w-rescuer"
    history = request_store.history(record.id)
    assert sum(1 for t in history if t.to_status is Status.SUCCEEDED) == 1
    [requeue] = [t for t in history if t.actor == RECOVERY_ACTOR]
    assert (requeue.from_status, requeue.to_status) == (Status.RUNNING, Status.QUEUED)
    assert f"worker w-doomed gone (no heartbeat); run {stale_run_id} marked failed" in (requeue.reason or "")
    assert int(redis_client.get(starts_key)) == 2
    (scheduled,) = [e for e in request_store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert scheduled.detail["recovered_by"] == "worker:w-rescuer"

    rescuer.send_signal(signal.SIGTERM)
    assert rescuer.wait(timeout=30) == 0
