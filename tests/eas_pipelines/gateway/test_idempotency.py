"""Idempotency-Key: one request per (client, key), whatever the retries and races."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from eas_pipelines.store import RequestStore
from tests.eas_pipelines.gateway.conftest import INVOICE, LEAVE, submit_headers
from tests.eas_pipelines.gateway.servers import ServerThread


def _rows(store: RequestStore, key: str) -> int:
    with store.engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM requests WHERE idempotency_key = :key")
        return connection.execute(query, {"key": key}).scalar_one()


def test_same_key_returns_the_same_request_with_200(gateway: TestClient, request_store: RequestStore) -> None:
    first = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("same"))
    again = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("same"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["status"] == "queued"
    assert _rows(request_store, "same") == 1
    # Classified once: the replay did not route it a second time.
    assert [t.to_status.value for t in request_store.history(first.json()["id"])] == [
        "received",
        "classified",
        "queued",
    ]


def test_key_reused_with_another_text_is_a_409_conflict(
    gateway: TestClient, request_store: RequestStore
) -> None:
    """The retry is well formed (not a 422); it conflicts with what the key already stands for."""
    first = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("reused"))
    response = gateway.post("/v1/requests", json={"text": LEAVE}, headers=submit_headers("reused"))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "Idempotency-Key" in detail and first.json()["id"] in detail and "new key" in detail
    assert _rows(request_store, "reused") == 1
    assert request_store.get(first.json()["id"]).text == INVOICE


def test_keys_belong_to_their_client(gateway: TestClient) -> None:
    a = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("k", "client-a"))
    b = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("k", "client-b"))
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_concurrent_submissions_with_one_key_make_one_request(
    build_gateway_app: Callable[..., FastAPI], request_store: RequestStore
) -> None:
    """Eight clients race on a real server (real threads, real connections): one row, one id."""
    with ServerThread(build_gateway_app()) as server, httpx.Client(base_url=server.url, timeout=30) as http:

        def submit(_: int) -> httpx.Response:
            return http.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("race"))

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(submit, range(8)))
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert all(r.status_code in (200, 201) for r in responses)
    assert _rows(request_store, "race") == 1
    statuses = [t.to_status.value for t in request_store.history(responses[0].json()["id"])]
    assert statuses == ["received", "classified", "queued"]
