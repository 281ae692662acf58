"""Bad input to every endpoint: a 4xx whose message names the offending field, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.gateway.schemas import MAX_TEXT_LENGTH
from tests.eas_pipelines.gateway.conftest import INVOICE, bearer, submit_headers

# Well formed (a UUID, as the path demands) but naming no request.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _locations(response) -> list[list[Any]]:
    return [item["loc"] for item in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"text": ""}, ["body", "text"]),
        ({"text": "   \n "}, ["body", "text"]),
        ({"text": "x" * (MAX_TEXT_LENGTH + 1)}, ["body", "text"]),
        ({"text": 42}, ["body", "text"]),
        ({"text": ["a"]}, ["body", "text"]),
        ({}, ["body", "text"]),
        ({"text": INVOICE, "priority": "P9"}, ["body", "priority"]),
        ({"text": INVOICE, "priority": 0}, ["body", "priority"]),
        ({"text": INVOICE, "txet": "typo"}, ["body", "txet"]),
        (["not", "an", "object"], ["body"]),
        ({"text": "invoice\x00INV-1"}, ["body", "text"]),  # PostgreSQL text cannot hold NUL
        ({"text": "\ufeff\u3000\x1c"}, ["body", "text"]),  # blank by any regex engine's reckoning
    ],
)
def test_submit_rejects_bad_bodies(gateway: TestClient, body: Any, loc: list[Any]) -> None:
    response = gateway.post("/v1/requests", json=body, headers={**bearer(), "Idempotency-Key": "k"})
    assert response.status_code == 422, response.text
    assert loc in _locations(response)
    assert gateway.get("/v1/requests", headers=bearer()).json()["items"] == []


def test_submit_rejects_malformed_json(gateway: TestClient) -> None:
    response = gateway.post(
        "/v1/requests",
        content=b'{"text": "unterminated',
        headers={**bearer(), "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert _locations(response)[0][0] == "body"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "Field required"),
        ("", None),
        ("k" * 201, "at most 200 characters"),
        ("   ", "must not be blank"),
        ("k\x01ey", "visible ASCII"),
        (" key", "visible ASCII"),
    ],
)
def test_idempotency_key_is_required_and_bounded(
    gateway: TestClient, key: str | None, message: str | None
) -> None:
    headers = bearer() if key is None else {**bearer(), "Idempotency-Key": key}
    response = gateway.post("/v1/requests", json={"text": INVOICE}, headers=headers)
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert [part.lower() if isinstance(part, str) else part for part in item["loc"]] == [
        "header",
        "idempotency-key",
    ]
    if message:
        assert message in item["msg"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("agent=nobody", "agent"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("before=no-such-request", "before"),
        ("before=0", "before"),
    ],
)
def test_list_filters_are_validated(gateway: TestClient, query: str, field: str) -> None:
    response = gateway.get(f"/v1/requests?{query}", headers=bearer())
    assert response.status_code == 422
    assert ["query", field] in _locations(response)


@pytest.mark.parametrize("path", ["/v1/requests", "/v1/review"])
def test_a_well_formed_cursor_naming_no_request_is_404(gateway: TestClient, path: str) -> None:
    response = gateway.get(f"{path}?before={UNKNOWN_ID}", headers=bearer())
    assert response.status_code == 404
    assert response.json() == {"detail": f"no request with id {UNKNOWN_ID!r} to page from"}


@pytest.mark.parametrize("include", ["bogus", "history,secrets", "history, audit", ",history", "HISTORY"])
def test_include_takes_only_known_parts_without_spaces(gateway: TestClient, include: str) -> None:
    created = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("inc")).json()
    response = gateway.get(f"/v1/requests/{created['id']}", params={"include": include}, headers=bearer())
    assert response.status_code == 422
    assert ["query", "include"] in _locations(response)


@pytest.mark.parametrize("path", ["/v1/requests/abc", "/v1/requests/3F1C2A9E-8B4D-4C6E-9F0A-1B2C3D4E5F60"])
def test_request_ids_in_paths_must_be_uuids(gateway: TestClient, path: str) -> None:
    response = gateway.get(path, headers=bearer())
    assert response.status_code == 422
    assert ["path", "request_id"] in _locations(response)


def test_unknown_status_message_lists_the_allowed_values(gateway: TestClient) -> None:
    response = gateway.get("/v1/requests?status=bogus", headers=bearer())
    assert "needs_review" in response.json()["detail"][0]["msg"]


def test_include_and_review_and_approval_filters_are_validated(gateway: TestClient) -> None:
    response = gateway.get("/v1/requests/some-id?include=history,secrets", headers=bearer())
    assert response.status_code == 422 and ["query", "include"] in _locations(response)
    response = gateway.get("/v1/review?limit=-1", headers=bearer())
    assert response.status_code == 422 and ["query", "limit"] in _locations(response)
    response = gateway.get("/v1/approvals?status=maybe", headers=bearer())
    assert response.status_code == 422 and ["query", "status"] in _locations(response)


def test_unknown_request_is_404(gateway: TestClient) -> None:
    response = gateway.get(f"/v1/requests/{UNKNOWN_ID}", headers=bearer())
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


@pytest.mark.parametrize(
    ("action", "body", "loc"),
    [
        ("reject", {}, ["body", "reason"]),
        ("reject", {"reason": ""}, ["body", "reason"]),
        ("reject", {"reason": "  "}, ["body", "reason"]),
        ("reject", {"reason": 5}, ["body", "reason"]),
        ("reject", {"reason": "no\x00"}, ["body", "reason"]),
        ("approve", {"reason": 5}, ["body", "reason"]),
        ("approve", {"reason": "yes\x00"}, ["body", "reason"]),
        ("approve", {"because": "yes"}, ["body", "because"]),
    ],
)
def test_decision_bodies_are_validated(gateway: TestClient, action: str, body: dict, loc: list[str]) -> None:
    response = gateway.post(f"/v1/approvals/{UNKNOWN_ID}/{action}", json=body, headers=bearer())
    assert response.status_code == 422
    assert _locations(response) == [loc]


def test_undecodable_body_is_a_documented_400(gateway: TestClient) -> None:
    response = gateway.post(
        f"/v1/approvals/{UNKNOWN_ID}/approve",
        content=b"\xff\xfe\xfd",
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}


def test_reject_without_body_names_the_body(gateway: TestClient) -> None:
    response = gateway.post(f"/v1/approvals/{UNKNOWN_ID}/reject", headers=bearer())
    assert response.status_code == 422
    assert _locations(response)[0][0] == "body"
