"""The state machine's table, as the design specifies it, and its errors."""

from __future__ import annotations

import pytest

from eas_pipelines.store import TERMINAL, TRANSITIONS, IllegalTransition, StaleTransition, Status, is_legal

S = Status

SPEC = {
    S.RECEIVED: {S.CLASSIFIED, S.NEEDS_REVIEW, S.CANCELLED, S.FAILED},
    S.CLASSIFIED: {S.QUEUED, S.NEEDS_REVIEW, S.CANCELLED},
    S.NEEDS_REVIEW: {S.CLASSIFIED, S.QUEUED, S.CANCELLED, S.REJECTED},
    S.QUEUED: {S.RUNNING, S.CANCELLED, S.FAILED},
    S.RUNNING: {S.AWAITING_APPROVAL, S.SUCCEEDED, S.FAILED, S.QUEUED},
    S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED, S.CANCELLED},
    S.APPROVED: {S.QUEUED},
    S.FAILED: {S.QUEUED},
    S.SUCCEEDED: set(),
    S.REJECTED: set(),
    S.CANCELLED: set(),
}


def test_transition_table_is_exactly_the_specified_one() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == SPEC
    assert set(TRANSITIONS) == set(Status)
    assert {S.SUCCEEDED, S.REJECTED, S.CANCELLED} == TERMINAL


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_is_legal_matches_the_table(source: Status, target: Status) -> None:
    assert is_legal(source, target) is (target in SPEC[source])
    assert is_legal(source.value, target.value) is (target in SPEC[source])


def test_status_values_are_the_stored_strings() -> None:
    assert [s.value for s in Status] == [
        "received",
        "classified",
        "needs_review",
        "queued",
        "running",
        "awaiting_approval",
        "approved",
        "rejected",
        "succeeded",
        "failed",
        "cancelled",
    ]


def test_illegal_transition_names_request_and_statuses() -> None:
    error = IllegalTransition("req-1", S.SUCCEEDED, S.RUNNING)
    assert isinstance(error, ValueError)
    assert "req-1" in str(error) and "succeeded -> running" in str(error)
    assert "terminal" in str(error)
    assert (error.request_id, error.from_status, error.to_status) == ("req-1", S.SUCCEEDED, S.RUNNING)


def test_stale_transition_is_an_illegal_transition() -> None:
    error = StaleTransition("req-2", S.RUNNING, S.RUNNING, {S.QUEUED})
    assert isinstance(error, IllegalTransition)
    assert error.expected == {S.QUEUED}
    assert "req-2" in str(error) and "expected status queued" in str(error) and "it is running" in str(error)
