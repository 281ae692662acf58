"""Purchase order rules, free of Dagster: what an order request says and what the order is worth.

An order is what the reorder and purchase-order workflows hand from step to step: the supplier, its
lines (a material with a quantity at the info record's price, or a text item for an amount) and, once
created, SAP's PO number. Its value decides the approval (over the policy's amount threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.connectors.sap import NewPurchaseOrderLine, PurchasingTerms

Q = Decimal("0.01")


def money(amount: Decimal | float, currency: str) -> str:
    return f"{Decimal(str(amount)).quantize(Q):,} {currency}"


@dataclass(frozen=True)
class OrderLine:
    text: str
    quantity: Decimal
    unit: str
    net_price: Decimal
    material: str | None = None

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.net_price).quantize(Q)

    def for_sap(self) -> NewPurchaseOrderLine:
        return NewPurchaseOrderLine(
            text=self.text,
            quantity=self.quantity,
            unit=self.unit,
            net_price=self.net_price,
            material=self.material,
        )


@dataclass(frozen=True)
class Order:
    """A purchase order to create (or, for a status question, one SAP already holds: ``po_number``)."""

    item: WorkItem
    supplier_id: str
    supplier_name: str
    currency: str
    lines: tuple[OrderLine, ...]
    plant: str = "1010"
    why: str = ""
    """Why this order (the reorder's computation, the request's own words): told to the approver."""
    po_number: str | None = None
    existing: bool = False
    """True when the request asked about a PO SAP already holds: nothing is created or approved."""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def label(self) -> str:
        return f"purchase order to {self.supplier_name} for {money(self.total, self.currency)}"

    def with_(self, **changes: Any) -> Order:
        return replace(self, **changes)


def material_line(terms: PurchasingTerms, quantity: Decimal | int, unit: str = "EA") -> OrderLine:
    """A line of ``quantity`` units of the info record's material at its price."""
    return OrderLine(
        text=f"{terms.material} (info record {terms.info_record})",
        quantity=Decimal(quantity),
        unit=unit or "EA",
        net_price=terms.net_price,
        material=terms.material,
    )


def cheapest(terms: Sequence[PurchasingTerms]) -> PurchasingTerms | None:
    """The supplier terms with the lowest net price (then the shortest lead time)."""
    return min(terms, key=lambda t: (t.net_price, t.lead_time_days, t.info_record), default=None)


def requested_amount(item: WorkItem, default_currency: str) -> tuple[Decimal, str] | None:
    """The amount the request names (``{"amount", "currency"}`` as the NLP service normalises it)."""
    value = item.value("amount")
    if isinstance(value, dict) and isinstance(value.get("amount"), int | float):
        amount, currency = value["amount"], value.get("currency")
    elif isinstance(value, int | float):
        amount, currency = value, None
    else:
        return None
    if amount <= 0:
        return None
    return Decimal(str(amount)).quantize(Q), str(
        currency or item.value("currency") or default_currency
    ).upper()


def requested_quantity(item: WorkItem) -> int | None:
    """A positive whole quantity the request names, else None."""
    value = item.value("quantity")
    if isinstance(value, int | float) and value > 0:
        return int(value)
    return None


def po_status(status: dict[str, Any]) -> str:
    """A PO's state in words from its amounts and flags (see :meth:`Order.detail`)."""
    if status.get("closed"):
        return "closed (fully invoiced)"
    if Decimal(str(status.get("invoiced", 0))) > 0:
        return "open, partly invoiced"
    return "open, not yet invoiced"
