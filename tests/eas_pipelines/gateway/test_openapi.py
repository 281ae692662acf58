"""The OpenAPI document announces what the routes answer, and Allow lists what a path serves.

The contract test (test_contract.py) checks the same by generating requests; these tests pin the
specific promises, so that a regression names what broke.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.gateway.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    REQUEST_ID_PATTERN,
    STORED_TEXT_PATTERN,
)
from tests.eas_pipelines.gateway.conftest import bearer

AUTHENTICATED = {
    ("post", "/v1/requests"),
    ("get", "/v1/requests"),
    ("get", "/v1/requests/{request_id}"),
    ("get", "/v1/review"),
    ("get", "/v1/approvals"),
    ("post", "/v1/approvals/{request_id}/approve"),
    ("post", "/v1/approvals/{request_id}/reject"),
}


@pytest.fixture
def openapi(gateway: TestClient) -> dict[str, Any]:
    return gateway.get("/openapi.json").json()


def _parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_every_authenticated_route_documents_its_error_answers(openapi: dict[str, Any]) -> None:
    for method, path in AUTHENTICATED:
        responses = openapi["paths"][path][method]["responses"]
        assert {"401", "403", "422", "503"} <= set(responses), (method, path)
        for code in ("401", "403", "503"):
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut"), (method, path, code)
        assert "WWW-Authenticate" in responses["401"]["headers"]


def test_route_specific_answers_are_documented(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    assert {"200", "201", "202", "400", "409", "429"} <= set(paths["/v1/requests"]["post"]["responses"])
    assert "Retry-After" in paths["/v1/requests"]["post"]["responses"]["429"]["headers"]
    assert "404" in paths["/v1/requests"]["get"]["responses"]  # an unknown ``before``
    assert "404" in paths["/v1/review"]["get"]["responses"]
    assert "404" in paths["/v1/requests/{request_id}"]["get"]["responses"]
    for action in ("approve", "reject"):
        assert {"400", "404", "409"} <= set(
            paths[f"/v1/approvals/{{request_id}}/{action}"]["post"]["responses"]
        )


def test_the_rules_the_server_enforces_are_in_the_schemas(openapi: dict[str, Any]) -> None:
    submit = openapi["paths"]["/v1/requests"]["post"]
    assert _parameter(submit, "Idempotency-Key")["schema"]["pattern"] == IDEMPOTENCY_KEY_PATTERN
    text = openapi["components"]["schemas"]["SubmitRequest"]["properties"]["text"]
    assert text["pattern"] == STORED_TEXT_PATTERN and text["maxLength"] == 2000
    get_one = openapi["paths"]["/v1/requests/{request_id}"]["get"]
    assert _parameter(get_one, "request_id")["schema"]["pattern"] == REQUEST_ID_PATTERN
    include = _parameter(get_one, "include")["schema"]["anyOf"][0]["pattern"]
    assert all(re.fullmatch(include, v) for v in ("", "history", "audit", "history,audit", "audit,history"))
    assert not any(re.fullmatch(include, v) for v in ("bogus", "history, audit", ",history", "history,"))
    listing = openapi["paths"]["/v1/requests"]["get"]
    assert _parameter(listing, "before")["schema"]["anyOf"][0]["pattern"] == REQUEST_ID_PATTERN


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/requests", "GET, OPTIONS, POST"),
        ("/v1/approvals/3f1c2a9e-8b4d-4c6e-9f0a-1b2c3d4e5f60/approve", "OPTIONS, POST"),
        ("/healthz", "GET, OPTIONS"),
    ],
)
def test_options_and_unserved_methods_list_every_method_of_the_path(
    gateway: TestClient, path: str, allowed: str
) -> None:
    options = gateway.options(path)
    assert options.status_code == 204 and options.headers["Allow"] == allowed
    assert options.content == b""
    patch = gateway.patch(path, headers=bearer())
    assert patch.status_code == 405 and patch.headers["Allow"] == allowed
    assert patch.json() == {"detail": f"method PATCH is not allowed here; allowed: {allowed}"}


def test_methods_of_unknown_paths_are_still_404(gateway: TestClient) -> None:
    assert gateway.options("/v1/nothing-here").status_code == 404
    assert gateway.patch("/v1/nothing-here").status_code == 404


def test_head_on_a_get_only_path_is_405_without_a_body(gateway: TestClient) -> None:
    response = gateway.head("/healthz")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, OPTIONS"
    assert response.content == b""
