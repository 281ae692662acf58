"""The intake API against its own OpenAPI document: schemathesis, every phase, every check.

A real gateway on a real socket, on the test store and Redis, calling the session's real NLP
service. Schemathesis sends a bearer token with every scope (and takes it away to check that auth
is enforced); the rate limit is set far above what a run sends, so no answer is a 429.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from tests.eas_pipelines.gateway.conftest import bearer
from tests.eas_pipelines.gateway.servers import ServerThread
from tests.nlp_service.server.contract import run_contract


def test_the_gateway_does_what_its_openapi_document_says(build_gateway_app: Callable[..., FastAPI]) -> None:
    app = build_gateway_app(rate_limit_per_minute=1_000_000)
    with ServerThread(app) as server:
        report = run_contract(server.url, headers=bearer("schemathesis"))
    report.assert_complete(
        operations={"POST /v1/requests", "GET /v1/requests/{request_id}", "Stateful tests"}
    )
