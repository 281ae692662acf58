"""The stranded-request pass: requests left ``running`` by a run whose owner is gone.

Real PostgreSQL store, Redis (keys under the test's prefix) and Dagster instance. A stranded request
is made the way a killed worker leaves one: the request claimed (``running``, the run id recorded)
under a ``STARTED`` run tagged with a worker whose heartbeat key does not exist, and no queue entry
(a memory-only Redis lost it). The pass runs with 0.1 s heartbeats: TTL 0.3 s, grace 0.6 s.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import dagster as dg
import pytest
import redis

from eas_pipelines.lanes import stranded
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.lanes.stranded import recover_stranded
from eas_pipelines.recovery import RECOVERY_ACTOR, backoff_delay
from eas_pipelines.routing import Priority
from eas_pipelines.runs import TAG_WORKER, run_tags_for
from eas_pipelines.store import RequestRecord, RequestStore, Status
from eas_pipelines.workers.worker import Action, Worker
from tests.eas_pipelines import lane_jobs

HEARTBEAT_S = 0.1
GRACE_S = stranded.default_grace_s(HEARTBEAT_S)  # 0.6 s
LIVE_HEARTBEAT_S = 5.0  # live workers' own beats: a busy test machine must not make them look dead


def strand(
    store: RequestStore,
    instance: dg.DagsterInstance,
    record: RequestRecord,
    *,
    worker: str | None = "w-dead",
    lane: str = "fast",
    status: dg.DagsterRunStatus = dg.DagsterRunStatus.STARTED,
) -> str:
    """Claim ``record`` under a run of ``worker`` in ``status``, as the workflow's first op would."""
    run_id = str(uuid.uuid4())
    tags = run_tags_for(record, lane=lane)
    if worker is not None:
        tags[TAG_WORKER] = worker
    instance.add_run(
        dg.DagsterRun(job_name=record.workflow or "job", run_id=run_id, tags=tags, status=status)
    )
    store.transition(
        record.id, Status.RUNNING, actor="agent", expected=Status.QUEUED, run_id=run_id, attempt=True
    )
    return run_id


def past_grace() -> None:
    time.sleep(GRACE_S + 0.2)


def retries(store: RequestStore, request_id: str) -> list[tuple[Status | None, Status, str | None]]:
    return [
        (t.from_status, t.to_status, t.reason) for t in store.history(request_id) if t.actor == RECOVERY_ACTOR
    ]


def successes(store: RequestStore, request_id: str) -> int:
    return sum(1 for t in store.history(request_id) if t.to_status is Status.SUCCEEDED)


def run_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The messages of the run's RUN_FAILURE events (one per time it was marked failed)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return [r.event_log_entry.dagster_event.message or "" for r in records]


@pytest.fixture
def sweep(
    request_store: RequestStore, queue: FastQueue, dagster_instance: dg.DagsterInstance
) -> Callable[..., stranded.StrandedReport]:
    """One pass, as the sensor runs it (no ``me``), with the test's short heartbeat and backoff."""

    def run(**options: object) -> stranded.StrandedReport:
        settings: dict = {
            "heartbeat_s": HEARTBEAT_S,
            "max_attempts": 3,
            "actor": "eas/test-pass",
            "backoff_base_s": 0.1,
            "backoff_cap_s": 0.5,
            **options,
        }
        return recover_stranded(request_store, dagster_instance, queue, **settings)

    return run


@pytest.fixture
def make_worker(make_worker: Callable[..., Worker]) -> Callable[..., Worker]:
    """The shared test workers (``lane_support``) as the rescuer, beating at this module's pace."""

    def make(worker_id: str = "w-rescuer", **options: object) -> Worker:
        return make_worker(worker_id, **{"heartbeat_s": HEARTBEAT_S, **options})

    return make


def test_a_request_stranded_by_a_dead_worker_is_recovered_and_then_runs_once(
    sweep: Callable[..., stranded.StrandedReport],
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    stale_run = strand(request_store, dagster_instance, record)
    past_grace()

    report = sweep()

    assert report.requeued == [record.id] and report.failed_runs == [stale_run]
    # The Dagster run is marked FAILED, with the reason, so the UI shows the truth.
    assert dagster_instance.get_run_by_id(stale_run).status is dg.DagsterRunStatus.FAILURE
    (message,) = run_failures(dagster_instance, stale_run)
    assert "worker w-dead stopped heartbeating" in message and "eas/test-pass" in message
    # The request went through the one recovery rule; its history says why.
    requeued = request_store.get(record.id)
    assert requeued.status is Status.QUEUED
    [(from_status, to_status, reason)] = retries(request_store, record.id)
    assert (from_status, to_status) == (Status.RUNNING, Status.QUEUED)
    assert f"worker w-dead gone (no heartbeat); run {stale_run} marked failed" in (reason or "")
    (scheduled,) = [e for e in request_store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert scheduled.detail["worker"] == "w-dead"
    assert scheduled.detail["runs_marked_failed"] == [stale_run]
    assert scheduled.detail["recovered_by"] == "eas/test-pass"
    assert scheduled.detail["delay_s"] == backoff_delay(1, base_s=0.1, cap_s=0.5, key=record.id)
    # Back on the fast lane after its backoff, as attempt 1.
    assert queue.delayed_count() == 1

    worker = make_worker()
    outcome = worker.run_once(block_ms=3000)

    assert outcome is not None and outcome.action is Action.EXECUTED
    assert outcome.task.attempt == 1
    final = request_store.get(record.id)
    assert final.status is Status.SUCCEEDED
    assert final.run_ids == (stale_run, outcome.run_id)
    assert successes(request_store, record.id) == 1
    assert dagster_instance.get_run_by_id(outcome.run_id).status is dg.DagsterRunStatus.SUCCESS
    assert worker.run_once(block_ms=200) is None  # nothing else was queued
    assert sweep().recovered == []  # and nothing is stranded any more


def test_a_request_under_a_live_worker_is_left_alone(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    record = make_request(lane_jobs.HOLD_JOB)
    run_id = strand(request_store, dagster_instance, record, worker="w-alive")
    with Heartbeat(redis_client, "w-alive", LIVE_HEARTBEAT_S, prefix=redis_key_prefix):
        past_grace()  # a long run: the request is past the grace period, its worker beats on

        report = sweep()

    assert report.owned == [record.id] and report.recovered == []
    assert request_store.get(record.id).status is Status.RUNNING
    assert dagster_instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED
    assert retries(request_store, record.id) == []
    assert queue.delayed_count() == 0


def test_a_request_claimed_a_moment_ago_is_not_judged(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    # Its worker's first beat may not have landed yet: within the grace nothing is judged.
    run_id = strand(request_store, dagster_instance, record, worker="w-starting")

    report = sweep(grace_s=30.0)

    assert report.recovered == [] and report.owned == []
    assert request_store.get(record.id).status is Status.RUNNING
    assert dagster_instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED
    # The next pass is due when this request can be judged, not a whole period later.
    assert report.retry_in_s is not None and 20.0 < report.retry_in_s <= 30.0


def test_a_grace_shorter_than_two_heartbeat_ttls_is_refused(
    sweep: Callable[..., stranded.StrandedReport],
) -> None:
    with pytest.raises(ValueError, match="heartbeat TTLs"):
        sweep(grace_s=0.5)


@pytest.mark.parametrize("lane", ["standard", "fast-fallback"])
def test_a_run_dagster_still_owns_is_left_alone(
    lane: str,
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.HOLD_JOB)
    run_id = strand(request_store, dagster_instance, record, worker=None, lane=lane)
    past_grace()

    report = sweep()

    assert report.owned == [record.id] and report.recovered == []
    assert request_store.get(record.id).status is Status.RUNNING
    assert dagster_instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED


def test_a_standard_lane_run_that_ended_without_settling_its_request_is_recovered(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    grace = 2.0  # wide enough that a busy machine cannot make "just now" look long ago
    record = make_request(lane_jobs.HOLD_JOB)
    run_id = strand(request_store, dagster_instance, record, worker=None, lane="standard")
    time.sleep(grace + 0.2)
    dagster_instance.report_run_canceled(dagster_instance.get_run_by_id(run_id), message="operator")

    assert sweep(grace_s=grace).settling == [record.id]  # ended just now: its own handling goes first
    time.sleep(grace + 0.2)
    report = sweep(grace_s=grace)

    assert report.requeued == [record.id] and report.failed_runs == []
    [(_, _, reason)] = retries(request_store, record.id)
    assert f"run {run_id} ended CANCELED without settling it" in (reason or "")


def test_a_request_whose_run_is_unknown_to_dagster_is_recovered(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    request_store.transition(
        record.id, Status.RUNNING, actor="agent", expected=Status.QUEUED, run_id="lost-run", attempt=True
    )
    past_grace()

    report = sweep()

    assert report.requeued == [record.id]
    [(_, _, reason)] = retries(request_store, record.id)
    assert "its run lost-run is unknown to this Dagster instance" in (reason or "")


def test_the_last_allowed_attempt_fails_the_request_for_good(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    strand(request_store, dagster_instance, record)
    past_grace()

    report = sweep(max_attempts=1)

    assert report.failed == [record.id]
    final = request_store.get(record.id)
    assert final.status is Status.FAILED and "worker w-dead gone" in (final.last_error or "")
    assert [e.action for e in request_store.audit_trail(record.id)].count("retry.exhausted") == 1
    assert queue.delayed_count() == 0


def test_two_concurrent_passes_recover_a_request_once(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    run_id = strand(request_store, dagster_instance, record)
    past_grace()
    barrier = threading.Barrier(2)
    reports: list[stranded.StrandedReport] = []

    def one_pass(actor: str) -> None:
        barrier.wait()
        reports.append(sweep(actor=actor))

    threads = [threading.Thread(target=one_pass, args=(f"eas/pass-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(len(r.requeued) for r in reports) == [0, 1]
    assert len(retries(request_store, record.id)) == 1  # one retry entry in the history
    assert [e.action for e in request_store.audit_trail(record.id)].count("retry.scheduled") == 1
    assert queue.delayed_count() == 1  # one enqueue
    assert len(run_failures(dagster_instance, run_id)) == 1  # the run marked failed once


def test_a_pass_racing_a_worker_that_reclaimed_the_entry_recovers_it_once(
    sweep: Callable[..., stranded.StrandedReport],
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    """The entry survived (Redis kept it): the reclaim path and the pass both see the dead worker."""
    record = make_request(lane_jobs.QUICK_JOB)
    queue.enqueue(record.id, Priority.P1)
    assert queue.dequeue("w-dead") is not None  # delivered to the worker that then died
    stale_run = strand(request_store, dagster_instance, record)
    past_grace()

    assert sweep().requeued == [record.id]
    outcome = make_worker(visibility_timeout_s=0.05).run_once(block_ms=0)  # reclaims the old entry

    assert outcome is not None and outcome.action is Action.EXECUTED
    assert outcome.task.delivery_count == 2
    assert len(retries(request_store, record.id)) == 1
    assert successes(request_store, record.id) == 1
    assert request_store.get(record.id).run_ids == (stale_run, outcome.run_id)


def test_right_after_a_redis_restart_absent_heartbeats_prove_nothing(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    run_id = strand(request_store, dagster_instance, record, worker="w-maybe-alive")
    past_grace()

    report = sweep(uptime=lambda _client: 0.1)  # Redis up 0.1 s: a live worker may not have beaten

    assert report.deferred == [record.id] and report.recovered == []
    assert report.retry_in_s == pytest.approx(3 * HEARTBEAT_S - 0.1)
    assert dagster_instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED
    assert sweep(uptime=lambda _client: 60.0).requeued == [record.id]


def test_a_queued_retry_whose_entry_was_lost_goes_back_on_the_queue_once(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    strand(request_store, dagster_instance, record)
    past_grace()
    assert sweep().requeued == [record.id]
    queue.delete_all([*queue.streams, queue.delayed_key, queue.dedup_key(record.id, 1)])  # Redis lost it
    past_grace()

    first, second = sweep(), sweep()

    assert first.reenqueued == [record.id] and second.reenqueued == []
    assert queue.delayed_count() + sum(queue.depth().values()) == 1


def test_a_worker_recovers_stranded_requests_at_start_up_before_taking_work(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = make_request(lane_jobs.QUICK_JOB)
    stale_run = strand(request_store, dagster_instance, record)
    past_grace()
    worker = make_worker(stranded_every_s=None)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while request_store.get(record.id).status is not Status.SUCCEEDED:
            assert time.monotonic() < deadline, "the stranded request never ran again"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)

    final = request_store.get(record.id)
    assert final.run_ids[0] == stale_run and len(final.run_ids) == 2
    assert successes(request_store, record.id) == 1
    [(_, _, reason)] = retries(request_store, record.id)
    assert "worker w-dead gone" in (reason or "")
    (scheduled,) = [e for e in request_store.audit_trail(record.id) if e.action == "retry.scheduled"]
    assert scheduled.detail["recovered_by"] == "worker:w-rescuer"


def test_a_worker_runs_the_pass_periodically_between_tasks(
    make_worker: Callable[..., Worker],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
) -> None:
    worker = make_worker(stranded_every_s=0.5)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        record = make_request(lane_jobs.QUICK_JOB)
        strand(request_store, dagster_instance, record)  # stranded after the start-up pass
        deadline = time.monotonic() + 60
        while request_store.get(record.id).status is not Status.SUCCEEDED:
            assert time.monotonic() < deadline, "the periodic pass never recovered it"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert successes(request_store, record.id) == 1


def test_a_stranded_request_behind_a_page_of_long_live_runs_is_still_found(
    sweep: Callable[..., stranded.StrandedReport],
    make_request: Callable[..., RequestRecord],
    request_store: RequestStore,
    dagster_instance: dg.DagsterInstance,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stranded, "PAGE", 2)
    long_runs = [make_request(lane_jobs.HOLD_JOB) for _ in range(3)]
    for record in long_runs:
        strand(request_store, dagster_instance, record, worker="w-busy")
    lost = make_request(lane_jobs.QUICK_JOB)
    strand(request_store, dagster_instance, lost)  # the newest of the four: on the second page
    with Heartbeat(redis_client, "w-busy", LIVE_HEARTBEAT_S, prefix=redis_key_prefix):
        past_grace()

        report = sweep()

    assert sorted(report.owned) == sorted(r.id for r in long_runs)
    assert report.requeued == [lost.id]
