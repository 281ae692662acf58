"""Approval decisions through the API: recorded atomically, never twice, never resumed here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.gateway.conftest import INVOICE, bearer, submit_headers


@pytest.fixture
def awaiting(gateway: TestClient, request_store: RequestStore) -> str:
    """A request that went through intake and whose workflow stopped for an approval."""
    request_id = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("appr")).json()[
        "id"
    ]
    request_store.transition(request_id, Status.RUNNING, actor="worker-1", expected=Status.QUEUED)
    request_store.request_approval(
        request_id, "finance_manager", datetime.now(UTC) + timedelta(hours=1), actor="worker-1"
    )
    return request_id


def test_pending_approvals_are_listed_and_linked(gateway: TestClient, awaiting: str) -> None:
    pending = gateway.get("/v1/approvals", headers=bearer()).json()["items"]
    assert [(a["request_id"], a["approver"], a["decision"]) for a in pending] == [
        (awaiting, "finance_manager", None)
    ]
    links = gateway.get(f"/v1/requests/{awaiting}", headers=bearer()).json()["links"]
    assert links["approve"] == f"/v1/approvals/{awaiting}/approve"


def test_approve_records_the_decision_and_leaves_resuming_to_dagster(
    gateway: TestClient, awaiting: str, request_store: RequestStore
) -> None:
    response = gateway.post(f"/v1/approvals/{awaiting}/approve", headers=bearer("dana"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approval"]["decision"] == "approved"
    assert body["approval"]["decided_by"] == "client:dana"
    assert body["request"]["status"] == "approved"  # not queued: the approval sensor resumes it
    assert request_store.get(awaiting).status is Status.APPROVED
    assert gateway.get("/v1/approvals", headers=bearer()).json()["items"] == []
    decided = gateway.get("/v1/approvals?status=approved", headers=bearer()).json()["items"]
    assert [a["request_id"] for a in decided] == [awaiting]


def test_reject_needs_a_reason_and_ends_the_request(
    gateway: TestClient, awaiting: str, request_store: RequestStore
) -> None:
    missing = gateway.post(f"/v1/approvals/{awaiting}/reject", json={}, headers=bearer())
    assert missing.status_code == 422
    assert request_store.get(awaiting).status is Status.AWAITING_APPROVAL
    response = gateway.post(
        f"/v1/approvals/{awaiting}/reject", json={"reason": "vendor not on the list"}, headers=bearer("dana")
    )
    assert response.status_code == 200
    assert response.json()["approval"]["reason"] == "vendor not on the list"
    assert request_store.get(awaiting).status is Status.REJECTED
    trail = [entry.action for entry in request_store.audit_trail(awaiting)]
    assert trail[-2:] == ["request.rejected", "approval.decided"]


def test_second_decision_is_409_naming_the_first(gateway: TestClient, awaiting: str) -> None:
    assert gateway.post(f"/v1/approvals/{awaiting}/approve", headers=bearer("dana")).status_code == 200
    again = gateway.post(f"/v1/approvals/{awaiting}/reject", json={"reason": "late"}, headers=bearer("eve"))
    assert again.status_code == 409
    assert "already approved by client:dana" in again.json()["detail"]


def test_request_not_awaiting_approval_is_409_and_unknown_is_404(gateway: TestClient) -> None:
    queued = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers("q")).json()["id"]
    response = gateway.post(f"/v1/approvals/{queued}/approve", headers=bearer())
    assert response.status_code == 409
    assert "is queued, not awaiting approval" in response.json()["detail"]
    unknown = gateway.post("/v1/approvals/00000000-0000-0000-0000-000000000000/approve", headers=bearer())
    assert unknown.status_code == 404
