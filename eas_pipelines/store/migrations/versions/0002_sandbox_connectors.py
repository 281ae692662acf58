"""Sandbox connectors: what EAS would send to the ledger, HRIS, calendar, help desk and chat.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-28

Written by hand, like 0001. The embedded default has no enterprise systems to call, so each
connector's sandbox implementation (``eas_pipelines.resources.connectors``) records its calls in
these tables. Seed rows give the sandbox the reference data a workflow reads: purchase orders to
match invoices against, an org chart for approvers and escalations, and leave balances. Seed
values are spelled out here (``vendor_key`` precomputed with ``tables.vendor_key``'s rule) so this
revision always creates the same data, whatever the code says later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = TIMESTAMP(timezone=True)

# (po_number, vendor, vendor_key, amount, currency, status, description)
PURCHASE_ORDERS = (
    ("PO-10001", "Acme Corp", "acme", 50000, "USD", "open", "Office hardware, FY framework order"),
    ("PO-10002", "Globex", "globex", 8000, "USD", "open", "Consulting hours Q1"),
    ("PO-10003", "Initech Ltd", "initech", 25000, "USD", "open", "Printer fleet lease"),
    ("PO-10004", "Hooli", "hooli", 120000, "USD", "open", "Cloud platform annual subscription"),
    ("PO-10005", "Umbrella Supplies", "umbrella supplies", 5000, "USD", "closed", "Lab consumables"),
    ("PO-10006", "Stark Industries", "stark industries", 15000, "USD", "open", "Security hardware"),
    ("PO-10007", "Northwind Traders", "northwind traders", 3500, "USD", "open", "Catering supplies"),
    ("PO-10008", "Contoso Ltd", "contoso", 60000, "USD", "open", "ERP implementation services"),
    ("PO-10009", "Fabrikam", "fabrikam", 20000, "EUR", "open", "EU office furniture"),
    ("PO-10010", "Acme Corp", "acme", 2000, "USD", "open", "Spare parts"),
    ("PO-10011", "Keystone Office Supply", "keystone office supply", 4000, "USD", "open", "Stationery"),
    ("PO-10012", "Atlas Paper Co", "atlas paper", 1500, "USD", "open", "Paper stock"),
)

# (employee_id, display_name, email, title, manager_id): a small org chart, VP at the top.
EMPLOYEES = (
    ("morgan.reyes", "Morgan Reyes", "morgan.reyes@example.com", "VP Operations", None),
    ("priya.patel", "Priya Patel", "priya.patel@example.com", "Director of Engineering", "morgan.reyes"),
    ("elena.garcia", "Elena Garcia", "elena.garcia@example.com", "Director of Finance", "morgan.reyes"),
    ("dana.smith", "Dana Smith", "dana.smith@example.com", "Engineering Manager", "priya.patel"),
    ("omar.haddad", "Omar Haddad", "omar.haddad@example.com", "Finance Manager", "elena.garcia"),
    ("marcus.chen", "Marcus Chen", "marcus.chen@example.com", "Software Engineer", "dana.smith"),
    ("aisha.okafor", "Aisha Okafor", "aisha.okafor@example.com", "Data Analyst", "dana.smith"),
    ("tom.nguyen", "Tom Nguyen", "tom.nguyen@example.com", "Support Engineer", "dana.smith"),
    ("sofia.rossi", "Sofia Rossi", "sofia.rossi@example.com", "Accountant", "omar.haddad"),
    ("kenji.tanaka", "Kenji Tanaka", "kenji.tanaka@example.com", "AP Specialist", "omar.haddad"),
)

# (employee_id, leave_type, balance_days)
LEAVE_BALANCES = (
    ("marcus.chen", "vacation", 15),
    ("marcus.chen", "sick", 10),
    ("marcus.chen", "personal", 3),
    ("aisha.okafor", "vacation", 22),
    ("aisha.okafor", "sick", 10),
    ("aisha.okafor", "personal", 3),
    ("tom.nguyen", "vacation", 8),
    ("tom.nguyen", "sick", 4),
    ("tom.nguyen", "personal", 1),
    ("sofia.rossi", "vacation", 12.5),
    ("sofia.rossi", "sick", 10),
    ("kenji.tanaka", "vacation", 1),
    ("kenji.tanaka", "sick", 2),
    ("dana.smith", "vacation", 20),
    ("dana.smith", "sick", 10),
    ("omar.haddad", "vacation", 18),
    ("omar.haddad", "sick", 10),
)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "sandbox_ledger_postings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36)),
        sa.Column("vendor", sa.String(255), nullable=False),
        sa.Column("vendor_key", sa.String(255), nullable=False),
        sa.Column("invoice_id", sa.String(100), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("po_number", sa.String(100)),
        sa.Column("debit_account", sa.String(100), nullable=False),
        sa.Column("credit_account", sa.String(100), nullable=False),
        sa.Column("memo", sa.Text()),
        sa.Column("invoice_date", sa.Date()),
        sa.Column("due_date", sa.Date()),
        sa.Column("posted_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_ledger_postings"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_ledger_postings_idempotency_key"),
        # One posting per vendor invoice: the last line of defence against paying an invoice twice.
        sa.UniqueConstraint("vendor_key", "invoice_id", name="uq_sandbox_ledger_postings_vendor_invoice"),
        sa.CheckConstraint("amount > 0", name="ck_sandbox_ledger_postings_amount"),
    )

    op.create_table(
        "sandbox_purchase_orders",
        sa.Column("po_number", sa.String(100), nullable=False),
        sa.Column("vendor", sa.String(255), nullable=False),
        sa.Column("vendor_key", sa.String(255), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("amount_invoiced", sa.Numeric(14, 2), nullable=False, server_default=sa.text("0")),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("created_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("po_number", name="pk_sandbox_purchase_orders"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_sandbox_purchase_orders_status"),
    )
    op.create_index("ix_sandbox_purchase_orders_vendor_key", "sandbox_purchase_orders", ["vendor_key"])

    op.create_table(
        "sandbox_employees",
        sa.Column("employee_id", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("title", sa.String(255)),
        sa.Column("manager_id", sa.String(255)),
        sa.PrimaryKeyConstraint("employee_id", name="pk_sandbox_employees"),
    )

    op.create_table(
        "sandbox_leave_balances",
        sa.Column("employee_id", sa.String(255), nullable=False),
        sa.Column("leave_type", sa.String(64), nullable=False),
        sa.Column("balance_days", sa.Numeric(6, 2), nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("employee_id", "leave_type", name="pk_sandbox_leave_balances"),
    )

    op.create_table(
        "sandbox_leave_debits",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36)),
        sa.Column("employee_id", sa.String(255), nullable=False),
        sa.Column("leave_type", sa.String(64), nullable=False),
        sa.Column("days", sa.Numeric(6, 2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_leave_debits"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_leave_debits_idempotency_key"),
    )

    op.create_table(
        "sandbox_calendar_entries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36)),
        sa.Column("calendar", sa.String(255), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_calendar_entries"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_calendar_entries_idempotency_key"),
    )

    op.execute("CREATE SEQUENCE sandbox_ticket_number_seq START 10001")
    op.create_table(
        "sandbox_tickets",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ticket_number", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36)),
        sa.Column("external_ref", sa.String(100)),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default=sa.text("'open'")),
        sa.Column("first_response", sa.Text()),
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("escalated_to", sa.String(255)),
        sa.Column("response_due", TZ),
        sa.Column("resolution_due", TZ),
        sa.Column("created_at", TZ, nullable=False, server_default=_now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_tickets"),
        sa.UniqueConstraint("ticket_number", name="uq_sandbox_tickets_ticket_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_tickets_idempotency_key"),
        sa.CheckConstraint("priority IN ('P0', 'P1', 'P2')", name="ck_sandbox_tickets_priority"),
    )
    op.create_index("ix_sandbox_tickets_external_ref", "sandbox_tickets", ["external_ref"])

    op.create_table(
        "sandbox_ticket_escalations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("ticket_number", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_ticket_escalations"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_ticket_escalations_idempotency_key"),
    )

    op.create_table(
        "sandbox_notifications",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(36)),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("detail", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("sent_at", TZ, nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_notifications"),
        sa.UniqueConstraint("idempotency_key", name="uq_sandbox_notifications_idempotency_key"),
    )
    op.create_index("ix_sandbox_notifications_request_id", "sandbox_notifications", ["request_id"])

    _seed()


def _rows(columns: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> list[dict[str, object]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _seed() -> None:
    for name, columns, rows in (
        (
            "sandbox_purchase_orders",
            ("po_number", "vendor", "vendor_key", "amount", "currency", "status", "description"),
            PURCHASE_ORDERS,
        ),
        ("sandbox_employees", ("employee_id", "display_name", "email", "title", "manager_id"), EMPLOYEES),
        ("sandbox_leave_balances", ("employee_id", "leave_type", "balance_days"), LEAVE_BALANCES),
    ):
        op.bulk_insert(sa.table(name, *(sa.column(c) for c in columns)), _rows(columns, rows))


def downgrade() -> None:
    for table in (
        "sandbox_notifications",
        "sandbox_ticket_escalations",
        "sandbox_tickets",
        "sandbox_calendar_entries",
        "sandbox_leave_debits",
        "sandbox_leave_balances",
        "sandbox_employees",
        "sandbox_purchase_orders",
        "sandbox_ledger_postings",
    ):
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS sandbox_ticket_number_seq")
