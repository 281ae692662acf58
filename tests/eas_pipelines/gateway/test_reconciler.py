"""The reconciler's repair of intake interrupted between its steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient

from eas_pipelines.gateway.reconciler import reconcile
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.gateway.conftest import INVOICE

NOW = timedelta(0)


@pytest.fixture
def live_worker(redis_client: redis.Redis, redis_key_prefix: str) -> Iterator[Heartbeat]:
    with Heartbeat(redis_client, "test-worker", interval_s=5.0, prefix=redis_key_prefix) as heartbeat:
        yield heartbeat


def _classified(store: RequestStore, key: str, lane: str = "fast") -> str:
    record, _ = store.submit("client-a", key, INVOICE)
    store.classify(
        record.id,
        intent="finance.invoice_process",
        confidence=0.99,
        entities=[],
        agent="finance",
        workflow="finance_invoice_processing",
        priority=1,
        lane=lane,
        model_version="v1",
        needs_review=False,
    )
    return record.id


def test_classified_but_not_queued_is_queued(gateway: TestClient, request_store: RequestStore) -> None:
    """The gateway died between its two commits: the request is queued by the next pass."""
    request_id = _classified(request_store, "crash", lane="standard")
    report = reconcile(gateway.app.state.gateway.triage, older_than=NOW, requeue_after=NOW)
    assert report.queued == [request_id]
    assert request_store.get(request_id).status is Status.QUEUED


def test_fast_lane_request_missing_from_redis_is_enqueued_once(
    gateway: TestClient,
    request_store: RequestStore,
    live_worker: Heartbeat,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    """Redis refused the enqueue after the store had the request queued: it is enqueued later, once."""
    request_id = _classified(request_store, "lost-enqueue")
    request_store.transition(request_id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)
    triage = gateway.app.state.gateway.triage
    first = reconcile(triage, older_than=NOW, requeue_after=NOW)
    second = reconcile(triage, older_than=NOW, requeue_after=NOW)
    assert first.requeued == [request_id] and second.requeued == []
    entries = redis_client.xrange(f"{redis_key_prefix}fast:p1")
    assert [fields[b"request_id"].decode() for _, fields in entries] == [request_id]
