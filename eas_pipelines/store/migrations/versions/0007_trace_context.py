"""Tracing: the W3C trace context a request was submitted in, kept with the request.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20

One trace per request, from intake to the last connector call: the gateway stores the context of
its request span here (``{"traceparent": ..., "tracestate": ...}``, the W3C carrier), and whoever
runs the request later (a fast-lane worker, the standard lane's run through its ``eas/traceparent``
tag, a retry hours after) continues that trace from it. A column rather than an audit entry: it is
read with the request itself, by every lane.

Nullable, no default: requests stored before this revision, and those submitted with tracing off
(``OTEL_SDK_DISABLED=true``), have none; their runs start traces of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("trace_context", JSONB(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.drop_column("requests", "trace_context")
