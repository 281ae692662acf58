"""Accepted means never lost: with the NLP service down, requests are stored and classified later."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.gateway.reconciler import reconcile_pending
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore
from tests.eas_pipelines.gateway.conftest import INVOICE, OUT_OF_SCOPE, bearer, submit_headers
from tests.eas_pipelines.gateway.servers import ServerThread, free_port


def test_request_stays_received_then_reconciler_classifies_it(
    make_gateway: Callable[..., Any],
    start_nlp_server: Callable[..., ServerThread],
    request_store: RequestStore,
) -> None:
    port = free_port()
    with make_gateway([f"http://127.0.0.1:{port}"]) as gateway:
        response = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("down-1"))
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "received"
        assert "NLP service is unavailable" in body["message"]
        assert request_store.get(body["id"]).status == "received"
        oos = gateway.post("/v1/requests", json={"text": OUT_OF_SCOPE}, headers=submit_headers("down-2"))
        assert oos.status_code == 202

        # Still down: a reconciler pass changes nothing.
        report = gateway.app.state.reconcile_once()
        assert report.nlp_unavailable and report.changed == 0

        start_nlp_server(port)
        gateway.app.state.gateway.nlp.check_health()  # what the health loop does every few seconds
        report = gateway.app.state.reconcile_once()
        assert report.classified == [body["id"]]
        assert report.needs_review == [oos.json()["id"]]

        fetched = gateway.get(f"/v1/requests/{body['id']}", headers=bearer()).json()
        assert (fetched["status"], fetched["intent"]) == ("queued", "finance.invoice_process")
        assert [h["actor"] for h in fetched["history"]] == ["client:client-a", "reconciler", "reconciler"]
        metrics = gateway.get("/metrics").text
        # Two intake calls and one reconciler pass found no replica.
        assert 'eas_gateway_classification_failures_total{reason="nlp_unavailable"} 3.0' in metrics
        assert 'eas_gateway_reconciled_total{outcome="queued"} 1.0' in metrics


def test_background_loops_classify_without_help(
    build_gateway_app: Callable[..., FastAPI], start_nlp_server: Callable[..., ServerThread]
) -> None:
    port = free_port()
    app = build_gateway_app(
        [f"http://127.0.0.1:{port}"], reconcile_interval_s=0.2, health_check_interval_s=0.2
    )
    with TestClient(app) as gateway:
        created = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("bg")).json()
        assert created["status"] == "received"
        start_nlp_server(port)
        deadline = time.monotonic() + 20
        status = "received"
        while status == "received" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = gateway.get(f"/v1/requests/{created['id']}", headers=bearer()).json()["status"]
        assert status == "queued"


def test_reconcile_pending_is_callable_outside_the_gateway(
    gateway: TestClient,
    request_store: RequestStore,
    nlp_server: ServerThread,
    redis_client,
    redis_key_prefix: str,
    gateway_settings: Callable[..., EASSettings],
) -> None:
    """As a Dagster schedule would: its own NLP client, the settings, one pass."""
    record, _ = request_store.submit("client-x", "sched-1", INVOICE)
    with NLPClient([nlp_server.url]) as nlp:
        report = reconcile_pending(
            request_store,
            nlp,
            redis_client,
            gateway_settings(),
            queue_prefix=redis_key_prefix,
            older_than=timedelta(0),
        )
    assert report.classified == [record.id]
    assert request_store.get(record.id).status == "queued"


def test_two_replicas_one_dead_through_the_gateway(
    make_gateway: Callable[..., Any], nlp_server: ServerThread
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with make_gateway([dead, nlp_server.url]) as gateway:
        statuses = [
            gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers(f"rr-{i}")).json()[
                "status"
            ]
            for i in range(4)
        ]
        assert statuses == ["queued"] * 4
        metrics = gateway.get("/metrics").text
        assert f'eas_gateway_nlp_replica_up{{replica="{dead}"}} 0.0' in metrics
        assert f'eas_gateway_nlp_replica_up{{replica="{nlp_server.url}"}} 1.0' in metrics
        assert f'eas_gateway_nlp_calls_total{{outcome="error",replica="{dead}"}} 1.0' in metrics
        ready = gateway.get("/readyz").json()
        assert ready["nlp_replicas"] == {dead: False, nlp_server.url: True}
