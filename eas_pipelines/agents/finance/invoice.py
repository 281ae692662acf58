"""Invoice rules, free of Dagster: what an invoice request must say and which PO it matches.

Kept apart from the ops so that the rules read as rules and are tested directly. Purchase orders are
SAP's (:class:`eas_pipelines.connectors.sap.PurchaseOrder`): what is left to invoice is SAP's open
amount (net less what posted invoices already took), and a PO whose items are all finally invoiced
is closed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.connectors.sap import PurchaseOrder, SupplierInvoice

REQUIRED_FIELDS = ("vendor", "invoice_id", "amount")

LEGAL_SUFFIXES = frozenset(
    {"inc", "incorporated", "corp", "corporation", "co", "company"}
    | {"ltd", "limited", "llc", "llp", "plc", "gmbh"}
)
"""Words a vendor's name may end with or not: "Acme Corp." and "Acme" are one supplier."""

SUFFIX_SPELLINGS = ("Corp", "Inc", "Ltd", "Co", "LLC", "GmbH", "Corp.", "Inc.", "Ltd.", "Co.", "plc")
"""How supplier masters usually spell a legal suffix: the names tried when the request's spelling
is not the master's (SAP looks suppliers up by exact name)."""


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
    supplier_id: str | None = None
    """SAP's supplier number, once the vendor is found in its supplier master."""
    supplier_name: str | None = None
    """The supplier's name as SAP spells it."""
    matched_po: str | None = None
    sap_invoice: str | None = None
    """The posted supplier invoice, as :func:`sap_document` names it."""

    def with_(self, **changes: Any) -> Invoice:
        return replace(self, **changes)

    @property
    def label(self) -> str:
        return f"invoice {self.invoice_id} from {self.vendor} for {money(self.amount, self.currency)}"


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def vendor_key(name: str) -> str:
    """How vendors are compared: "Acme Corp.", "ACME" and "acme corp" are one vendor.

    Lower-cased, punctuation dropped, legal suffixes removed (keeping at least one word).
    """
    words = re.sub(r"[^a-z0-9 ]+", " ", name.lower()).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def supplier_name_candidates(vendor: str) -> list[str]:
    """The spellings of ``vendor`` to look up in SAP's supplier master, most likely first.

    The name as written, then without its legal suffix and with each usual one, as written and
    title-cased: the supplier master holds one exact spelling, requests use many.
    """
    written = " ".join(vendor.split())
    words = re.sub(r"[^\w&' -]+", " ", written).split()
    while len(words) > 1 and words[-1].lower().strip(".") in LEGAL_SUFFIXES:
        words.pop()
    bases = [" ".join(words)]
    if bases[0].islower() or bases[0].isupper():  # typed in one case: the master's is likely Title Case
        bases.append(bases[0].title())
    names = [written, written.rstrip(".")]
    for base in bases:
        names += [base, *(f"{base} {suffix}" for suffix in SUFFIX_SPELLINGS)]
    return [name for name in dict.fromkeys(names) if name]


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


def open_amount(po: PurchaseOrder) -> float:
    """What can still be invoiced against ``po`` (SAP's open amount: zero once closed)."""
    return float(po.open_amount)


def covers(po: PurchaseOrder, amount: float, currency: str, tolerance: float) -> bool:
    """Whether ``po`` can take an invoice of ``amount`` (its open amount plus ``tolerance``)."""
    return not po.closed and po.currency == currency and amount <= open_amount(po) * (1 + tolerance) + 0.005


def _belongs_to(po: PurchaseOrder, invoice: Invoice) -> bool:
    if invoice.supplier_id:
        return po.supplier_id == invoice.supplier_id
    return vendor_key(po.supplier_name) == vendor_key(invoice.vendor)


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
        if not _belongs_to(po, invoice):
            return None, f"purchase order {po.po_number} belongs to {po.supplier_name}, not {invoice.vendor}"
        if po.closed:
            return None, f"purchase order {po.po_number} is closed"
        if po.currency != invoice.currency:
            return (
                None,
                f"purchase order {po.po_number} is in {po.currency}, the invoice in {invoice.currency}",
            )
        if not covers(po, invoice.amount, invoice.currency, tolerance):
            return None, (
                f"purchase order {po.po_number} has {money(open_amount(po), po.currency)} left, "
                f"the invoice is {money(invoice.amount, invoice.currency)} (tolerance {tolerance:.0%})"
            )
        return po, f"matched quoted purchase order {po.po_number}"
    open_orders = [c for c in candidates if not c.closed]
    fitting = sorted(
        (c for c in open_orders if covers(c, invoice.amount, invoice.currency, tolerance)),
        key=lambda c: (c.open_amount, c.po_number),
    )
    if not fitting:
        return None, (
            f"no open purchase order of {invoice.vendor} covers {money(invoice.amount, invoice.currency)}"
            f" ({len(open_orders)} open order(s) checked, tolerance {tolerance:.0%})"
        )
    best = fitting[0]
    return best, f"matched {best.po_number} ({money(open_amount(best), best.currency)} open)"


def sap_document(invoice: SupplierInvoice) -> str:
    """How a supplier invoice is named to people and in the audit trail: ``SI<number>/<fiscal year>``.

    SAP's own ``<number>/<fiscal year>`` with an ``SI`` (supplier invoice) prefix: a ten-digit document
    number standing alone reads as a phone number (or passes the NHS check digit) to the PII masking of
    audit details and outgoing messages, which would replace it; prefixed it stays one token and is kept.
    """
    return f"SI{invoice.invoice_number}/{invoice.fiscal_year}"


def duplicate_reason(invoice: Invoice, existing: SupplierInvoice) -> str:
    """Why ``invoice`` is refused: SAP already holds it, posted by another request (named by document)."""
    when = f" on {existing.posting_date:%Y-%m-%d}" if existing.posting_date else ""
    return (
        f"duplicate of SAP supplier invoice {sap_document(existing)}: {invoice.label} was already "
        f"posted{when} by another request"
    )
