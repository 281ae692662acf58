"""Plain, frozen snapshots of store rows.

The store returns these instead of ORM objects so that callers (other threads, Dagster ops, the API)
never hold a session, never trigger a lazy load, and cannot change a row by assigning to an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from eas_pipelines.store.models import Approval, ApprovalDelegation, AuditLog, Request, RequestTransition
from eas_pipelines.store.states import TERMINAL, Lane, Priority, Status

Decision = Literal["approved", "rejected"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request as it was when the store's transaction committed."""

    id: str
    client_id: str
    idempotency_key: str
    text: str
    status: Status
    intent: str | None
    confidence: float | None
    entities: Any
    agent: str | None
    workflow: str | None
    priority: Priority | None
    lane: Lane | None
    run_ids: tuple[str, ...]
    attempts: int
    last_error: str | None
    nlp_model_version: str | None
    created_at: datetime
    updated_at: datetime
    classified_at: datetime | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    conversation_id: str | None = None
    """The conversation the request continues or started (set at submit, never changed)."""
    trace_context: dict[str, str] | None = None
    """The W3C trace context (``traceparent``, ``tracestate``) it was submitted in; None without
    tracing. Set at submit, never changed: every run of the request continues that trace."""

    @property
    def is_terminal(self) -> bool:
        """True for succeeded, rejected and cancelled: nothing will happen to it any more."""
        return self.status in TERMINAL

    @property
    def effective_priority(self) -> Priority:
        """The priority to queue and run it at: its own, or P1 while it has none (not yet routed).

        One place for that default: written inline as ``record.priority or P1`` it once turned P0,
        which is 0, into P1.
        """
        return Priority(self.priority) if self.priority is not None else Priority.P1

    @property
    def cursor(self) -> tuple[datetime, str] | None:
        """``(queued_at, id)``: the key :meth:`RequestStore.queued_for_lane` pages by."""
        return (self.queued_at, self.id) if self.queued_at is not None else None

    @classmethod
    def from_row(cls, row: Request) -> RequestRecord:
        return cls(
            id=row.id,
            client_id=row.client_id,
            idempotency_key=row.idempotency_key,
            text=row.text,
            status=Status(row.status),
            intent=row.intent,
            confidence=row.confidence,
            entities=row.entities,
            agent=row.agent,
            workflow=row.workflow,
            priority=Priority(row.priority) if row.priority is not None else None,
            lane=Lane(row.lane) if row.lane is not None else None,
            run_ids=tuple(row.run_ids or ()),
            attempts=row.attempts,
            last_error=row.last_error,
            nlp_model_version=row.nlp_model_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            classified_at=row.classified_at,
            queued_at=row.queued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            conversation_id=row.conversation_id,
            trace_context=dict(row.trace_context) if row.trace_context else None,
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of a request's status history; ``from_status`` is None for the initial ``received``."""

    id: int
    request_id: str
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str | None
    at: datetime

    @classmethod
    def from_row(cls, row: RequestTransition) -> Transition:
        return cls(
            id=row.id,
            request_id=row.request_id,
            from_status=Status(row.from_status) if row.from_status is not None else None,
            to_status=Status(row.to_status),
            actor=row.actor,
            reason=row.reason,
            at=row.at,
        )


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """A request for a person's decision; ``decision`` is None while it is pending."""

    id: int
    request_id: str
    approver: str
    deadline: datetime
    escalation_level: int
    decision: Decision | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime
    stage: int = 1

    @property
    def is_pending(self) -> bool:
        return self.decision is None

    @classmethod
    def from_row(cls, row: Approval) -> ApprovalRecord:
        return cls(
            id=row.id,
            request_id=row.request_id,
            approver=row.approver,
            deadline=row.deadline,
            escalation_level=row.escalation_level,
            decision=row.decision,  # type: ignore[arg-type]  # the CHECK constraint guarantees the literal
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            reason=row.reason,
            created_at=row.created_at,
            stage=row.stage,
        )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log, with its place in the hash chain."""

    id: int
    at: datetime
    request_id: str | None
    actor: str
    action: str
    detail: dict[str, Any]
    seq: int | None = None
    hash: str | None = None

    @classmethod
    def from_row(cls, row: AuditLog) -> AuditEntry:
        return cls(
            id=row.id,
            at=row.at,
            request_id=row.request_id,
            actor=row.actor,
            action=row.action,
            detail=dict(row.detail or {}),
            seq=row.seq,
            hash=row.hash,
        )


@dataclass(frozen=True, slots=True)
class DelegationRecord:
    """``delegator`` lets ``delegate`` decide their approvals from ``starts_at`` until ``until``."""

    id: int
    delegator: str
    delegate: str
    starts_at: datetime
    until: datetime
    reason: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    def active_at(self, at: datetime) -> bool:
        """Whether the delegation is in force at ``at``."""
        return self.revoked_at is None and self.starts_at <= at < self.until

    @classmethod
    def from_row(cls, row: ApprovalDelegation) -> DelegationRecord:
        return cls(
            id=row.id,
            delegator=row.delegator,
            delegate=row.delegate,
            starts_at=row.starts_at,
            until=row.until,
            reason=row.reason,
            created_by=row.created_by,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
