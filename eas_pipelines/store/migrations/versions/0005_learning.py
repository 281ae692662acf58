"""Learning: reviewers' corrections of classifications, kept as training data.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

One row per correction (a reviewer may correct the same request twice; the training set takes the
newest per request). ``text`` and ``model_intent`` are copied from the request when the correction
is made, so the row is a complete training example on its own: the request may be deleted by
retention later (``request_id`` then becomes NULL through ``ON DELETE SET NULL``) without the
model losing what the reviewer taught it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "classification_corrections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_intent", sa.String(255), nullable=True),
        sa.Column("corrected_intent", sa.String(255), nullable=False),
        sa.Column("corrected_entities", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("reviewer", sa.String(255), nullable=False),
        sa.Column("source", sa.String(32), nullable=False, server_default="review"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name="pk_classification_corrections"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_classification_corrections_request_id_requests",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "jsonb_typeof(corrected_entities) = 'array'",
            name="ck_classification_corrections_entities_array",
        ),
        sa.CheckConstraint("source IN ('review', 'feedback')", name="ck_classification_corrections_source"),
    )
    op.create_index(
        "ix_classification_corrections_request_id_id", "classification_corrections", ["request_id", "id"]
    )
    op.create_index("ix_classification_corrections_created_at", "classification_corrections", ["created_at"])


def downgrade() -> None:
    op.drop_table("classification_corrections")
