"""Approvals: asking, deciding once, escalating, and finding the overdue ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eas_pipelines.store import (
    ApprovalAlreadyDecided,
    ApprovalError,
    ApprovalNotFound,
    IllegalTransition,
    RequestStore,
    StaleTransition,
    Status,
)

from .helpers import drive, new_request, race

S = Status


def _deadline(hours: float = 4) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def _awaiting(store: RequestStore, approver: str = "omar.haddad", hours: float = 4) -> tuple[str, int]:
    record = drive(store, new_request(store).id, S.RUNNING)
    approval = store.request_approval(record.id, approver, _deadline(hours), actor="finance-agent")
    return record.id, approval.id


def test_request_approval_moves_the_request_and_opens_an_approval(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.RUNNING)
    deadline = _deadline()
    approval = request_store.request_approval(
        record.id, "omar.haddad", deadline, actor="finance-agent", reason="amount over $10,000"
    )
    assert approval.is_pending and approval.escalation_level == 0
    assert (approval.request_id, approval.approver, approval.deadline) == (record.id, "omar.haddad", deadline)

    request = request_store.get(record.id)
    assert request.status is S.AWAITING_APPROVAL
    assert request_store.history(record.id)[-1].reason == "amount over $10,000"
    actions = [e.action for e in request_store.audit_trail(record.id)][-2:]
    assert actions == ["request.awaiting_approval", "approval.requested"]
    assert request_store.approvals() == [approval]
    assert request_store.get_approval(approval.id) == approval


def test_request_approval_needs_a_running_request_and_an_aware_deadline(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.QUEUED)
    with pytest.raises(StaleTransition):
        request_store.request_approval(record.id, "omar.haddad", _deadline(), actor="agent")
    with pytest.raises(ValueError, match="timezone-aware"):
        request_store.request_approval(record.id, "omar.haddad", datetime(2030, 1, 1), actor="agent")
    assert request_store.approvals() == []


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_decide_once(request_store: RequestStore, decision: str) -> None:
    request_id, approval_id = _awaiting(request_store)

    decided = request_store.decide(request_id, decision, "omar.haddad", reason="checked the PO")  # type: ignore[arg-type]
    assert decided.id == approval_id and decided.decision == decision and not decided.is_pending
    assert decided.decided_by == "omar.haddad" and decided.decided_at is not None
    assert decided.reason == "checked the PO"
    request = request_store.get(request_id)
    assert request.status == decision
    assert request_store.history(request_id)[-1].actor == "omar.haddad"
    assert request_store.audit_trail(request_id)[-1].action == "approval.decided"

    # A second decision, either way, is refused with who decided and when.
    for second in ("approved", "rejected"):
        with pytest.raises(ApprovalAlreadyDecided, match=f"already {decision} by omar.haddad") as caught:
            request_store.decide(request_id, second, "elena.garcia")  # type: ignore[arg-type]
        assert caught.value.approval == decided
    assert request_store.get(request_id) == request
    assert request_store.approvals() == []
    assert request_store.approvals(decision) == [decided]
    assert request_store.approvals(None, request_id=request_id) == [decided]


def test_approved_request_resumes_and_can_ask_again(request_store: RequestStore) -> None:
    request_id, first_id = _awaiting(request_store)
    request_store.decide(request_id, "approved", "omar.haddad")
    request_store.transition(request_id, S.QUEUED, actor="resume")
    request_store.transition(request_id, S.RUNNING, actor="worker", expected=S.QUEUED)
    second = request_store.request_approval(request_id, "elena.garcia", _deadline(), actor="agent")
    assert second.id != first_id

    # A button left over from the first approval cannot decide the second one.
    with pytest.raises(ApprovalAlreadyDecided):
        request_store.decide(request_id, "rejected", "omar.haddad", approval_id=first_id)
    done = request_store.decide(request_id, S.APPROVED, "elena.garcia", approval_id=second.id)
    assert done.decision == "approved" and request_store.get(request_id).status is S.APPROVED


def test_decide_errors(request_store: RequestStore) -> None:
    running = drive(request_store, new_request(request_store).id, S.RUNNING)
    with pytest.raises(ApprovalNotFound, match="has no pending approval"):
        request_store.decide(running.id, "approved", "x")
    request_id, approval_id = _awaiting(request_store)
    with pytest.raises(ValueError, match="'approved' or 'rejected'"):
        request_store.decide(request_id, "maybe", "x")  # type: ignore[arg-type]
    with pytest.raises(ApprovalNotFound):
        request_store.decide(request_id, "approved", "x", approval_id=approval_id + 1000)

    # A request cancelled while waiting: its approval is no longer pending anywhere, and cannot be decided.
    request_store.transition(request_id, S.CANCELLED, actor="requester")
    assert request_store.approvals() == []
    assert request_store.overdue_approvals(now=_deadline(100)) == []
    with pytest.raises(IllegalTransition):
        request_store.decide(request_id, "approved", "omar.haddad")
    with pytest.raises(ApprovalError, match="no longer awaiting approval"):
        request_store.escalate(approval_id, "elena.garcia", _deadline(), actor="escalation-schedule")


def test_overdue_and_escalate(request_store: RequestStore) -> None:
    soon_id, soon_approval = _awaiting(request_store, hours=1)
    late_id, late_approval = _awaiting(request_store, hours=3)
    _awaiting(request_store, hours=10)

    assert request_store.overdue_approvals() == []
    at = datetime.now(UTC) + timedelta(hours=5)
    overdue = request_store.overdue_approvals(now=at)
    assert [a.id for a in overdue] == [soon_approval, late_approval]  # oldest deadline first
    assert [a.id for a in request_store.approvals()][:2] == [soon_approval, late_approval]

    new_deadline = at + timedelta(hours=4)
    escalated = request_store.escalate(
        soon_approval, "elena.garcia", new_deadline, actor="escalation-schedule"
    )
    assert (escalated.approver, escalated.deadline, escalated.escalation_level) == (
        "elena.garcia",
        new_deadline,
        1,
    )
    assert [a.id for a in request_store.overdue_approvals(now=at)] == [late_approval]
    entry = request_store.audit_trail(soon_id)[-1]
    assert entry.action == "approval.escalated" and entry.actor == "escalation-schedule"
    assert entry.detail["from_approver"] == "omar.haddad" and entry.detail["to_approver"] == "elena.garcia"
    assert entry.detail["escalation_level"] == 1

    twice = request_store.escalate(soon_approval, "morgan.reyes", new_deadline, actor="escalation-schedule")
    assert twice.escalation_level == 2

    request_store.decide(late_id, "rejected", "omar.haddad")
    with pytest.raises(ApprovalAlreadyDecided):
        request_store.escalate(late_approval, "elena.garcia", new_deadline, actor="escalation-schedule")
    with pytest.raises(ApprovalNotFound):
        request_store.escalate(987654, "elena.garcia", new_deadline, actor="escalation-schedule")
    with pytest.raises(ValueError, match="timezone-aware"):
        request_store.escalate(soon_approval, "x", datetime(2030, 1, 1), actor="escalation-schedule")
    with pytest.raises(ValueError):
        request_store.approvals("maybe")


def test_one_decision_wins_a_race(request_store: RequestStore) -> None:
    request_id, _ = _awaiting(request_store)
    results = race(
        6, lambda i: request_store.decide(request_id, "approved" if i % 2 else "rejected", f"p{i}")
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ApprovalAlreadyDecided) for r in results if isinstance(r, Exception))
    assert request_store.get(request_id).status == winners[0].decision
