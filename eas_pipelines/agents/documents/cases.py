"""What the documents workflows carry from op to op, and the request's own words about a document."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.documents.fields import InvoiceFields
from eas_pipelines.agents.documents.pdf import PageText
from eas_pipelines.agents.documents.render import DocumentSpec
from eas_pipelines.agents.documents.sources import DocumentRef

INVOICE_TYPES = frozenset({"invoice", "tax invoice", "bill", "receipt"})
"""Document types (the request's ``document_type`` entity, lower-cased) read as invoices to pay."""

PARTICULARS: tuple[tuple[str, str], ...] = (
    ("employee", "Employee"),
    ("vendor", "Vendor"),
    ("role", "Role"),
    ("department", "Department"),
    ("amount", "Amount"),
    ("quantity", "Quantity"),
    ("sku", "SKU"),
    ("po_number", "PO number"),
    ("invoice_id", "Invoice"),
    ("date", "Date"),
    ("date_range", "Dates"),
    ("period", "Period"),
    ("currency", "Currency"),
)
"""Entity types written into a generated document's particulars table, in this order, as labelled."""


@dataclass(frozen=True)
class ExtractCase:
    """A document being read: where it is, its pages, and the invoice found in it (if any)."""

    item: WorkItem
    ref: DocumentRef
    document_type: str | None = None
    pages: tuple[PageText, ...] = ()
    invoice: InvoiceFields | None = None
    derived_request_id: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)

    @property
    def ocr_pages(self) -> list[int]:
        return [page.number for page in self.pages if page.ocr]

    def with_(self, **changes: Any) -> ExtractCase:
        return replace(self, **changes)


@dataclass(frozen=True)
class GenerateCase:
    """A document to generate, where it goes, and where it went."""

    item: WorkItem
    spec: DocumentSpec
    target: DocumentRef
    location: str | None = None
    size: int = 0

    def with_(self, **changes: Any) -> GenerateCase:
        return replace(self, **changes)


def shown(value: Any) -> str | None:
    """An entity's normalised value as a person reads it (amounts with their currency, ranges)."""
    if value is None:
        return None
    if isinstance(value, dict) and "amount" in value:
        amount = value.get("amount")
        if not isinstance(amount, int | float):
            return None
        currency = value.get("currency")
        return f"{amount:,.2f} {currency}" if currency else f"{amount:,.2f}"
    if isinstance(value, dict) and {"start", "end"} <= value.keys():
        return f"{value['start']} to {value['end']}"
    return str(value)


def particulars(item: WorkItem) -> list[tuple[str, str]]:
    """The request's particulars for a generated document: (label, value) per entity found."""
    found: list[tuple[str, str]] = []
    for entity_type, label in PARTICULARS:
        for value in item.values(entity_type):
            text = shown(value)
            if text and (label, text) not in found:
                found.append((label, text))
    return found
