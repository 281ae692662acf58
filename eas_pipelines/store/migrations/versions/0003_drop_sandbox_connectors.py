"""Drop the sandbox connectors' tables: the agents now call the enterprise systems' APIs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Every agent reaches its systems through a vendor connector (``eas_pipelines.connectors``), and the
embedded default runs the vendors' emulators (``eas_sandbox``, with their own database), so the
tables in which the old sandbox connectors recorded calls, and their seed data, are no longer read
or written. Downgrading creates them again, seeded, exactly as revision 0002 did.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "sandbox_notifications",
    "sandbox_ticket_escalations",
    "sandbox_tickets",
    "sandbox_calendar_entries",
    "sandbox_leave_debits",
    "sandbox_leave_balances",
    "sandbox_employees",
    "sandbox_purchase_orders",
    "sandbox_ledger_postings",
)
"""Children before parents, as 0002's downgrade drops them."""


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP SEQUENCE IF EXISTS sandbox_ticket_number_seq")


def downgrade() -> None:
    # Alembic loads revisions by path, not as package modules: load 0002 the same way.
    spec = importlib.util.spec_from_file_location(
        "eas_revision_0002", Path(__file__).with_name("0002_sandbox_connectors.py")
    )
    assert spec is not None and spec.loader is not None
    revision_0002 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision_0002)
    revision_0002.upgrade()
