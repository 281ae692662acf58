"""The sandbox connectors' tables: what EAS would have sent to each enterprise system.

In the embedded default there is no ERP, HRIS, calendar, help desk or chat to call, so each
connector's sandbox implementation writes the call it would make into a PostgreSQL table in the
request store's database, where the API and an operator can inspect it. The schema is created by
the store's Alembic revision ``0002_sandbox_connectors`` (never by ``create_all``); these Core
tables only describe it for the queries.

Every table that records an action has a unique ``idempotency_key``: ops are retried and runs are
delivered at least once, so the same action may be attempted twice and must land once.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

TZ = TIMESTAMP(timezone=True)
metadata = MetaData()


def _now() -> object:
    return sql("now()")


ledger_postings = Table(
    "sandbox_ledger_postings",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("request_id", String(36)),
    Column("vendor", String(255), nullable=False),
    Column("vendor_key", String(255), nullable=False),
    Column("invoice_id", String(100), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("po_number", String(100)),
    Column("debit_account", String(100), nullable=False),
    Column("credit_account", String(100), nullable=False),
    Column("memo", Text),
    Column("invoice_date", Date),
    Column("due_date", Date),
    Column("posted_at", TZ, nullable=False, server_default=_now()),
)

purchase_orders = Table(
    "sandbox_purchase_orders",
    metadata,
    Column("po_number", String(100), primary_key=True),
    Column("vendor", String(255), nullable=False),
    Column("vendor_key", String(255), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("amount_invoiced", Numeric(14, 2), nullable=False, server_default=sql("0")),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("description", Text),
    Column("created_at", TZ, nullable=False, server_default=_now()),
)

employees = Table(
    "sandbox_employees",
    metadata,
    Column("employee_id", String(255), primary_key=True),
    Column("display_name", String(255), nullable=False),
    Column("email", String(255)),
    Column("title", String(255)),
    Column("manager_id", String(255)),
)

leave_balances = Table(
    "sandbox_leave_balances",
    metadata,
    Column("employee_id", String(255), primary_key=True),
    Column("leave_type", String(64), primary_key=True),
    Column("balance_days", Numeric(6, 2), nullable=False),
    Column("updated_at", TZ, nullable=False, server_default=_now()),
)

leave_debits = Table(
    "sandbox_leave_debits",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("request_id", String(36)),
    Column("employee_id", String(255), nullable=False),
    Column("leave_type", String(64), nullable=False),
    Column("days", Numeric(6, 2), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("at", TZ, nullable=False, server_default=_now()),
)

calendar_entries = Table(
    "sandbox_calendar_entries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("request_id", String(36)),
    Column("calendar", String(255), nullable=False),
    Column("title", String(500), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("created_at", TZ, nullable=False, server_default=_now()),
)

tickets = Table(
    "sandbox_tickets",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("ticket_number", String(32), nullable=False, unique=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("request_id", String(36)),
    Column("external_ref", String(100)),
    Column("queue", String(32), nullable=False),
    Column("priority", String(2), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("description", Text, nullable=False),
    Column("requester", String(255), nullable=False),
    Column("status", String(32), nullable=False, server_default=sql("'open'")),
    Column("first_response", Text),
    Column("escalation_level", Integer, nullable=False, server_default=sql("0")),
    Column("escalated_to", String(255)),
    Column("response_due", TZ),
    Column("resolution_due", TZ),
    Column("created_at", TZ, nullable=False, server_default=_now()),
    Column("updated_at", TZ, nullable=False, server_default=_now()),
)

ticket_escalations = Table(
    "sandbox_ticket_escalations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("ticket_number", String(32), nullable=False),
    Column("level", Integer, nullable=False),
    Column("escalated_to", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", TZ, nullable=False, server_default=_now()),
)

notifications = Table(
    "sandbox_notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("request_id", String(36)),
    Column("recipient", String(255), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("detail", JSONB, nullable=False, server_default=sql("'{}'::jsonb")),
    Column("sent_at", TZ, nullable=False, server_default=_now()),
)

_LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "gmbh",
    }
)


def vendor_key(name: str) -> str:
    """How vendors are matched: "Acme Corp.", "ACME" and "acme corp" are one vendor.

    Lower-cased, punctuation dropped, legal suffixes removed (keeping at least one word). The
    migration's seed rows spell out the same keys, computed with this rule.
    """
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower()).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)
