"""Authentication (401 with WWW-Authenticate and the reason) and scopes (403 naming the scope)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.gateway.tokens import issue_token
from tests.eas_pipelines.gateway.conftest import INVOICE, SECRET, bearer


def _post(gateway: TestClient, headers: dict[str, str]):
    return gateway.post("/v1/requests", json={"text": INVOICE}, headers={"Idempotency-Key": "k-1", **headers})


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "malformed Authorization header: expected 'Bearer <token>'"),
        ("Bearer", "malformed Authorization header: expected 'Bearer <token>'"),
        ("Bearer a b", "malformed Authorization header: expected 'Bearer <token>'"),
        (f"Bearer {issue_token(SECRET, 'c', ['requests:write'], now=time.time() - 7200)}", "token expired"),
        (f"Bearer {issue_token(SECRET, 'c', ['requests:write'], audience='other')}", "invalid audience"),
        (f"Bearer {issue_token(SECRET, 'c', ['requests:write'], issuer='mallory')}", "invalid issuer"),
        (f"Bearer {issue_token('x' * 40, 'c', ['requests:write'])}", "bad signature"),
        ("Bearer not.a.jwt", "malformed token"),
    ],
)
def test_unauthenticated_requests_get_401_with_reason(
    gateway: TestClient, authorization: str | None, reason: str
) -> None:
    response = _post(gateway, {"Authorization": authorization} if authorization else {})
    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="eas"')
    if authorization is not None:
        assert f'error_description="{reason}"' in challenge
    # Nothing was stored for a caller who did not authenticate.
    listed = gateway.get("/v1/requests", headers=bearer(scopes=("requests:read",)))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "needed", "granted"),
    [
        ("POST", "/v1/requests", {"text": INVOICE}, "requests:write", ("requests:read", "approvals:write")),
        ("GET", "/v1/requests", None, "requests:read", ("requests:write",)),
        ("GET", "/v1/requests/abc", None, "requests:read", ("requests:write",)),
        ("GET", "/v1/review", None, "requests:read", ("approvals:write",)),
        ("GET", "/v1/approvals", None, "requests:read", ("requests:write",)),
        ("POST", "/v1/approvals/abc/approve", {}, "approvals:write", ("requests:read", "requests:write")),
        ("POST", "/v1/approvals/abc/reject", {"reason": "no"}, "approvals:write", ("requests:read",)),
    ],
)
def test_missing_scope_is_403_naming_it(
    gateway: TestClient, method: str, path: str, body: dict | None, needed: str, granted: tuple[str, ...]
) -> None:
    headers = {**bearer(scopes=granted), "Idempotency-Key": "k-scope"}
    response = gateway.request(method, path, json=body, headers=headers)
    assert response.status_code == 403
    assert response.json() == {"detail": f"missing scope {needed!r}"}
    assert f'scope="{needed}"' in response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_auth_failures_are_counted(gateway: TestClient) -> None:
    _post(gateway, {})
    _post(gateway, bearer(scopes=("requests:read",)))
    metrics = gateway.get("/metrics").text
    assert 'eas_gateway_auth_failures_total{reason="missing bearer token"} 1.0' in metrics
    assert 'eas_gateway_auth_failures_total{reason="missing scope"} 1.0' in metrics
