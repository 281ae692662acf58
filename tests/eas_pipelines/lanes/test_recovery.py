"""The recovery rule shared by the worker and the failure sensor, against the real store."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest

from eas_pipelines.recovery import RECOVERY_ACTOR, apply_recovery, backoff_delay, recover, retries_so_far
from eas_pipelines.store import RequestRecord, RequestStore, Status

MAX_ATTEMPTS = 3


def start(store: RequestStore, request_id: str, run_id: str) -> RequestRecord:
    """What the workflow's first op does."""
    return store.transition(
        request_id, Status.RUNNING, actor="agent", expected=Status.QUEUED, run_id=run_id, attempt=True
    )


def test_failed_runs_are_retried_until_max_attempts_then_failed(
    request_store: RequestStore, make_request: Callable[..., RequestRecord]
) -> None:
    record = make_request("any_job")
    statuses = []
    for n in range(1, MAX_ATTEMPTS + 1):
        start(request_store, record.id, f"run-{n}")
        statuses.append(recover(request_store, record.id, f"boom {n}", MAX_ATTEMPTS, run_id=f"run-{n}"))

    assert statuses == [Status.QUEUED, Status.QUEUED, Status.FAILED]
    final = request_store.get(record.id)
    assert final.last_error == "boom 3"
    assert final.attempts == MAX_ATTEMPTS
    assert retries_so_far(request_store, record.id) == MAX_ATTEMPTS - 1
    requeues = [t for t in request_store.history(record.id) if t.actor == RECOVERY_ACTOR]
    assert [t.to_status for t in requeues] == [Status.QUEUED, Status.QUEUED, Status.FAILED]


def test_a_run_that_paused_for_approval_does_not_use_up_a_retry(
    request_store: RequestStore, make_request: Callable[..., RequestRecord]
) -> None:
    record = make_request("any_job")
    start(request_store, record.id, "run-1")
    request_store.transition(record.id, Status.AWAITING_APPROVAL, actor="agent")
    request_store.transition(record.id, Status.APPROVED, actor="boss")
    request_store.transition(record.id, Status.QUEUED, actor="approvals")
    start(request_store, record.id, "run-2")
    assert request_store.get(record.id).attempts == 2

    assert recover(request_store, record.id, "boom", 2, run_id="run-2") is Status.QUEUED


def test_nothing_happens_to_a_request_that_is_not_running(
    request_store: RequestStore, make_request: Callable[..., RequestRecord]
) -> None:
    record = make_request("any_job")
    start(request_store, record.id, "run-1")
    request_store.transition(record.id, Status.SUCCEEDED, actor="agent")

    outcome = apply_recovery(request_store, record.id, "late failure event", MAX_ATTEMPTS, run_id="run-1")

    assert (outcome.status, outcome.changed) == (Status.SUCCEEDED, False)


def test_a_failure_of_an_older_run_leaves_the_current_run_alone(
    request_store: RequestStore, make_request: Callable[..., RequestRecord]
) -> None:
    record = make_request("any_job")
    start(request_store, record.id, "run-1")
    recover(request_store, record.id, "worker died", MAX_ATTEMPTS, run_id="run-1")
    start(request_store, record.id, "run-2")

    # The failure sensor sees run-1's failure only now: run-2 owns the request.
    outcome = apply_recovery(request_store, record.id, "run-1 failed", MAX_ATTEMPTS, run_id="run-1")

    assert (outcome.status, outcome.changed) == (Status.RUNNING, False)


def test_two_callers_recovering_the_same_failure_move_it_once(
    request_store: RequestStore, make_request: Callable[..., RequestRecord]
) -> None:
    record = make_request("any_job")
    start(request_store, record.id, "run-1")
    barrier = threading.Barrier(2)
    outcomes = []

    def call() -> None:
        barrier.wait()
        outcomes.append(apply_recovery(request_store, record.id, "boom", MAX_ATTEMPTS, run_id="run-1"))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.changed for o in outcomes) == [False, True]
    assert all(o.status is Status.QUEUED for o in outcomes)
    assert retries_so_far(request_store, record.id) == 1


@pytest.mark.parametrize("retries", [1, 2, 3, 6, 20])
def test_backoff_is_exponential_capped_and_jittered(retries: int) -> None:
    rng = random.Random(retries)
    step = min(60.0, 2.0 * 2 ** (retries - 1))
    delays = [backoff_delay(retries, base_s=2.0, cap_s=60.0, rng=rng) for _ in range(200)]
    assert all(step / 2 <= d <= step for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not constant


def test_keyed_backoff_is_the_same_for_every_caller_and_still_spread_across_requests() -> None:
    keyed = [backoff_delay(2, base_s=10.0, cap_s=300.0, key=f"request-{n}") for n in range(200)]
    assert all(10.0 <= d <= 20.0 for d in keyed)
    assert len({round(d, 6) for d in keyed}) > 100  # spread across requests...
    assert backoff_delay(2, base_s=10.0, key="request-7") == keyed[7]  # ...recomputable for one


def test_the_cap_never_shortens_a_configured_first_step() -> None:
    assert 1800 <= backoff_delay(1, base_s=3600.0, cap_s=300.0, key="r") <= 3600
    assert backoff_delay(5, base_s=3600.0, cap_s=300.0, key="r") <= 3600
