"""The request state machine: statuses, the transitions between them, priorities and lanes.

The transition table is the single place that says what may happen to a request. The store checks
every status change against it inside the same row lock that applies the change, so no caller (the
gateway, a fast-lane worker, a Dagster op, an operator) can move a request along an edge that is not
listed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum


class Status(StrEnum):
    """Where a request is in its life (see ARCHITECTURE.md, "A request's life")."""

    RECEIVED = "received"
    CLASSIFIED = "classified"
    NEEDS_REVIEW = "needs_review"
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Priority(IntEnum):
    """Lower is more urgent, so that ``ORDER BY priority`` serves P0 first."""

    P0 = 0
    P1 = 1
    P2 = 2


class Lane(StrEnum):
    """``fast``: the Redis queue and warm workers; ``standard``: the Dagster sensor and run queue."""

    FAST = "fast"
    STANDARD = "standard"


S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.CLASSIFIED, S.NEEDS_REVIEW, S.CANCELLED, S.FAILED}),
    S.CLASSIFIED: frozenset({S.QUEUED, S.NEEDS_REVIEW, S.CANCELLED}),
    S.NEEDS_REVIEW: frozenset({S.CLASSIFIED, S.QUEUED, S.CANCELLED, S.REJECTED}),
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED, S.FAILED}),
    # running -> queued is a retry, or a reclaim of work held by a dead worker.
    S.RUNNING: frozenset({S.AWAITING_APPROVAL, S.SUCCEEDED, S.FAILED, S.QUEUED}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.QUEUED}),
    # failed -> queued is a manual or recovery retry; failed is therefore not terminal.
    S.FAILED: frozenset({S.QUEUED}),
    S.SUCCEEDED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
"""Every legal ``from -> to`` edge; anything not listed is illegal."""

TERMINAL: frozenset[Status] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
"""Statuses a request never leaves: succeeded, rejected, cancelled."""

del S


def is_legal(from_status: Status | str, to_status: Status | str) -> bool:
    """Whether ``from_status -> to_status`` is an edge of the state machine."""
    return Status(to_status) in TRANSITIONS[Status(from_status)]


class IllegalTransition(ValueError):
    """A status change the state machine does not allow.

    Carries the request id and both statuses so that logs and API errors say exactly what was
    refused, without the caller having to re-read the request.
    """

    def __init__(self, request_id: str, from_status: Status | str, to_status: Status | str) -> None:
        self.request_id = request_id
        self.from_status = Status(from_status)
        self.to_status = Status(to_status)
        super().__init__(self._message())

    def _message(self) -> str:
        allowed = ", ".join(sorted(TRANSITIONS[self.from_status])) or "none: it is terminal"
        return (
            f"request {self.request_id}: illegal transition {self.from_status} -> {self.to_status} "
            f"(allowed from {self.from_status}: {allowed})"
        )


class StaleTransition(IllegalTransition):
    """The request was no longer in the status the caller expected (a lost compare-and-set).

    Workers pass ``expected=`` so that two of them holding the same request (at-least-once delivery,
    reclaims) cannot both start or both complete it: the second one gets this error and drops the work.
    """

    def __init__(
        self,
        request_id: str,
        from_status: Status | str,
        to_status: Status | str,
        expected: Iterable[Status | str],
    ) -> None:
        self.expected = frozenset(Status(s) for s in expected)
        super().__init__(request_id, from_status, to_status)

    def _message(self) -> str:
        expected = "|".join(sorted(self.expected))
        return (
            f"request {self.request_id}: stale transition to {self.to_status}: expected status "
            f"{expected} but it is {self.from_status}"
        )
