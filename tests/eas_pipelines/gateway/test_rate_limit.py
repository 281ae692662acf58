"""The per-client rate limit, counted in the real Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.eas_pipelines.gateway.conftest import INVOICE, submit_headers


def test_requests_over_the_limit_get_429_with_retry_after(make_gateway: Callable[..., Any]) -> None:
    with make_gateway(rate_limit_per_minute=3) as gateway:
        statuses = [
            gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers(f"k{i}")).status_code
            for i in range(3)
        ]
        assert statuses == [201, 201, 201]
        refused = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("k3"))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "rate limit of 3 requests per minute" in refused.json()["detail"]

        # The refused request was not stored, and another client has its own budget.
        other = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("k3", "client-b"))
        assert other.status_code == 201
        listed = gateway.get("/v1/requests", headers=submit_headers("unused")).json()["items"]
        assert len(listed) == 4
        assert "eas_gateway_rate_limited_total 1.0" in gateway.get("/metrics").text


def test_limit_is_shared_by_gateway_instances(make_gateway: Callable[..., Any]) -> None:
    """Two gateway apps on one Redis: the limit holds across them (counts live in Redis)."""
    with make_gateway(rate_limit_per_minute=2) as first, make_gateway(rate_limit_per_minute=2) as second:
        assert (
            first.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("a")).status_code == 201
        )
        assert (
            second.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("b")).status_code
            == 201
        )
        assert (
            first.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("c")).status_code == 429
        )
