"""Intake end to end: stored, classified by the real NLP service, routed, and put on a lane."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.store import RequestStore
from tests.eas_pipelines.gateway.conftest import INVOICE, LEAVE, OUT_OF_SCOPE, bearer, submit_headers
from tests.eas_pipelines.gateway.servers import ServerThread


@pytest.fixture
def live_worker(redis_client: redis.Redis, redis_key_prefix: str) -> Iterator[Heartbeat]:
    """A fast-lane worker's heartbeat (only the heartbeat: these tests look at the queue, not runs)."""
    with Heartbeat(redis_client, "test-worker", interval_s=5.0, prefix=redis_key_prefix) as heartbeat:
        yield heartbeat


def _stream_request_ids(redis_client: redis.Redis, stream: str) -> list[str]:
    return [fields[b"request_id"].decode() for _, fields in redis_client.xrange(stream)]


def _submit(gateway: TestClient, text: str, key: str, **body: Any):
    return gateway.post("/v1/requests", json={"text": text, **body}, headers=submit_headers(key))


def test_fast_lane_request_is_queued_on_its_stream(
    gateway: TestClient, live_worker: Heartbeat, redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    response = _submit(gateway, INVOICE, "inv-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert (body["intent"], body["agent"], body["workflow"]) == (
        "finance.invoice_process",
        "finance",
        "finance_invoice_processing",
    )
    assert (body["priority"], body["lane"]) == ("P1", "fast")
    assert body["links"]["self"] == f"/v1/requests/{body['id']}"
    assert response.headers["Location"] == body["links"]["self"]
    # Entities with spans into the text, and the approval policy (12,400 > 10,000 threshold).
    amount = next(e for e in body["entities"] if e["type"] == "amount")
    assert INVOICE[amount["start"] : amount["end"]] == amount["text"] == "$12,400"
    assert body["approval"] == {
        "policy": "amount_over_threshold",
        "approver_role": "finance_manager",
        "expected": True,
    }
    assert _stream_request_ids(redis_client, f"{redis_key_prefix}fast:p1") == [body["id"]]


def test_priority_hint_raises_priority_to_p0_stream(
    gateway: TestClient, live_worker: Heartbeat, redis_client: redis.Redis, redis_key_prefix: str
) -> None:
    body = _submit(gateway, LEAVE, "leave-urgent", priority="P0").json()
    assert (body["status"], body["priority"], body["lane"]) == ("queued", "P0", "fast")
    assert _stream_request_ids(redis_client, f"{redis_key_prefix}fast:p0") == [body["id"]]
    # A hint never lowers the route's priority.
    lowered = _submit(gateway, LEAVE, "leave-low", priority="P2").json()
    assert lowered["priority"] == "P1"


def test_without_live_workers_fast_lane_falls_back_to_standard(
    gateway: TestClient, redis_client: redis.Redis, redis_key_prefix: str, request_store: RequestStore
) -> None:
    body = _submit(gateway, INVOICE, "inv-std").json()
    assert (body["status"], body["lane"]) == ("queued", "standard")
    for priority in (0, 1, 2):
        assert _stream_request_ids(redis_client, f"{redis_key_prefix}fast:p{priority}") == []
    # The standard-lane sensor finds it in the store.
    assert [r.id for r in request_store.queued_for_lane("standard")] == [body["id"]]
    history = request_store.history(body["id"])
    assert [t.to_status.value for t in history] == ["received", "classified", "queued"]
    assert history[-1].reason == "no live fast-lane worker: standard lane"
    assert "eas_gateway_fast_lane_fallbacks_total 1.0" in gateway.get("/metrics").text


def test_out_of_scope_goes_to_review_with_reason(gateway: TestClient) -> None:
    response = _submit(gateway, OUT_OF_SCOPE, "joke")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "needs_review"
    assert body["needs_review_reason"].startswith("out of scope")
    assert body["lane"] is None
    review = gateway.get("/v1/review", headers=bearer()).json()["items"]
    assert [(item["id"], item["needs_review_reason"]) for item in review] == [
        (body["id"], body["needs_review_reason"])
    ]
    fetched = gateway.get(f"/v1/requests/{body['id']}?include=", headers=bearer()).json()
    assert fetched["needs_review_reason"] == body["needs_review_reason"]
    assert fetched["history"] is None and fetched["audit"] is None


def test_low_confidence_goes_to_review(make_gateway: Callable[..., Any], nlp_server: ServerThread) -> None:
    # Find an in-scope text the tiny model is not certain about, then set the bar just above it.
    candidates = [
        "leave Acme invoice for Bob next week",
        "Bob invoice",
        "vacation invoice INV-1 for Dana",
        "pay Bob next week",
        "invoice for PTO",
    ]
    with NLPClient([nlp_server.url]) as nlp:
        parsed = [(text, nlp.parse(text)) for text in candidates]
    text, result = next((t, r) for t, r in parsed if not r.out_of_scope and r.confidence < 0.999)
    with make_gateway(min_confidence=min(1.0, result.confidence + 0.0005)) as gateway:
        body = _submit(gateway, text, "unsure").json()
    assert body["status"] == "needs_review"
    assert body["needs_review_reason"].startswith(f"low confidence: {result.intent}")
    assert body["intent"] == result.intent  # kept for the reviewer


def test_get_request_has_history_and_audit(gateway: TestClient) -> None:
    created = _submit(gateway, LEAVE, "leave-1").json()
    body = gateway.get(f"/v1/requests/{created['id']}", headers=bearer()).json()
    assert [h["to_status"] for h in body["history"]] == ["received", "classified", "queued"]
    assert body["history"][0]["actor"] == "client:client-a"
    assert [a["action"] for a in body["audit"]] == [
        "request.received",
        "request.classified",
        "request.queued",
    ]
    only_history = gateway.get(f"/v1/requests/{created['id']}?include=history", headers=bearer()).json()
    assert only_history["audit"] is None and len(only_history["history"]) == 3


def test_list_filters_and_pages(gateway: TestClient) -> None:
    ids = [
        _submit(gateway, text, f"k{i}").json()["id"] for i, text in enumerate([INVOICE, LEAVE, OUT_OF_SCOPE])
    ]
    everything = gateway.get("/v1/requests", headers=bearer()).json()
    assert [item["id"] for item in everything["items"]] == ids[::-1]
    assert everything["next_before"] is None
    hr = gateway.get("/v1/requests?agent=hr", headers=bearer()).json()["items"]
    assert [item["id"] for item in hr] == [ids[1]]
    review = gateway.get("/v1/requests?status=needs_review", headers=bearer()).json()["items"]
    assert [item["id"] for item in review] == [ids[2]]
    first = gateway.get("/v1/requests?limit=2", headers=bearer()).json()
    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    second = gateway.get(f"/v1/requests?limit=2&before={first['next_before']}", headers=bearer()).json()
    assert [item["id"] for item in second["items"]] == [ids[0]]
    assert second["next_before"] is None


def test_accepted_requests_are_counted_by_lane_and_priority(gateway: TestClient) -> None:
    _submit(gateway, INVOICE, "m1")
    _submit(gateway, OUT_OF_SCOPE, "m2")
    metrics = gateway.get("/metrics").text
    assert (
        'eas_gateway_requests_accepted_total{lane="standard",outcome="queued",priority="P1"} 1.0' in metrics
    )
    assert (
        'eas_gateway_requests_accepted_total{lane="none",outcome="needs_review",priority="none"} 1.0'
        in metrics
    )
    assert (
        'eas_gateway_http_requests_total{endpoint="/v1/requests",method="POST",status="201"} 2.0' in metrics
    )
