"""Worker heartbeats against a real Redis: liveness, expiry of a dead worker, removal on stop."""

from __future__ import annotations

import threading
import time

import redis

from eas_pipelines.lanes.heartbeat import Heartbeat, is_live, live_workers, worker_info


def test_started_worker_is_live_and_describes_itself(
    redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    beat = Heartbeat(redis_client, "w-1", 0.2, prefix=redis_key_prefix).start()
    try:
        beat.current = "req-42"
        time.sleep(0.3)
        assert live_workers(redis_client, redis_key_prefix) == ["w-1"]
        assert is_live(redis_client, "w-1", redis_key_prefix)
        info = worker_info(redis_client, "w-1", redis_key_prefix)
        assert info is not None and info["worker_id"] == "w-1" and info["current_request"] == "req-42"
        ttl_ms = redis_client.pttl(f"{redis_key_prefix}workers:w-1")
        assert 0 < ttl_ms <= 600  # 3 beats
    finally:
        beat.stop()


def test_a_worker_that_stops_beating_expires_after_three_beats(
    redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    live = Heartbeat(redis_client, "alive", 0.2, prefix=redis_key_prefix).start()
    dying = Heartbeat(redis_client, "dying", 0.2, prefix=redis_key_prefix).start()
    try:
        time.sleep(0.3)
        dying.stop(remove=False)  # as if killed: nothing deletes its key
        assert live_workers(redis_client, redis_key_prefix) == ["alive", "dying"]
        time.sleep(0.75)
        assert live_workers(redis_client, redis_key_prefix) == ["alive"]
        assert not is_live(redis_client, "dying", redis_key_prefix)
    finally:
        live.stop()


def test_graceful_stop_removes_the_key_at_once(redis_client: redis.Redis, redis_key_prefix: str) -> None:
    with Heartbeat(redis_client, "w-1", 10, prefix=redis_key_prefix):
        assert live_workers(redis_client, redis_key_prefix) == ["w-1"]
    assert live_workers(redis_client, redis_key_prefix) == []


def test_live_workers_ignores_other_prefixes(redis_client: redis.Redis, redis_key_prefix: str) -> None:
    other = f"{redis_key_prefix}other:"
    with (
        Heartbeat(redis_client, "mine", 10, prefix=redis_key_prefix),
        Heartbeat(redis_client, "theirs", 10, prefix=other),
    ):
        assert live_workers(redis_client, redis_key_prefix) == ["mine"]
        assert live_workers(redis_client, other) == ["theirs"]


def test_every_beat_runs_on_beat_and_survives_its_errors(
    redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    calls: list[float] = []
    third = threading.Event()

    def on_beat() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("redis blip")
        if len(calls) >= 3:
            third.set()

    with Heartbeat(redis_client, "w-1", 0.1, prefix=redis_key_prefix, on_beat=on_beat):
        assert third.wait(2.0)
        assert is_live(redis_client, "w-1", redis_key_prefix)
