"""Approver roles, delegations and the authority check of :meth:`RequestStore.decide`, at the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eas_pipelines.store import ApprovalAlreadyDecided, ApprovalForbidden, RequestStore, Status
from tests.eas_pipelines.store.helpers import drive, new_request


def person(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def awaiting(store: RequestStore, approver: str = "finance_manager", stage: int = 1) -> str:
    record = new_request(store)
    drive(store, record.id, Status.RUNNING)
    store.request_approval(record.id, approver, datetime.now(UTC) + timedelta(hours=1), "test", stage=stage)
    return record.id


def test_roles_are_granted_once_revoked_and_audited(request_store: RequestStore) -> None:
    dana = person("dana")
    assert request_store.grant_role(f"client:{dana}", "cfo", "admin")
    assert not request_store.grant_role(dana, "cfo", "admin")
    assert request_store.roles_of(dana) == {"cfo"}
    assert request_store.revoke_role(dana, "cfo", "admin")
    assert not request_store.revoke_role(dana, "cfo", "admin")
    assert request_store.roles_of(dana) == frozenset()


def test_decide_without_authority_is_forbidden_and_changes_nothing(request_store: RequestStore) -> None:
    request_id = awaiting(request_store)
    eve = person("eve")
    with pytest.raises(
        ApprovalForbidden, match=f"{eve} may not decide .* does not hold role finance_manager"
    ):
        request_store.decide(request_id, "approved", f"client:{eve}", principal=eve)
    assert request_store.get(request_id).status is Status.AWAITING_APPROVAL
    # Without a principal (internal callers, the tests of the state machine) nothing is checked.
    assert request_store.decide(request_id, "approved", "system").decision == "approved"


def test_the_routes_approver_role_counts_at_the_first_level_only(request_store: RequestStore) -> None:
    manager = person("manager")
    request_store.grant_role(manager, "manager", "admin")
    first = awaiting(request_store, approver="dana.smith")
    decided = request_store.decide(
        first, "approved", f"client:{manager}", principal=manager, route_role="manager"
    )
    assert decided.decision == "approved"
    second = awaiting(request_store, approver="dana.smith", stage=2)
    with pytest.raises(ApprovalForbidden):
        request_store.decide(second, "approved", f"client:{manager}", principal=manager, route_role="manager")


def test_delegation_in_force_only(request_store: RequestStore) -> None:
    dana, frank = person("dana"), person("frank")
    request_store.grant_role(dana, "finance_manager", "admin")
    now = datetime.now(UTC)
    later = request_store.delegate(
        dana, frank, now + timedelta(days=2), "admin", starts_at=now + timedelta(days=1)
    )
    assert request_store.delegations(delegate=frank) == []  # not yet in force
    request_id = awaiting(request_store)
    with pytest.raises(ApprovalForbidden):
        request_store.decide(request_id, "approved", f"client:{frank}", principal=frank)

    current = request_store.delegate(dana, frank, now + timedelta(hours=2), "admin", reason="offsite")
    assert [d.id for d in request_store.delegations(delegator=dana)] == [current.id]
    assert [a.request_id for a in request_store.decidable_by(frank)] == [request_id]
    request_store.revoke_delegation(current.id, "admin")
    assert request_store.decidable_by(frank) == []
    with pytest.raises(ApprovalForbidden):
        request_store.decide(request_id, "approved", f"client:{frank}", principal=frank)
    assert {d.id for d in request_store.delegations(delegator=dana, in_force=False)} == {later.id, current.id}


def test_a_delegation_to_oneself_or_ending_before_it_starts_is_refused(request_store: RequestStore) -> None:
    dana = person("dana")
    with pytest.raises(ValueError, match="themselves"):
        request_store.delegate(dana, f"client:{dana}", datetime.now(UTC) + timedelta(days=1), "admin")
    with pytest.raises(ValueError, match="must be after the start"):
        request_store.delegate(dana, person("frank"), datetime.now(UTC) - timedelta(days=1), "admin")


def test_an_already_decided_approval_says_so_before_authority_is_checked(request_store: RequestStore) -> None:
    request_id = awaiting(request_store)
    request_store.decide(request_id, "approved", "system")
    with pytest.raises(ApprovalAlreadyDecided):
        request_store.decide(request_id, "rejected", "client:eve", "late", principal="eve")


def test_requests_mentioning_an_entity_value(request_store: RequestStore) -> None:
    record = new_request(request_store)
    request_store.classify(
        record.id,
        intent="finance.invoice_process",
        confidence=0.9,
        entities=[{"type": "invoice_id", "text": "inv-77", "value": "INV-77"}],
        agent="finance",
        workflow=None,
        priority=1,
        lane="fast",
        model_version="t",
        needs_review=False,
    )
    assert [r.id for r in request_store.requests_mentioning("invoice_id", "inv-77")] == [record.id]
    assert request_store.requests_mentioning("po_number", "INV-77") == []
    assert request_store.requests_mentioning("invoice_id", "INV-77", status=Status.QUEUED) == []
    assert request_store.find_request(record.id.upper()) == request_store.get(record.id)
