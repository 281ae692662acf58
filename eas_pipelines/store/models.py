"""SQLAlchemy models of the request store: the schema that migration 0001 creates.

These classes describe the tables for the repository's queries and for ``alembic revision
--autogenerate`` during development; the schema itself is created only by the hand-written migrations
(see :mod:`eas_pipelines.store.migrate`), never by ``metadata.create_all``, so that the append-only
trigger on ``audit_log`` and every constraint are always in place.

Statuses, lanes and decisions are stored as text with CHECK constraints rather than PostgreSQL enum
types: adding a status is then a one-line constraint swap instead of an ``ALTER TYPE`` that cannot run
inside a transaction on older servers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eas_pipelines.store.states import Lane, Status

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TZ = TIMESTAMP(timezone=True)


def _in_list(column: str, values: list[str], *, nullable: bool = False) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    check = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {check}" if nullable else check


STATUS_VALUES = [s.value for s in Status]
STATUS_CHECK = _in_list("status", STATUS_VALUES)
LANE_CHECK = _in_list("lane", [lane.value for lane in Lane], nullable=True)
DECISION_CHECK = _in_list("decision", [Status.APPROVED.value, Status.REJECTED.value], nullable=True)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names are stable across migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Request(Base):
    """One natural-language request, from intake to its final status."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(255))
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[Any | None] = mapped_column(JSONB(none_as_null=True))
    agent: Mapped[str | None] = mapped_column(String(255))
    workflow: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int | None] = mapped_column(SmallInteger)
    lane: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), server_default=Status.RECEIVED.value)
    run_ids: Mapped[list[str]] = mapped_column(JSONB, server_default=sql("'[]'::jsonb"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    nlp_model_version: Mapped[str | None] = mapped_column(String(255))
    # The conversation it continues or started (revision 0006); None for a request on its own.
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    # The W3C trace context it was submitted in (revision 0007): its runs continue that trace.
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    classified_at: Mapped[datetime | None] = mapped_column(TZ)
    queued_at: Mapped[datetime | None] = mapped_column(TZ)
    started_at: Mapped[datetime | None] = mapped_column(TZ)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)

    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key"),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(LANE_CHECK, name="lane"),
        CheckConstraint("priority IS NULL OR priority BETWEEN 0 AND 2", name="priority"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("jsonb_typeof(run_ids) = 'array'", name="run_ids_array"),
        # A queued request without a lane or priority would be invisible to both lanes.
        CheckConstraint(
            "status <> 'queued' OR (lane IS NOT NULL AND priority IS NOT NULL)", name="queued_routed"
        ),
        # The fast lane's recovery reads queued work by priority, oldest first.
        Index(None, "status", "priority", "queued_at"),
        # Per-agent dashboards and concurrency checks.
        Index(None, "agent", "status"),
        # Reconciler (stuck in received) and stale-running scans.
        Index(None, "status", "updated_at"),
        # Keyset pagination of the newest-first listing.
        Index(None, "created_at", "id"),
        # A conversation's requests (revision 0006).
        Index(None, "conversation_id"),
        # The standard-lane sensor's cursor scan: only queued rows, in (queued_at, id) order.
        Index(
            "ix_requests_queued_lane",
            "lane",
            "queued_at",
            "id",
            postgresql_where=sql("status = 'queued'"),
        ),
    )


class RequestTransition(Base):
    """One status change of a request: its history, deleted with the request (unlike the audit log)."""

    __tablename__ = "request_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(36), ForeignKey("requests.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))

    __table_args__ = (
        CheckConstraint(_in_list("to_status", STATUS_VALUES), name="to_status"),
        CheckConstraint(_in_list("from_status", STATUS_VALUES, nullable=True), name="from_status"),
        Index(None, "request_id", "id"),
    )


class Approval(Base):
    """A decision asked of a person; at most one is pending per request at a time."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(36), ForeignKey("requests.id", ondelete="CASCADE"))
    approver: Mapped[str] = mapped_column(String(255))
    deadline: Mapped[datetime] = mapped_column(TZ)
    escalation_level: Mapped[int] = mapped_column(Integer, server_default=sql("0"))
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(TZ)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    # Multi-level approval (migration 0004): 1 for the first approver, 2 for the second role that
    # must approve after the first (amounts over the second threshold).
    stage: Mapped[int] = mapped_column(SmallInteger, server_default=sql("1"))

    __table_args__ = (
        CheckConstraint(DECISION_CHECK, name="decision"),
        CheckConstraint("stage >= 1", name="stage"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decided_at"),
        CheckConstraint("escalation_level >= 0", name="escalation_level"),
        # The escalation schedule's scan: pending (decision IS NULL) past their deadline.
        Index(None, "decision", "deadline"),
        Index(None, "request_id"),
        Index(
            "uq_approvals_one_pending",
            "request_id",
            unique=True,
            postgresql_where=sql("decision IS NULL"),
        ),
    )


class AuditLog(Base):
    """The append-only, hash-chained audit log: a trigger refuses UPDATE, DELETE and TRUNCATE.

    ``seq``, ``prev_hash`` and ``hash`` are set by the database (the ``audit_log_chain`` trigger of
    migration 0004), never by Python: every row holds the hash of the one before it, so changing or
    removing a row breaks the chain (:mod:`eas_pipelines.store.chain` verifies it).

    ``request_id`` is deliberately not a foreign key: audit entries must outlive a request deleted by
    retention, and some (authentication failures, configuration changes) belong to no request.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    request_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql("'{}'::jsonb"))
    seq: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    prev_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())

    __table_args__ = (
        Index(None, "request_id", "id"),
        Index(None, "at"),
        Index("uq_audit_log_seq", "seq", unique=True),
    )
    # id, at and the chain columns come back with the INSERT (RETURNING)
    __mapper_args__ = {"eager_defaults": True}


class ApproverRole(Base):
    """Who holds an approver role ("finance_manager", "cfo"): one of the ways to be allowed to decide."""

    __tablename__ = "approver_roles"

    principal: Mapped[str] = mapped_column(String(255), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))


class ApprovalDelegation(Base):
    """``delegator`` is away: ``delegate`` may decide what ``delegator`` may, from ``starts_at`` to
    ``until`` (unless revoked). Kept after it ends: a decision taken under it stays explained."""

    __tablename__ = "approval_delegations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delegator: Mapped[str] = mapped_column(String(255))
    delegate: Mapped[str] = mapped_column(String(255))
    starts_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    until: Mapped[datetime] = mapped_column(TZ)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)
    revoked_by: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        CheckConstraint("until > starts_at", name="period"),
        CheckConstraint("delegator <> delegate", name="not_self"),
        Index(None, "delegate", "until"),
        Index(None, "delegator", "until"),
    )
