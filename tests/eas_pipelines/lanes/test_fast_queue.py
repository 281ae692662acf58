"""The fast queue against a real Redis: priority order, acknowledgement, reclaim, dedup, dead letters."""

from __future__ import annotations

import threading
import time

import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.routing import Priority

P0, P1, P2 = Priority.P0, Priority.P1, Priority.P2


def drain(queue: FastQueue, consumer: str = "w1") -> list[str]:
    ids = []
    while (task := queue.dequeue(consumer)) is not None:
        ids.append(task.request_id)
        queue.ack(task)
    return ids


def test_dequeue_serves_p0_then_p1_then_p2(queue: FastQueue) -> None:
    queue.enqueue("r-p2", P2)
    queue.enqueue("r-p1", P1)
    queue.enqueue("r-p0", P0)

    tasks = [queue.dequeue("w1") for _ in range(3)]

    assert [t.request_id for t in tasks if t] == ["r-p0", "r-p1", "r-p2"]
    assert [t.priority for t in tasks if t] == [P0, P1, P2]
    assert queue.dequeue("w1") is None


def test_p0_jumps_a_backlog_and_order_within_a_priority_is_fifo(queue: FastQueue) -> None:
    for i in range(50):
        queue.enqueue(f"bg-{i}", P2)
        queue.enqueue(f"std-{i}", P1)
    first = queue.dequeue("w1")
    assert first is not None and first.request_id == "std-0"
    queue.ack(first)

    queue.enqueue("urgent", P0)

    served = drain(queue)
    assert served[0] == "urgent"
    assert served[1:50] == [f"std-{i}" for i in range(1, 50)]
    assert served[50:] == [f"bg-{i}" for i in range(50)]


def test_ack_removes_the_entry(queue: FastQueue, redis_client: redis.Redis) -> None:
    queue.enqueue("r1", P1)
    assert queue.depth() == {P0: 0, P1: 1, P2: 0}
    task = queue.dequeue("w1")
    assert task is not None and task.delivery_count == 1
    assert queue.depth()[P1] == 0
    assert queue.pending_count()[P1] == 1

    assert queue.ack(task) is True

    assert queue.pending_count()[P1] == 0
    assert redis_client.xlen(queue.stream_for(P1)) == 0
    assert queue.ack(task) is False  # a second ack is harmless
    assert queue.reclaim("w2", min_idle_ms=0) == []


def test_unacked_task_is_reclaimed_by_another_consumer_after_min_idle(queue: FastQueue) -> None:
    queue.enqueue("r1", P1)
    taken = queue.dequeue("dead-worker")
    assert taken is not None

    assert queue.reclaim("w2", min_idle_ms=60_000) == []  # not idle long enough yet
    time.sleep(0.25)
    reclaimed = queue.reclaim("w2", min_idle_ms=200)

    assert [t.request_id for t in reclaimed] == ["r1"]
    again = reclaimed[0]
    assert again.entry_id == taken.entry_id
    assert again.consumer == "w2"
    assert again.delivery_count == 2
    assert queue.dequeue("w3") is None  # reclaiming does not make it new again
    assert queue.ack(again)
    assert queue.pending_count() == {P0: 0, P1: 0, P2: 0}


def test_reclaim_serves_p0_first(queue: FastQueue) -> None:
    queue.enqueue("low", P2)
    queue.enqueue("high", P0)
    assert queue.dequeue("dead") is not None
    assert queue.dequeue("dead") is not None
    time.sleep(0.05)
    assert [t.request_id for t in queue.reclaim("w2", min_idle_ms=10)] == ["high", "low"]


def test_touch_keeps_a_live_workers_task_from_being_reclaimed(queue: FastQueue) -> None:
    queue.enqueue("long-job", P1)
    task = queue.dequeue("alive")
    assert task is not None
    time.sleep(0.3)
    assert queue.touch(task) is True
    assert queue.reclaim("w2", min_idle_ms=250) == []

    time.sleep(0.3)
    [stolen] = queue.reclaim("w2", min_idle_ms=250)
    assert queue.touch(task) is False  # the lease is lost: the old holder must not take it back
    queue.give_back(stolen, "alive")
    assert queue.touch(task) is True


def test_double_enqueue_is_one_delivery(queue: FastQueue) -> None:
    first = queue.enqueue("r1", P1, attempt=0)
    second = queue.enqueue("r1", P1, attempt=0)
    retry = queue.enqueue("r1", P1, attempt=1)

    assert first == second
    assert retry != first
    assert [t for t in drain(queue)] == ["r1", "r1"]  # attempt 0 once, attempt 1 once


def test_concurrent_double_enqueue_is_one_entry(queue: FastQueue, redis_client: redis.Redis) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def enqueue() -> None:
        barrier.wait()
        ids.append(queue.enqueue("r1", P0))

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 1
    assert redis_client.xlen(queue.stream_for(P0)) == 1


def test_delayed_enqueue_is_served_when_due(queue: FastQueue) -> None:
    entry = queue.enqueue("retry", P1, attempt=1, delay_s=0.4)
    assert entry.startswith("delayed:")
    assert queue.delayed_count() == 1
    assert queue.dequeue("w1") is None

    started = time.monotonic()
    task = queue.dequeue("w1", block_ms=3000)
    waited = time.monotonic() - started

    assert task is not None and (task.request_id, task.attempt) == ("retry", 1)
    assert 0.2 < waited < 1.5  # woke when due, not at the end of the block
    assert queue.delayed_count() == 0


def test_blocking_dequeue_wakes_on_enqueue(queue: FastQueue) -> None:
    timer = threading.Timer(0.2, lambda: queue.enqueue("late", P2))
    timer.start()
    started = time.monotonic()
    task = queue.dequeue("w1", block_ms=3000)
    assert task is not None and task.request_id == "late"
    assert time.monotonic() - started < 1.5
    assert queue.dequeue("w1", block_ms=100) is None


def test_a_p0_arriving_after_a_multi_stream_wake_up_is_served_before_the_buffered_entries(
    queue: FastQueue, redis_client: redis.Redis
) -> None:
    def arrive_together() -> None:
        # One transaction: the blocked read wakes with an entry on each of the two streams.
        with redis_client.pipeline(transaction=True) as pipe:
            pipe.xadd(queue.stream_for(P2), {"request_id": "p2", "attempt": 0})
            pipe.xadd(queue.stream_for(P1), {"request_id": "p1", "attempt": 0})
            pipe.execute()

    queue.ensure_groups()
    timer = threading.Timer(0.2, arrive_together)
    timer.start()
    first = queue.dequeue("w1", block_ms=3000)
    timer.join()
    assert first is not None and first.request_id == "p1"
    assert [t.request_id for t in queue.buffered("w1")] == ["p2"]

    queue.enqueue("urgent", P0)

    assert [t.request_id for t in (queue.dequeue("w1"), queue.dequeue("w1"))] == ["urgent", "p2"]
    assert queue.dequeue("w1") is None and queue.buffered("w1") == []


def test_poison_entry_is_dead_lettered_after_n_deliveries(queue: FastQueue) -> None:
    max_deliveries = 3
    queue.enqueue("poison", P1, attempt=2)
    task = queue.dequeue("w0")
    assert task is not None
    for n in range(1, 5):
        time.sleep(0.02)
        [task] = queue.reclaim(f"w{n}", min_idle_ms=10)
        assert task.delivery_count == n + 1
        if task.delivery_count > max_deliveries:
            break
    assert task.delivery_count == max_deliveries + 1

    queue.dead_letter(task, "killed every worker")

    [dead] = queue.dead_letters()
    assert dead["request_id"] == "poison"
    assert dead["attempt"] == "2"
    assert dead["delivery_count"] == str(max_deliveries + 1)
    assert dead["reason"] == "killed every worker"
    assert queue.pending_count()[P1] == 0
    assert queue.reclaim("w9", min_idle_ms=0) == []


def test_a_deleted_stream_and_group_are_recreated(queue: FastQueue, redis_client: redis.Redis) -> None:
    redis_client.delete(*queue.streams)
    queue.enqueue("after-flush", P1)  # XADD recreates the stream, without the group
    task = queue.dequeue("w1")
    assert task is not None and task.request_id == "after-flush"


def test_entries_added_before_the_group_existed_are_delivered(
    redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    redis_client.xadd(f"{redis_key_prefix}fast:p1", {"request_id": "early", "attempt": "0"})
    queue = FastQueue(redis_client, prefix=redis_key_prefix)
    task = queue.dequeue("w1")
    assert task is not None and task.request_id == "early"
