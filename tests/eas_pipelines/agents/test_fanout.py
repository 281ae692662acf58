"""The bulk fan-out (eas_pipelines.agents.fanout): batching, per-item isolation, the parent's summary.

A small fan-out job of the test's own runs numbered items through an item function that refuses
one, fails another on every attempt and records how many items were in flight at once; the rules
(batching, outcome classification, summary) are tested as plain functions.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from eas_pipelines.agents.common import Step, WorkItem, workflow_step
from eas_pipelines.agents.fanout import (
    BatchResult,
    FanoutBatch,
    FanoutItem,
    FanoutPlan,
    ItemOutcome,
    ItemRefused,
    batches_of,
    fanout_job,
    fanout_run_config,
    run_item,
    summarize,
)
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.runs import run_tags_for
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request
from tests.eas_pipelines.notifications_support import received

INTENT = "communication.announcement"


def work_item(request_id: str = "r1") -> WorkItem:
    return WorkItem(request_id, "communication", INTENT, "x", "c", 2, (), 1, "run")


def entries(count: int) -> tuple[FanoutItem, ...]:
    return tuple(FanoutItem(str(n), f"item-{n}") for n in range(count))


def test_batches_hold_at_most_the_batch_size_in_order():
    chunks = batches_of(entries(250), 100)
    assert [len(chunk) for chunk in chunks] == [100, 100, 50]
    assert [e.key for chunk in chunks for e in chunk] == [str(n) for n in range(250)]
    assert batches_of((), 100) == []
    with pytest.raises(ValueError):
        batches_of(entries(3), 0)


def test_an_item_outcome_keeps_its_failure_to_itself():
    batch = FanoutBatch(work_item(), "item", 0, 1, entries(3), {}, 1)

    def fn(entry: FanoutItem, batch: FanoutBatch) -> str:
        if entry.key == "0":
            raise ItemRefused("not allowed")
        if entry.key == "1":
            raise VendorRejected("slack: chat.postMessage: channel_not_found", code="channel_not_found")
        return f"ref-{entry.key}-{batch.key(entry)}"

    def broken(entry: FanoutItem, batch: FanoutBatch) -> str:
        raise ConnectionError("connection refused")

    refused, rejected, done = (run_item(fn, entry, batch, {}) for entry in batch.entries)
    assert (refused.outcome, refused.detail) == ("refused", "not allowed")
    assert rejected.outcome == "refused" and "channel_not_found" in rejected.detail
    assert (done.outcome, done.detail, done.ok) == ("done", "ref-2-r1:item:2", True)
    error = run_item(broken, batch.entries[0], batch, {})
    assert (error.outcome, error.detail) == ("error", "ConnectionError: connection refused")


def test_the_summary_counts_every_batch_and_lists_the_failures():
    item = work_item()
    first = BatchResult(item, "recipient", 0, (ItemOutcome("a", "#a", "done", "1"),), {"x": 1})
    second = BatchResult(
        item,
        "recipient",
        1,
        (ItemOutcome("b", "#b", "refused", "no such channel"), ItemOutcome("c", "#c", "done", "2")),
        {"x": 1},
    )
    summary = summarize([second, first])
    assert (summary.total, summary.succeeded, summary.failed) == (3, 2, 1)
    assert summary.line() == "2 of 3 recipients done, 1 failed"
    assert summary.failure_lines() == ["#b: no such channel"]
    assert summary.failure_lines(limit=0) == ["... and 1 more"]


# -- a fan-out job end to end -------------------------------------------------------------------


class Probe:
    """What the test item function saw: calls per item and the most items in flight at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.peak = 0
        self.fail_always: set[str] = set()


PROBE = Probe()


@workflow_step(FanoutPlan)
def plan_numbers(item: WorkItem) -> Step:
    """One item per number up to the request's quantity entity; refused without one."""
    count = item.value("quantity")
    if not count:
        return Step.refused("no quantity")
    items = tuple(FanoutItem(f"n{n}", f"number {n}", {"n": n}) for n in range(int(count)))
    return Step.passed(FanoutPlan(item, "number", items, {"unit": "x"}), "numbers.planned", count=count)


def handle_number(entry: FanoutItem, batch: FanoutBatch) -> str:
    """Refuses 3, fails on 5 as the probe says, else answers after a short wait."""
    with PROBE.lock:
        PROBE.calls[entry.key] = PROBE.calls.get(entry.key, 0) + 1
        PROBE.in_flight += 1
        PROBE.peak = max(PROBE.peak, PROBE.in_flight)
    try:
        time.sleep(0.02)
        if entry.payload["n"] == 3:
            raise ItemRefused("three is refused")
        if entry.key in PROBE.fail_always:
            raise ConnectionError("vendor down")
        return f"{batch.shared['unit']}{entry.payload['n']}"
    finally:
        with PROBE.lock:
            PROBE.in_flight -= 1


number_fanout = fanout_job(
    name="test_number_fanout",
    agent="communication",
    description="numbers, fanned out",
    plan=(plan_numbers,),
    item=handle_number,
    prefix="numbers",
)


def run(job, record, instance, resources, store, **config):
    return job.execute_in_process(
        run_config=fanout_run_config(job, record.id, **config),
        instance=instance,
        resources=resources,
        tags=run_tags_for(store.get(record.id)),
        raise_on_error=False,
    )


@pytest.fixture
def probe():
    PROBE.calls.clear()
    PROBE.peak = PROBE.in_flight = 0
    PROBE.fail_always.clear()
    return PROBE


def numbers_request(store, count: int):
    text = f"announce {count} things to {uuid.uuid4().hex[:6]}"
    return queued_request(store, text, INTENT, [entity(text, "quantity", str(count))])


def test_items_run_in_batches_isolated_and_summarised(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, probe
):
    record = numbers_request(store, 7)
    result = run(number_fanout, record, dagster_instance, eas_resources, store, batch_size=3)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    assert set(probe.calls) == {f"n{n}" for n in range(7)}
    assert probe.peak <= 3  # never more than a batch in flight
    batches = result.output_for_node("numbers_batch")
    assert sorted(batches) == ["batch_00000", "batch_00001", "batch_00002"]
    assert [len(b.outcomes) for _, b in sorted(batches.items())] == [3, 3, 1]
    trail = store.audit_trail(record.id)
    planned = next(e for e in trail if e.action == "fanout.planned")
    assert (planned.detail["items"], planned.detail["batches"], planned.detail["batch_size"]) == (7, 3, 3)
    assert sum(1 for e in trail if e.action == "fanout.batch") == 3
    completed = next(e for e in trail if e.action == "fanout.completed")
    assert (completed.detail["total"], completed.detail["succeeded"], completed.detail["failed"]) == (7, 6, 1)
    assert completed.detail["failures"] == [{"target": "number 3", "reason": "three is refused"}]
    assert store.history(record.id)[-1].reason == "6 of 7 numbers done, 1 failed"
    (report,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert "6 of 7 numbers done, 1 failed" in report.text and "number 3: three is refused" in report.text


def test_an_item_that_keeps_failing_is_retried_with_its_batch_then_reported(
    store, eas_resources, dagster_instance, probe
):
    probe.fail_always.add("n5")
    record = numbers_request(store, 6)
    result = run(number_fanout, record, dagster_instance, eas_resources, store, batch_size=4)

    assert result.success
    assert probe.calls["n5"] == 4 and probe.calls["n0"] == 1  # n5's batch ran 4 times, n0's once
    completed = next(e for e in store.audit_trail(record.id) if e.action == "fanout.completed")
    assert (completed.detail["succeeded"], completed.detail["failed"]) == (4, 2)
    reasons = {f["target"]: f["reason"] for f in completed.detail["failures"]}
    assert reasons == {"number 3": "three is refused", "number 5": "ConnectionError: vendor down"}
    assert store.get(record.id).status is Status.SUCCEEDED


def test_a_batch_in_which_everything_fails_fails_the_run(store, eas_resources, dagster_instance, probe):
    probe.fail_always.update({"n0", "n1"})
    record = numbers_request(store, 2)
    result = run(number_fanout, record, dagster_instance, eas_resources, store)

    assert not result.success  # the connector looks down: the failure sensor takes over
    assert probe.calls == {"n0": 4, "n1": 4}
    assert store.get(record.id).status is Status.RUNNING
    assert not any(e.action == "fanout.completed" for e in store.audit_trail(record.id))


def test_a_plan_refusal_sends_nothing(store, eas_resources, dagster_instance, probe):
    text = "announce nothing"
    record = queued_request(store, text, INTENT, [])
    result = run(number_fanout, record, dagster_instance, eas_resources, store)

    assert result.success
    assert probe.calls == {}
    failed = store.get(record.id)
    assert (failed.status, failed.last_error) == (Status.FAILED, "no quantity")
