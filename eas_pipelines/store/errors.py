"""Errors the request store raises besides :class:`~eas_pipelines.store.states.IllegalTransition`.

They subclass ``LookupError``/``ValueError`` so that callers can map them to HTTP 404/409 without
importing SQLAlchemy, and carry the ids involved for the error message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eas_pipelines.store.records import ApprovalRecord


class RequestNotFound(LookupError):
    """No request has this id."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"request {request_id} not found")


class ApprovalError(ValueError):
    """An approval operation that cannot be carried out (base class)."""


class ApprovalNotFound(ApprovalError, LookupError):
    """No approval matches (an unknown approval id, or a request that never asked for one)."""


class ApprovalAlreadyDecided(ApprovalError):
    """The approval was decided before: a second click, a stale Slack button, a race between two approvers."""

    def __init__(self, approval: ApprovalRecord) -> None:
        self.approval = approval
        super().__init__(
            f"approval {approval.id} for request {approval.request_id} was already {approval.decision} "
            f"by {approval.decided_by} at {approval.decided_at:%Y-%m-%dT%H:%M:%S%z}"
        )


class ApprovalForbidden(ApprovalError, PermissionError):
    """The caller may not decide this approval: not its named approver, not a holder of its role,
    not anybody's delegate who is (or the same person who decided an earlier level)."""

    def __init__(self, approval: ApprovalRecord, principal: str, why: str) -> None:
        self.approval = approval
        self.principal = principal
        super().__init__(
            f"{principal} may not decide approval {approval.id} for request {approval.request_id} "
            f"(approver: {approval.approver}): {why}"
        )
