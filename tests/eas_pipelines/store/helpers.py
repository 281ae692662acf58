"""Helpers for the store tests: fresh requests and a way to drive one into any status."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eas_pipelines.store import Lane, Priority, RequestRecord, RequestStore, Status

S = Status

# A shortest legal path from ``received`` to each status.
PATHS: dict[Status, list[Status]] = {
    S.RECEIVED: [],
    S.CLASSIFIED: [S.CLASSIFIED],
    S.NEEDS_REVIEW: [S.NEEDS_REVIEW],
    S.QUEUED: [S.CLASSIFIED, S.QUEUED],
    S.RUNNING: [S.CLASSIFIED, S.QUEUED, S.RUNNING],
    S.AWAITING_APPROVAL: [S.CLASSIFIED, S.QUEUED, S.RUNNING, S.AWAITING_APPROVAL],
    S.APPROVED: [S.CLASSIFIED, S.QUEUED, S.RUNNING, S.AWAITING_APPROVAL, S.APPROVED],
    S.REJECTED: [S.CLASSIFIED, S.QUEUED, S.RUNNING, S.AWAITING_APPROVAL, S.REJECTED],
    S.SUCCEEDED: [S.CLASSIFIED, S.QUEUED, S.RUNNING, S.SUCCEEDED],
    S.FAILED: [S.CLASSIFIED, S.QUEUED, S.RUNNING, S.FAILED],
    S.CANCELLED: [S.CANCELLED],
}

ROUTING = {
    "intent": "invoice.process",
    "confidence": 0.97,
    "agent": "finance",
    "workflow": "process_invoice",
    "priority": Priority.P1,
    "lane": Lane.FAST,
}


def new_request(
    store: RequestStore, text: str = "Process invoice INV-1042 from Acme for $12,400"
) -> RequestRecord:
    """A new request from a client of its own, so tests never share audit rows."""
    record, created = store.submit(f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, text)
    assert created
    return record


def drive(store: RequestStore, request_id: str, status: Status) -> RequestRecord:
    """Move a request from ``received`` to ``status`` along :data:`PATHS`, routing it on the way."""
    record = store.get(request_id)
    for step in PATHS[status]:
        fields = ROUTING if step in (S.CLASSIFIED, S.NEEDS_REVIEW) else {}
        record = store.transition(request_id, step, actor="test", **fields)
    return record


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; return each result or raised exception."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        try:
            return work(i)
        except Exception as exc:  # the caller inspects what each thread got
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
