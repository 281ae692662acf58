"""Worker liveness: each warm worker keeps a key with a TTL alive; no key, no worker.

Why a TTL key and not a registry the worker removes itself from: a worker killed with SIGKILL, or
on a node that vanished, removes nothing. Its key simply expires three beats later (one late beat
is tolerated, two are not), and the standard-lane sensor stops counting on it and sends fast-lane
work to Dagster's own queue instead. A worker that stops gracefully deletes its key at once.

Key: ``{prefix}workers:<worker_id>`` (``prefix`` defaults to ``eas:``), value a small JSON document
(pid, host, start time, last beat, the request in progress) for operators; TTL = 3 × the interval.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "eas:"
TTL_BEATS = 3
_GLOB_SPECIALS = "\\*?[]"


def worker_key(worker_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}workers:{worker_id}"


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in _GLOB_SPECIALS else c for c in text)


def live_workers(client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Ids of the workers whose heartbeat key has not expired, sorted.

    A ``SCAN`` rather than ``KEYS`` so that a large keyspace is not blocked while it is walked.
    """
    head = worker_key("", prefix)
    ids = {
        (key.decode() if isinstance(key, bytes) else key)[len(head) :]
        for key in client.scan_iter(match=f"{_glob_escape(head)}*", count=1000)
    }
    return sorted(ids)


def is_live(client: redis.Redis, worker_id: str, prefix: str = DEFAULT_PREFIX) -> bool:
    """Whether ``worker_id``'s heartbeat key still exists (one ``EXISTS``, for a single worker)."""
    return bool(client.exists(worker_key(worker_id, prefix)))


def worker_info(client: redis.Redis, worker_id: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any] | None:
    """What a live worker last said about itself, or None when its heartbeat has expired."""
    raw = client.get(worker_key(worker_id, prefix))
    return json.loads(raw) if raw else None


class Heartbeat:
    """A background thread that refreshes ``{prefix}workers:<worker_id>`` every ``interval_s``.

    ``on_beat`` runs on every beat too: the worker uses it to extend its lease on the task in
    progress (see :meth:`FastQueue.touch`), so that the same clock that proves the worker alive
    keeps its work from being reclaimed. Errors (Redis briefly unreachable) are logged and the
    thread keeps beating: a worker is not killed by a blip, it just looks dead for a moment.
    """

    def __init__(
        self,
        client: redis.Redis,
        worker_id: str,
        interval_s: float = 5.0,
        *,
        prefix: str = DEFAULT_PREFIX,
        on_beat: Callable[[], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.client = client
        self.worker_id = worker_id
        self.interval_s = float(interval_s)
        self.ttl_s = self.interval_s * TTL_BEATS
        self.key = worker_key(worker_id, prefix)
        self.on_beat = on_beat
        self.current: str | None = None
        self.current_entry: str | None = None
        self._started_at = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _document(self) -> str:
        return json.dumps(
            {
                "worker_id": self.worker_id,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": self._started_at,
                "beat_at": time.time(),
                "current_request": self.current,
                "current_entry": self.current_entry,
            }
        )

    def publish(self, current: str | None = None, current_entry: str | None = None) -> None:
        """Say now what the worker works on (request id, queue entry id), without waiting for a beat.

        Another worker that reclaims an idle entry reads this to tell "the owner is alive and on it"
        (hand it back) from "the owner is alive but this entry is a stray duplicate" (drop it).
        """
        self.current, self.current_entry = current, current_entry
        self.client.set(self.key, self._document(), px=max(1, int(self.ttl_s * 1000)))

    def beat(self) -> None:
        """Refresh the key now (and run ``on_beat``); also called once by :meth:`start`."""
        self.client.set(self.key, self._document(), px=max(1, int(self.ttl_s * 1000)))
        if self.on_beat is not None:
            self.on_beat()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - keep beating; the next beat may succeed
                log.warning("worker %s: heartbeat failed", self.worker_id, exc_info=True)

    def start(self) -> Heartbeat:
        """Beat once now (so the worker counts as live before it takes work), then in the background."""
        if self._thread is not None:
            return self
        self._stop.clear()
        self.beat()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.worker_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, remove: bool = True) -> None:
        """Stop beating; with ``remove`` delete the key so the worker stops counting as live at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)
            self._thread = None
        if remove:
            try:
                self.client.delete(self.key)
            except redis.RedisError:
                log.warning("worker %s: could not remove heartbeat key", self.worker_id, exc_info=True)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
