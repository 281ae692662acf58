"""Approval decisions through the API: recorded atomically, never twice, never resumed here, and only
by somebody with authority over the approval (its role, or a delegation from somebody who has it)."""

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
    request_store.grant_role("dana", "finance_manager", "test")
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


def test_approvals_write_without_authority_is_403_naming_why(
    gateway: TestClient, awaiting: str, request_store: RequestStore
) -> None:
    response = gateway.post(f"/v1/approvals/{awaiting}/approve", headers=bearer("mallory"))
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "mallory may not decide" in detail and "does not hold role finance_manager" in detail
    assert request_store.get(awaiting).status is Status.AWAITING_APPROVAL


def test_a_delegate_decides_while_the_role_holder_is_away(
    gateway: TestClient, awaiting: str, request_store: RequestStore
) -> None:
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    created = gateway.post(
        "/v1/approvals/delegations",
        json={"delegate": "frank", "until": until, "reason": "on leave"},
        headers=bearer("dana"),
    )
    assert created.status_code == 201, created.text
    delegation = created.json()
    assert (delegation["delegator"], delegation["delegate"]) == ("dana", "frank")
    listed = gateway.get("/v1/approvals/delegations", headers=bearer("frank")).json()["items"]
    assert [d["id"] for d in listed] == [delegation["id"]]

    response = gateway.post(f"/v1/approvals/{awaiting}/approve", headers=bearer("frank"))
    assert response.status_code == 200, response.text
    assert response.json()["approval"]["decided_by"] == "client:frank"
    decided = [e for e in request_store.audit_trail(awaiting) if e.action == "approval.decided"][-1]
    assert decided.detail["on_behalf_of"] == "dana"
    assert decided.detail["basis"].startswith("delegate of dana")


def test_a_revoked_delegation_no_longer_gives_authority(
    gateway: TestClient, awaiting: str, request_store: RequestStore
) -> None:
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    delegation = gateway.post(
        "/v1/approvals/delegations", json={"delegate": "gina", "until": until}, headers=bearer("dana")
    ).json()
    # Only the delegator may end it.
    assert (
        gateway.delete(f"/v1/approvals/delegations/{delegation['id']}", headers=bearer("gina")).status_code
        == 404
    )
    revoked = gateway.delete(f"/v1/approvals/delegations/{delegation['id']}", headers=bearer("dana"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert gateway.post(f"/v1/approvals/{awaiting}/approve", headers=bearer("gina")).status_code == 403


def test_a_delegation_must_end_after_it_starts(gateway: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = gateway.post(
        "/v1/approvals/delegations", json={"delegate": "frank", "until": past}, headers=bearer("dana")
    )
    assert response.status_code == 409  # well formed, but over by now: not a 422
    assert "must be after the start" in response.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("until", 0), ("until", "1700000000"), ("until", "2030-01-01"), ("starts_at", "2030-01-01T00:00:00")],
)
def test_a_delegation_date_must_be_rfc_3339_with_a_zone(
    gateway: TestClient, field: str, value: object
) -> None:
    body = {"delegate": "frank", "until": "2030-01-02T00:00:00Z", field: value}

    response = gateway.post("/v1/approvals/delegations", json=body, headers=bearer("dana"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_a_delegation_date_utc_cannot_hold_is_a_conflict_naming_it(gateway: TestClient) -> None:
    body = {"delegate": "frank", "until": "9999-12-31T23:59:59-23:00"}

    response = gateway.post("/v1/approvals/delegations", json=body, headers=bearer("dana"))

    assert response.status_code == 409
    assert response.json()["detail"].startswith("until (9999-12-31T23:59:59-23:00) is out of range")


def test_mine_lists_only_what_the_caller_may_decide(gateway: TestClient, awaiting: str) -> None:
    mine = gateway.get("/v1/approvals?mine=true", headers=bearer("dana")).json()["items"]
    assert [a["request_id"] for a in mine] == [awaiting]
    assert gateway.get("/v1/approvals?mine=true", headers=bearer("nobody")).json()["items"] == []
