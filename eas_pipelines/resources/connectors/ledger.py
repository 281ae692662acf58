"""The general ledger: journal entries for approved vendor invoices (accounts payable).

The sandbox posts into ``sandbox_ledger_postings``. A posting is keyed twice: by the caller's
idempotency key (a retried op gets its own earlier posting back) and by vendor + invoice id (a
second request for an invoice already paid is refused with :class:`DuplicatePosting`, even when
two requests race past the workflow's duplicate check at the same moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, select, update
from sqlalchemy.dialects.postgresql import insert

from eas_pipelines.resources.circuit import ConnectorRejected
from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import ledger_postings, purchase_orders, vendor_key

EXPENSE_ACCOUNT = "6000 Operating expenses"
PAYABLES_ACCOUNT = "2000 Accounts payable"


@dataclass(frozen=True)
class JournalEntry:
    """One vendor invoice to book: debit expenses, credit accounts payable."""

    vendor: str
    invoice_id: str
    amount: float
    currency: str
    po_number: str | None = None
    memo: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    debit_account: str = EXPENSE_ACCOUNT
    credit_account: str = PAYABLES_ACCOUNT


@dataclass(frozen=True)
class Posting:
    id: int
    idempotency_key: str
    request_id: str | None
    vendor: str
    invoice_id: str
    amount: float
    currency: str
    po_number: str | None
    debit_account: str
    credit_account: str
    memo: str | None
    invoice_date: date | None
    due_date: date | None
    posted_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Posting:
        values: dict[str, Any] = {name: row[name] for name in cls.__dataclass_fields__}
        values["amount"] = float(row["amount"])
        return cls(**values)


class DuplicatePosting(ConnectorRejected):
    """The vendor's invoice is already in the ledger (posted for another request)."""

    def __init__(self, existing: Posting) -> None:
        self.existing = existing
        super().__init__(
            f"invoice {existing.invoice_id} from {existing.vendor} is already posted "
            f"(posting {existing.id}, request {existing.request_id})"
        )


class Ledger(Protocol):
    def post_entry(self, entry: JournalEntry, *, request_id: str | None, idempotency_key: str) -> Posting: ...

    def find_posting(self, vendor: str, invoice_id: str) -> Posting | None: ...

    def postings(self, *, request_id: str | None = None, limit: int = 100) -> list[Posting]: ...


class SandboxLedger:
    """Records postings in PostgreSQL and consumes the matched purchase order's open amount."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def post_entry(self, entry: JournalEntry, *, request_id: str | None, idempotency_key: str) -> Posting:
        key = vendor_key(entry.vendor)
        with self._engine.begin() as conn:
            inserted = (
                conn.execute(
                    insert(ledger_postings)
                    .values(
                        idempotency_key=idempotency_key,
                        request_id=request_id,
                        vendor=entry.vendor,
                        vendor_key=key,
                        invoice_id=entry.invoice_id,
                        amount=round(entry.amount, 2),
                        currency=entry.currency,
                        po_number=entry.po_number,
                        debit_account=entry.debit_account,
                        credit_account=entry.credit_account,
                        memo=entry.memo,
                        invoice_date=entry.invoice_date,
                        due_date=entry.due_date,
                    )
                    .on_conflict_do_nothing()
                    .returning(*ledger_postings.c)
                )
                .mappings()
                .first()
            )
            if inserted is not None:
                if entry.po_number:
                    conn.execute(
                        update(purchase_orders)
                        .where(purchase_orders.c.po_number == entry.po_number)
                        .values(amount_invoiced=purchase_orders.c.amount_invoiced + round(entry.amount, 2))
                    )
                return Posting.from_row(inserted)
            same_key = (
                conn.execute(
                    select(ledger_postings).where(ledger_postings.c.idempotency_key == idempotency_key)
                )
                .mappings()
                .first()
            )
            if same_key is not None:  # this very step, retried: it already happened
                return Posting.from_row(same_key)
            existing = (
                conn.execute(
                    select(ledger_postings).where(
                        ledger_postings.c.vendor_key == key, ledger_postings.c.invoice_id == entry.invoice_id
                    )
                )
                .mappings()
                .one()
            )
            raise DuplicatePosting(Posting.from_row(existing))

    def find_posting(self, vendor: str, invoice_id: str) -> Posting | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    select(ledger_postings).where(
                        ledger_postings.c.vendor_key == vendor_key(vendor),
                        ledger_postings.c.invoice_id == invoice_id,
                    )
                )
                .mappings()
                .first()
            )
        return Posting.from_row(row) if row is not None else None

    def postings(self, *, request_id: str | None = None, limit: int = 100) -> list[Posting]:
        query = select(ledger_postings).order_by(ledger_postings.c.id.desc()).limit(limit)
        if request_id is not None:
            query = query.where(ledger_postings.c.request_id == request_id)
        with self._engine.connect() as conn:
            return [Posting.from_row(row) for row in conn.execute(query).mappings()]


class LedgerResource(ConnectorResource):
    """The ledger connector: every call goes through the ``ledger`` circuit breaker."""

    connector: ClassVar[str] = "ledger"

    def client(self) -> Ledger:
        return super().client()

    def _sandbox(self) -> Ledger:
        return SandboxLedger(self.engine)

    def post_entry(self, entry: JournalEntry, *, request_id: str | None, idempotency_key: str) -> Posting:
        return self._call(
            self.client().post_entry, entry, request_id=request_id, idempotency_key=idempotency_key
        )

    def find_posting(self, vendor: str, invoice_id: str) -> Posting | None:
        return self._call(self.client().find_posting, vendor, invoice_id)

    def postings(self, *, request_id: str | None = None, limit: int = 100) -> list[Posting]:
        return self._call(self.client().postings, request_id=request_id, limit=limit)
