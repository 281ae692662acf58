"""Health, readiness, metrics, request ids and the JSON access log."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from eas_pipelines.gateway.request_log import ACCESS_LOGGER, configure_logging
from tests.eas_pipelines.gateway.conftest import INVOICE, submit_headers
from tests.eas_pipelines.gateway.servers import free_port


def test_healthz_and_readyz(gateway: TestClient) -> None:
    assert gateway.get("/healthz").json() == {"status": "ok"}
    ready = gateway.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(make_gateway: Callable[..., Any]) -> None:
    dead_redis = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    with make_gateway(redis=dead_redis) as gateway:
        response = gateway.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "not ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"].startswith("ConnectionError")
        # Intake still works: storing needs PostgreSQL only, the rate limit fails open, and with no
        # visible worker the request takes the standard lane.
        accepted = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("no-redis"))
        assert accepted.status_code == 201
        assert (accepted.json()["status"], accepted.json()["lane"]) == ("queued", "standard")
        assert "eas_gateway_rate_limit_degraded_total 1.0" in gateway.get("/metrics").text


def test_request_id_is_echoed_or_generated(gateway: TestClient) -> None:
    echoed = gateway.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["X-Request-ID"] == "trace-42"
    generated = gateway.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["X-Request-ID"] != "bad id with spaces"
    assert len(generated.headers["X-Request-ID"]) == 32


def test_one_access_log_line_per_request(gateway: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = gateway.post(
            "/v1/requests",
            json={"text": INVOICE},
            headers={**submit_headers("logged", "client-log"), "X-Request-ID": "req-1"},
        )
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status) == ("POST", "/v1/requests", 201)
    assert (line.client, line.request_id) == ("client-log", "req-1")
    assert line.eas_request_id == response.json()["id"]
    assert line.latency_ms > 0


def test_configure_logging_writes_json_lines() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream)
        logging.getLogger(ACCESS_LOGGER).info("GET /x 200", extra={"status": 200, "request_id": "r-1"})
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["event"] == "GET /x 200"
    assert (record["status"], record["request_id"], record["level"]) == (200, "r-1", "info")
    assert record["logger"] == ACCESS_LOGGER and "timestamp" in record


def test_metrics_expose_http_counts_and_latency(gateway: TestClient) -> None:
    gateway.get("/healthz")
    text = gateway.get("/metrics").text
    assert 'eas_gateway_http_requests_total{endpoint="/healthz",method="GET",status="200"} 1.0' in text
    assert "eas_gateway_http_request_duration_seconds_bucket" in text
    assert "eas_gateway_nlp_replica_up" in text
    gateway.get("/no/such/path")
    assert 'endpoint="unmatched",method="GET",status="404"' in gateway.get("/metrics").text


def test_openapi_documents_the_contract(gateway: TestClient) -> None:
    spec = gateway.get("/openapi.json").json()
    assert spec["info"]["version"] == "1"
    post = spec["paths"]["/v1/requests"]["post"]
    assert {p["name"] for p in post["parameters"]} == {"Idempotency-Key"}
    assert {"200", "201", "202", "401", "403", "422", "429", "503"} <= set(post["responses"])
