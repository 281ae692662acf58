"""Purchase orders: what the invoice workflow matches a vendor invoice against.

Read-only for the workflow; the ledger consumes a PO's open amount when it posts against it.
The sandbox reads the seeded ``sandbox_purchase_orders`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, func, select

from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import purchase_orders, vendor_key


@dataclass(frozen=True)
class PurchaseOrder:
    po_number: str
    vendor: str
    amount: float
    amount_invoiced: float
    currency: str
    status: str
    description: str | None

    @property
    def remaining(self) -> float:
        """What can still be invoiced against this order."""
        return round(self.amount - self.amount_invoiced, 2)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @classmethod
    def from_row(cls, row: RowMapping) -> PurchaseOrder:
        return cls(
            po_number=row["po_number"],
            vendor=row["vendor"],
            amount=float(row["amount"]),
            amount_invoiced=float(row["amount_invoiced"]),
            currency=row["currency"],
            status=row["status"],
            description=row["description"],
        )


class PurchaseOrderSystem(Protocol):
    def get(self, po_number: str) -> PurchaseOrder | None: ...

    def by_vendor(self, vendor: str, *, open_only: bool = True) -> list[PurchaseOrder]: ...


class SandboxPurchaseOrders:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, po_number: str) -> PurchaseOrder | None:
        query = select(purchase_orders).where(func.upper(purchase_orders.c.po_number) == po_number.upper())
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return PurchaseOrder.from_row(row) if row is not None else None

    def by_vendor(self, vendor: str, *, open_only: bool = True) -> list[PurchaseOrder]:
        query = (
            select(purchase_orders)
            .where(purchase_orders.c.vendor_key == vendor_key(vendor))
            .order_by(purchase_orders.c.po_number)
        )
        if open_only:
            query = query.where(purchase_orders.c.status == "open")
        with self._engine.connect() as conn:
            return [PurchaseOrder.from_row(row) for row in conn.execute(query).mappings()]


class PurchaseOrderResource(ConnectorResource):
    """The purchase-order connector (``purchase_orders`` circuit breaker)."""

    connector: ClassVar[str] = "purchase_orders"

    def client(self) -> PurchaseOrderSystem:
        return super().client()

    def _sandbox(self) -> PurchaseOrderSystem:
        return SandboxPurchaseOrders(self.engine)

    def get(self, po_number: str) -> PurchaseOrder | None:
        return self._call(self.client().get, po_number)

    def by_vendor(self, vendor: str, *, open_only: bool = True) -> list[PurchaseOrder]:
        return self._call(self.client().by_vendor, vendor, open_only=open_only)
