"""Governance: a hash-chained audit log, approver roles, delegations and multi-level approvals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Audit chain. Each ``audit_log`` row gets ``seq`` (its place in the chain, gap-free), ``prev_hash``
(the previous row's ``hash``; 64 zeros for the first) and ``hash`` = SHA-256 of the row's content
and ``prev_hash`` (:func:`eas_audit_entry_hash`). A ``BEFORE INSERT`` row trigger fills all three
under a transaction-scoped advisory lock, so every writer (any process, any code path, a raw
``INSERT`` included) extends one linear chain; the unique index on ``seq`` makes a fork impossible
rather than silent. The trigger, not Python, computes the hash: one definition of the canonical
form (``jsonb_build_array(...)::text``, which is deterministic), used again by the verifier
(:mod:`eas_pipelines.store.chain`). Existing rows are chained in id order by the upgrade.

The price: transactions that write audit rows commit one after the other from their first audit
insert on (the lock is held to commit). Store transactions are short, and a single chain needs a
single order.

Approver roles and delegations are small tables the decision path reads (gateway and workflow
alike): who holds which approver role, and who decides for whom until when. Approvals get
``stage``: 1 for the first level, 2 for the second approver role that amounts above the second
threshold need after the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = TIMESTAMP(timezone=True)
GENESIS = "0" * 64
CHAIN_LOCK_KEY = 0x4541534155444954  # "EASAUDIT": serialises appends to the chain

HASH_FUNCTION = """
CREATE FUNCTION eas_audit_entry_hash(
    prev_hash text, seq bigint, id bigint, at timestamptz,
    request_id text, actor text, action text, detail jsonb
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        seq, id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        request_id, actor, action, detail, prev_hash
    )::text, 'UTF8')), 'hex')
$$
"""

CHAIN_FUNCTION = f"""
CREATE FUNCTION eas_audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    NEW.seq := COALESCE(last_seq, 0) + 1;
    NEW.prev_hash := COALESCE(last_hash, '{GENESIS}');
    NEW.hash := eas_audit_entry_hash(
        NEW.prev_hash, NEW.seq, NEW.id, NEW.at, NEW.request_id, NEW.actor, NEW.action, NEW.detail
    );
    RETURN NEW;
END
$$
"""

BACKFILL = f"""
DO $$
DECLARE
    r record;
    n bigint := 0;
    h text := '{GENESIS}';
    next_hash text;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        next_hash := eas_audit_entry_hash(h, n, r.id, r.at, r.request_id, r.actor, r.action, r.detail);
        UPDATE audit_log SET seq = n, prev_hash = h, hash = next_hash WHERE id = r.id;
        h := next_hash;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    op.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
    op.add_column("audit_log", sa.Column("seq", sa.BigInteger()))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("hash", sa.String(64)))
    op.execute(HASH_FUNCTION)
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    for column in ("seq", "prev_hash", "hash"):
        op.alter_column("audit_log", column, nullable=False)
    op.create_index("uq_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.execute(CHAIN_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION eas_audit_log_chain()"
    )

    op.add_column("approvals", sa.Column("stage", sa.SmallInteger(), nullable=False, server_default="1"))
    op.create_check_constraint("ck_approvals_stage", "approvals", "stage >= 1")

    op.create_table(
        "approver_roles",
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
        sa.Column("granted_at", TZ, nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("principal", "role", name="pk_approver_roles"),
    )
    op.create_table(
        "approval_delegations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delegator", sa.String(255), nullable=False),
        sa.Column("delegate", sa.String(255), nullable=False),
        sa.Column("starts_at", TZ, nullable=False, server_default=sa.text("now()")),
        sa.Column("until", TZ, nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.text("now()")),
        sa.Column("revoked_at", TZ),
        sa.Column("revoked_by", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_approval_delegations"),
        sa.CheckConstraint("until > starts_at", name="ck_approval_delegations_period"),
        sa.CheckConstraint("delegator <> delegate", name="ck_approval_delegations_not_self"),
    )
    op.create_index("ix_approval_delegations_delegate_until", "approval_delegations", ["delegate", "until"])
    op.create_index("ix_approval_delegations_delegator_until", "approval_delegations", ["delegator", "until"])


def downgrade() -> None:
    op.drop_table("approval_delegations")
    op.drop_table("approver_roles")
    op.drop_constraint("ck_approvals_stage", "approvals", type_="check")
    op.drop_column("approvals", "stage")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS eas_audit_log_chain()")
    op.drop_index("uq_audit_log_seq", "audit_log")
    for column in ("hash", "prev_hash", "seq"):
        op.drop_column("audit_log", column)
    op.execute(
        "DROP FUNCTION IF EXISTS "
        "eas_audit_entry_hash(text, bigint, bigint, timestamptz, text, text, text, jsonb)"
    )
