"""Fixtures of the gateway tests: a real NLP service, the real store, real Redis, and gateway apps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from eas_pipelines.gateway import create_app
from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.gateway.tokens import ALL_SCOPES, issue_token
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore
from nlp_service.inference.parser import NLUParser
from tests.eas_pipelines.gateway.servers import ServerThread, nlp_app

SECRET = "gateway-tests-secret-0123456789abcdef"
INVOICE = "process invoice INV-2201 from Acme Corp for $12,400"
LEAVE = "book vacation for Bob next week"
OUT_OF_SCOPE = "tell me a joke"


def bearer(
    client_id: str = "client-a", scopes: tuple[str, ...] = ALL_SCOPES, **kwargs: Any
) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, client_id, scopes, **kwargs)}"}


def submit_headers(key: str, client_id: str = "client-a", **kwargs: Any) -> dict[str, str]:
    return {**bearer(client_id, **kwargs), "Idempotency-Key": key}


@pytest.fixture(scope="session")
def nlp_parser(tiny_model_dir: Path) -> NLUParser:
    return NLUParser.load(tiny_model_dir, "onnx", threads=1)


@pytest.fixture(scope="session")
def nlp_server(nlp_parser: NLUParser, tiny_model_dir: Path) -> Iterator[ServerThread]:
    """One real NLP service for the session (the tiny model: invoice, leave and out-of-scope)."""
    with ServerThread(nlp_app(nlp_parser, tiny_model_dir)) as server:
        yield server


@pytest.fixture
def start_nlp_server(nlp_parser: NLUParser, tiny_model_dir: Path) -> Iterator[Callable[..., ServerThread]]:
    """Start extra NLP servers (on a chosen port, e.g. one that was dead a moment ago); stopped after."""
    started: list[ServerThread] = []

    def start(port: int | None = None) -> ServerThread:
        server = ServerThread(nlp_app(nlp_parser, tiny_model_dir), port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def gateway_settings(
    migrated_database_url: str, redis_url: str, tmp_path: Path
) -> Callable[..., EASSettings]:
    def make(**overrides: Any) -> EASSettings:
        values: dict[str, Any] = {
            "database_url": migrated_database_url,
            "redis_url": redis_url,
            "jwt_secret": SECRET,
            "data_dir": tmp_path / "eas",
            "rate_limit_per_minute": 1000,
            "min_confidence": 0.0,
            **overrides,
        }
        return EASSettings(**values)

    return make


@pytest.fixture
def build_gateway_app(
    gateway_settings: Callable[..., EASSettings],
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    nlp_server: ServerThread,
) -> Iterator[Callable[..., FastAPI]]:
    """Build gateway apps on the test store, Redis (keys under this test's prefix) and NLP servers.

    ``nlp_urls`` defaults to the session's NLP server; background loops are off unless asked for.
    """
    clients: list[NLPClient] = []

    def build(
        nlp_urls: list[str] | None = None,
        *,
        cooldown_s: float = 30.0,
        reconcile_interval_s: float | None = None,
        health_check_interval_s: float | None = None,
        redis: redis.Redis | None = None,
        **overrides: Any,
    ) -> FastAPI:
        urls = nlp_urls or [nlp_server.url]
        settings = gateway_settings(nlp_urls=urls, **overrides)
        nlp = NLPClient(urls, connect_timeout_s=0.5, read_timeout_s=5.0, cooldown_s=cooldown_s)
        clients.append(nlp)
        return create_app(
            settings,
            store=request_store,
            redis=redis or redis_client,
            nlp_client=nlp,
            queue_prefix=redis_key_prefix,
            rate_limit_prefix=f"{redis_key_prefix}ratelimit",
            reconcile_interval_s=reconcile_interval_s,
            reconcile_older_than=timedelta(0),
            health_check_interval_s=health_check_interval_s,
        )

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def make_gateway(build_gateway_app: Callable[..., FastAPI]) -> Callable[..., Any]:
    """A context manager factory: a :class:`TestClient` on a new gateway app, lifespan running."""

    @contextmanager
    def make(*args: Any, **kwargs: Any) -> Iterator[TestClient]:
        with TestClient(build_gateway_app(*args, **kwargs), raise_server_exceptions=False) as client:
            yield client

    return make


@pytest.fixture
def gateway(make_gateway: Callable[..., Any]) -> Iterator[TestClient]:
    with make_gateway() as client:
        yield client
