"""The worker in this process: real Redis, PostgreSQL store and Dagster instance, test-only jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import dagster as dg
import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import live_workers
from eas_pipelines.routing import Priority
from eas_pipelines.runs import TAG_WORKER
from eas_pipelines.store import RequestRecord, RequestStore, Status
from eas_pipelines.workers.worker import Action, Worker
from tests.eas_pipelines import lane_jobs


def successes(store: RequestStore, request_id: str) -> int:
    return sum(1 for t in store.history(request_id) if t.to_status is Status.SUCCEEDED)


def test_a_queued_request_runs_in_process_as_a_tagged_dagster_run(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    worker = make_worker()
    record = make_request(lane_jobs.QUICK_JOB, Priority.P0)
    queue.enqueue(record.id, Priority.P0)

    outcome = worker.run_once(block_ms=0)

    assert outcome is not None and outcome.action is Action.EXECUTED
    assert outcome.status is Status.SUCCEEDED
    done = request_store.get(record.id)
    assert done.status is Status.SUCCEEDED and done.run_ids == (outcome.run_id,)
    run = dagster_instance.get_run_by_id(outcome.run_id)
    assert run is not None and run.status is dg.DagsterRunStatus.SUCCESS
    assert run.job_name == lane_jobs.QUICK_JOB
    assert run.tags["eas/request_id"] == record.id
    assert run.tags["eas/lane"] == "fast"
    assert run.tags["eas/priority"] == "P0"
    assert run.tags["dagster/priority"] == "10"
    assert run.tags[TAG_WORKER] == "w-test"
    assert queue.pending_count() == {Priority.P0: 0, Priority.P1: 0, Priority.P2: 0}
    assert worker.run_once(block_ms=0) is None


def test_requests_run_in_priority_order(
    make_worker: Callable[..., Worker], make_request: Callable[..., RequestRecord], queue: FastQueue
) -> None:
    worker = make_worker()
    order = {}
    for priority in (Priority.P2, Priority.P1, Priority.P0):
        record = make_request(lane_jobs.QUICK_JOB, priority)
        queue.enqueue(record.id, priority)
        order[record.id] = priority

    served = [worker.run_once(block_ms=0) for _ in range(3)]

    assert [order[o.task.request_id] for o in served if o] == [Priority.P0, Priority.P1, Priority.P2]


def test_a_request_that_is_no_longer_queued_is_acked_and_skipped(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    worker = make_worker()
    record = make_request(lane_jobs.QUICK_JOB)
    request_store.transition(record.id, Status.CANCELLED, actor="operator")
    queue.enqueue(record.id, Priority.P1)

    outcome = worker.run_once(block_ms=0)

    assert outcome is not None and outcome.action is Action.SKIPPED
    assert outcome.status is Status.CANCELLED
    assert dagster_instance.get_runs() == []
    assert queue.pending_count()[Priority.P1] == 0


def test_a_duplicate_delivery_runs_the_workflow_once(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
) -> None:
    worker = make_worker()
    record = make_request(lane_jobs.QUICK_JOB)
    queue.enqueue(record.id, Priority.P1, attempt=0)
    queue.enqueue(record.id, Priority.P1, attempt=7)  # e.g. a sensor re-enqueue racing the gateway

    first, second = worker.run_once(block_ms=0), worker.run_once(block_ms=0)

    assert first is not None and first.action is Action.EXECUTED
    assert second is not None and second.action is Action.SKIPPED
    assert successes(request_store, record.id) == 1


def test_a_failed_run_is_retried_with_backoff_and_then_succeeds(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    worker = make_worker()
    record = make_request(lane_jobs.FLAKY_JOB)
    redis_client.set(f"{redis_key_prefix}fail:{record.id}", 1)
    queue.enqueue(record.id, Priority.P1)

    failed = worker.run_once(block_ms=0)

    assert failed is not None and failed.action is Action.RETRY_QUEUED
    assert "connector down" in (failed.detail or "")
    assert request_store.get(record.id).status is Status.QUEUED
    assert queue.delayed_count() == 1
    assert dagster_instance.get_run_by_id(failed.run_id).status is dg.DagsterRunStatus.FAILURE

    retried = worker.run_once(block_ms=3000)

    assert retried is not None and retried.action is Action.EXECUTED
    assert retried.task.attempt == 1
    final = request_store.get(record.id)
    assert final.status is Status.SUCCEEDED
    assert final.run_ids == (failed.run_id, retried.run_id)
    assert successes(request_store, record.id) == 1


def test_attempts_run_out_and_the_request_fails_with_the_reason(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    worker = make_worker(max_attempts=2)
    record = make_request(lane_jobs.FLAKY_JOB)
    redis_client.set(f"{redis_key_prefix}fail:{record.id}", 10)
    queue.enqueue(record.id, Priority.P1)

    first = worker.run_once(block_ms=0)
    second = worker.run_once(block_ms=3000)

    assert first is not None and first.action is Action.RETRY_QUEUED
    assert second is not None and second.action is Action.FAILED
    final = request_store.get(record.id)
    assert final.status is Status.FAILED
    assert "connector down" in (final.last_error or "")
    assert queue.pending_count()[Priority.P1] == 0 and queue.delayed_count() == 0


def test_a_poison_entry_is_dead_lettered_and_its_request_failed(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
) -> None:
    worker = make_worker(max_deliveries=2, visibility_timeout_s=0.05)
    record = make_request(lane_jobs.QUICK_JOB)
    queue.enqueue(record.id, Priority.P1)
    assert queue.dequeue("crashed-1") is not None
    time.sleep(0.1)
    assert queue.reclaim("crashed-2", min_idle_ms=50)  # delivery 2, and that worker dies too
    time.sleep(0.1)

    outcome = worker.run_once(block_ms=0)  # delivery 3 > 2

    assert outcome is not None and outcome.action is Action.DEAD_LETTERED
    assert outcome.task.delivery_count == 3
    assert request_store.get(record.id).status is Status.FAILED
    [dead] = queue.dead_letters()
    assert dead["request_id"] == record.id and dead["delivery_count"] == "3"
    assert queue.pending_count()[Priority.P1] == 0


def test_a_request_without_a_workflow_job_fails_at_once(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
) -> None:
    worker = make_worker()
    record = make_request("no_such_job")
    queue.enqueue(record.id, Priority.P1)

    outcome = worker.run_once(block_ms=0)

    assert outcome is not None and outcome.action is Action.FAILED
    assert request_store.get(record.id).status is Status.FAILED


def test_run_forever_finishes_the_current_task_before_stopping(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    worker = make_worker("w-graceful")
    record = make_request(lane_jobs.HOLD_JOB)
    queue.enqueue(record.id, Priority.P1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not redis_client.exists(f"{redis_key_prefix}started:{record.id}"):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        assert live_workers(redis_client, redis_key_prefix) == ["w-graceful"]
        stop.set()
        time.sleep(0.5)
        assert thread.is_alive()  # still finishing the run
        redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
    finally:
        stop.set()
        redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert request_store.get(record.id).status is Status.SUCCEEDED
    assert queue.pending_count()[Priority.P1] == 0
    assert live_workers(redis_client, redis_key_prefix) == []


def test_the_product_worker_runs_the_real_agent_jobs(
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
    lane_env: dict[str, str],
) -> None:
    """Default Definitions: the project's code location, every routed job loaded once, run for real."""
    import importlib

    import eas_pipelines.definitions
    from eas_pipelines.routing import JOBS, TICKET_JOB
    from tests.eas_pipelines.dagster_support import entity, queued_request

    # The module was imported at collection, before the session's emulators put their settings
    # (SMTP port, CA) in the environment; a worker under `eas up` imports it after. Do the same.
    importlib.reload(eas_pipelines.definitions)
    worker = Worker(request_store, queue, None, dagster_instance, "w-real", heartbeat_s=0.5)
    try:
        assert set(JOBS) <= set(worker.jobs)
        text = "customer dana.smith@example.com can't log in, open a ticket"
        record = queued_request(
            request_store,
            text,
            "customer_service.ticket_create",
            [entity(text, "email", "dana.smith@example.com")],
        )
        queue.enqueue(record.id, record.priority)

        outcome = worker.run_once(block_ms=0)
    finally:
        worker.close()

    assert outcome is not None and outcome.action is Action.EXECUTED, outcome
    assert request_store.get(record.id).status is Status.SUCCEEDED
    run = dagster_instance.get_run_by_id(outcome.run_id)
    assert run.job_name == TICKET_JOB
    assert run.status is dg.DagsterRunStatus.SUCCESS
    assert (run.tags["eas/agent"], run.tags["eas/lane"]) == ("customer_service", "fast")


def test_work_of_a_live_worker_is_neither_run_twice_nor_stolen(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    queue: FastQueue,
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    owner = make_worker("w-owner", heartbeat_s=5.0)  # alive, but its next lease extension is 5 s away
    impatient = make_worker("w-impatient", visibility_timeout_s=0.05)
    record = make_request(lane_jobs.HOLD_JOB)
    queue.enqueue(record.id, Priority.P1)
    stop = threading.Event()
    thread = threading.Thread(target=owner.run_forever, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not redis_client.exists(f"{redis_key_prefix}started:{record.id}"):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        queue.enqueue(record.id, Priority.P1, attempt=9)  # a stray duplicate
        time.sleep(0.2)  # the owner's entry is now idle for longer than the impatient worker waits

        outcomes = [impatient.run_once(block_ms=0), impatient.run_once(block_ms=0)]

        assert sorted(o.action for o in outcomes if o) == sorted([Action.RETURNED, Action.SKIPPED])
        returned = next(o for o in outcomes if o and o.action is Action.RETURNED)
        assert returned.task.delivery_count == 2
        assert queue.touch(
            type(returned.task)(**{**returned.task.__dict__, "consumer": "w-owner"})
        )  # back with its owner, whose heartbeat keeps it alive
        redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
        deadline = time.monotonic() + 60
        while queue.pending_count()[Priority.P1]:
            assert time.monotonic() < deadline, "the owner never acknowledged"
            time.sleep(0.05)
    finally:
        stop.set()
        redis_client.set(f"{redis_key_prefix}release:{record.id}", 1)
        thread.join(timeout=60)
    assert successes(request_store, record.id) == 1
    assert len(request_store.get(record.id).run_ids) == 1
