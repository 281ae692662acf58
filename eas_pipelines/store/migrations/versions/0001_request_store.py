"""Request store: requests, their transitions, approvals and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2025-11-28

Written by hand. The status, lane and decision lists are spelled out here rather than imported from
the application, so that this revision keeps creating the same schema whatever the code says later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "'received', 'classified', 'needs_review', 'queued', 'running', 'awaiting_approval', "
    "'approved', 'rejected', 'succeeded', 'failed', 'cancelled'"
)
TZ = TIMESTAMP(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(255)),
        sa.Column("confidence", sa.Float()),
        sa.Column("entities", JSONB()),
        sa.Column("agent", sa.String(255)),
        sa.Column("workflow", sa.String(255)),
        sa.Column("priority", sa.SmallInteger()),
        sa.Column("lane", sa.String(16)),
        sa.Column("status", sa.String(32), nullable=False, server_default="received"),
        sa.Column("run_ids", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text()),
        sa.Column("nlp_model_version", sa.String(255)),
        sa.Column("created_at", TZ, nullable=False, server_default=_now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=_now()),
        sa.Column("classified_at", TZ),
        sa.Column("queued_at", TZ),
        sa.Column("started_at", TZ),
        sa.Column("finished_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_requests_client_id_idempotency_key"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_requests_status"),
        sa.CheckConstraint("lane IS NULL OR lane IN ('fast', 'standard')", name="ck_requests_lane"),
        sa.CheckConstraint("priority IS NULL OR priority BETWEEN 0 AND 2", name="ck_requests_priority"),
        sa.CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="ck_requests_confidence"
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_requests_attempts"),
        sa.CheckConstraint("jsonb_typeof(run_ids) = 'array'", name="ck_requests_run_ids_array"),
        sa.CheckConstraint(
            "status <> 'queued' OR (lane IS NOT NULL AND priority IS NOT NULL)",
            name="ck_requests_queued_routed",
        ),
    )
    op.create_index("ix_requests_status_priority_queued_at", "requests", ["status", "priority", "queued_at"])
    op.create_index("ix_requests_agent_status", "requests", ["agent", "status"])
    op.create_index("ix_requests_status_updated_at", "requests", ["status", "updated_at"])
    op.create_index("ix_requests_created_at_id", "requests", ["created_at", "id"])
    op.create_index(
        "ix_requests_queued_lane",
        "requests",
        ["lane", "queued_at", "id"],
        postgresql_where=sa.text("status = 'queued'"),
    )

    op.create_table(
        "request_transitions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_request_transitions"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_request_transitions_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(f"to_status IN ({STATUSES})", name="ck_request_transitions_to_status"),
        sa.CheckConstraint(
            f"from_status IS NULL OR from_status IN ({STATUSES})", name="ck_request_transitions_from_status"
        ),
    )
    op.create_index("ix_request_transitions_request_id_id", "request_transitions", ["request_id", "id"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("approver", sa.String(255), nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("decision", sa.String(16)),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_at", TZ),
        sa.Column("reason", sa.Text()),
        sa.Column("created_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_approvals_request_id_requests", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('approved', 'rejected')", name="ck_approvals_decision"
        ),
        sa.CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="ck_approvals_decided_at"),
        sa.CheckConstraint("escalation_level >= 0", name="ck_approvals_escalation_level"),
    )
    op.create_index("ix_approvals_decision_deadline", "approvals", ["decision", "deadline"])
    op.create_index("ix_approvals_request_id", "approvals", ["request_id"])
    op.create_index(
        "uq_approvals_one_pending",
        "approvals",
        ["request_id"],
        unique=True,
        postgresql_where=sa.text("decision IS NULL"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=_now()),
        sa.Column("request_id", sa.String(36)),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_request_id_id", "audit_log", ["request_id", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    # Append-only: statement-level, so even an UPDATE or DELETE that matches no row is refused, and
    # TRUNCATE (which skips row triggers) is covered too. DROP TABLE stays possible for downgrades.
    op.execute(
        """
        CREATE FUNCTION eas_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'audit entries are only ever inserted';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_log_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION eas_audit_log_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS eas_audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("approvals")
    op.drop_table("request_transitions")
    op.drop_table("requests")
