"""Invoice rules, free of Dagster: what an invoice request must say and which PO it matches.

Kept apart from the ops so that the rules read as rules and are tested directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.resources.connectors.purchase_orders import PurchaseOrder
from eas_pipelines.resources.connectors.tables import vendor_key

REQUIRED_FIELDS = ("vendor", "invoice_id", "amount")


@dataclass(frozen=True)
class Invoice:
    """The invoice a request describes, as the workflow carries it from op to op."""

    item: WorkItem
    vendor: str
    invoice_id: str
    amount: float
    currency: str
    po_number: str | None = None
    due_date: date | None = None
    matched_po: str | None = None
    posting_id: int | None = None

    def with_(self, **changes: Any) -> Invoice:
        return replace(self, **changes)

    @property
    def label(self) -> str:
        return f"invoice {self.invoice_id} from {self.vendor} for {money(self.amount, self.currency)}"


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _iso_date(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def extract_invoice(
    item: WorkItem, default_currency: str, po_vendor: str | None = None
) -> Invoice | list[str]:
    """The invoice, or the list of required fields the request does not give.

    Values are the NLP service's normalised ones: amount ``{"amount": float, "currency": code}``,
    ids upper-cased, dates ISO. The vendor may come from the quoted PO (``po_vendor``) when the
    text names none. The first date is read as the due date ("due March 3", "before Friday").
    """
    amount_value = item.value("amount")
    amount = currency = None
    if isinstance(amount_value, dict) and isinstance(amount_value.get("amount"), int | float):
        amount = float(amount_value["amount"])
        currency = amount_value.get("currency")
    elif isinstance(amount_value, int | float):
        amount = float(amount_value)
    if amount is not None and amount <= 0:
        amount = None
    currency = currency or item.value("currency") or default_currency
    vendor = item.value("vendor") or po_vendor
    invoice_id = item.value("invoice_id")
    found = {"vendor": vendor, "invoice_id": invoice_id, "amount": amount}
    missing = [name for name in REQUIRED_FIELDS if not found[name]]
    if missing:
        return missing
    return Invoice(
        item=item,
        vendor=str(vendor),
        invoice_id=str(invoice_id),
        amount=round(float(amount), 2),  # type: ignore[arg-type]  # checked above
        currency=str(currency).upper(),
        po_number=item.value("po_number"),
        due_date=_iso_date(item.value("date")),
    )


def covers(po: PurchaseOrder, amount: float, currency: str, tolerance: float) -> bool:
    """Whether ``po`` can take an invoice of ``amount`` (its open amount plus ``tolerance``)."""
    return po.is_open and po.currency == currency and amount <= po.remaining * (1 + tolerance) + 0.005


def match_purchase_order(
    invoice: Invoice, candidates: Sequence[PurchaseOrder], tolerance: float
) -> tuple[PurchaseOrder | None, str]:
    """The PO the invoice is booked against and why, or ``None`` and the reason none fits.

    With a quoted PO number only that PO is considered (and must belong to the vendor); otherwise
    the vendor's open PO with the smallest open amount that still covers the invoice, so large
    framework orders are not used up by small invoices.
    """
    if invoice.po_number:
        po = next((c for c in candidates if c.po_number.upper() == invoice.po_number.upper()), None)
        if po is None:
            return None, f"purchase order {invoice.po_number} does not exist"
        if vendor_key(po.vendor) != vendor_key(invoice.vendor):
            return None, f"purchase order {po.po_number} belongs to {po.vendor}, not {invoice.vendor}"
        if not po.is_open:
            return None, f"purchase order {po.po_number} is {po.status}"
        if po.currency != invoice.currency:
            return (
                None,
                f"purchase order {po.po_number} is in {po.currency}, the invoice in {invoice.currency}",
            )
        if not covers(po, invoice.amount, invoice.currency, tolerance):
            return None, (
                f"purchase order {po.po_number} has {money(po.remaining, po.currency)} left, "
                f"the invoice is {money(invoice.amount, invoice.currency)} (tolerance {tolerance:.0%})"
            )
        return po, f"matched quoted purchase order {po.po_number}"
    fitting = sorted(
        (c for c in candidates if covers(c, invoice.amount, invoice.currency, tolerance)),
        key=lambda c: (c.remaining, c.po_number),
    )
    if not fitting:
        return None, (
            f"no open purchase order of {invoice.vendor} covers {money(invoice.amount, invoice.currency)}"
            f" ({len(candidates)} open order(s) checked, tolerance {tolerance:.0%})"
        )
    return fitting[
        0
    ], f"matched {fitting[0].po_number} ({money(fitting[0].remaining, fitting[0].currency)} open)"
