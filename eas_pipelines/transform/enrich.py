"""Enrichment from the vendor master: fill what a record lacks from EAS's own vendor list.

Why a separate step between the source and the target mapping: SAP sends only the supplier id,
QuickBooks may leave the currency to the company's home currency, Oracle names the supplier but
not its payment terms; the target system often needs exactly what the source left out. The vendor
master answers by normalised name (:func:`~eas_pipelines.transform.normalize.company_key`, so
"ACME Corp." finds "Acme Corporation") or by id, and the step only *fills gaps*: a value the record
carries is never overwritten, and a currency conflicting with the master's is left for review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eas_pipelines.transform.models import Invoice
from eas_pipelines.transform.normalize import company_key


@dataclass(frozen=True)
class VendorRecord:
    """A vendor as EAS's master knows it; ``aliases`` are other names it trades under."""

    vendor_id: str
    name: str
    currency: str | None = None
    payment_terms: str | None = None
    expense_account: str | None = None
    aliases: tuple[str, ...] = ()


class VendorMaster(Protocol):
    """Finds a vendor by its normalised name (a :func:`company_key`) or by its id; None if unknown."""

    def find(self, *, name_key: str | None = None, vendor_id: str | None = None) -> VendorRecord | None: ...


@dataclass
class InMemoryVendorMaster:
    """A :class:`VendorMaster` over a list of records (tests, or a master loaded once per run)."""

    records: Iterable[VendorRecord] = ()
    _by_key: dict[str, VendorRecord] = field(default_factory=dict, init=False, repr=False)
    _by_id: dict[str, VendorRecord] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for record in self.records:
            self._by_id[record.vendor_id] = record
            for name in (record.name, *record.aliases):
                self._by_key[company_key(name)] = record

    def find(self, *, name_key: str | None = None, vendor_id: str | None = None) -> VendorRecord | None:
        if vendor_id and vendor_id in self._by_id:
            return self._by_id[vendor_id]
        return self._by_key.get(name_key) if name_key else None


def enrich(invoice: Invoice, master: VendorMaster) -> tuple[Invoice, list[str]]:
    """The invoice with gaps filled from the master, and the names of the fields filled ([] if none)."""
    vendor = master.find(
        name_key=company_key(invoice.vendor_name) if invoice.vendor_name else None,
        vendor_id=invoice.vendor_id,
    )
    if vendor is None:
        return invoice, []
    offered = {
        "vendor_id": vendor.vendor_id,
        "vendor_name": vendor.name,
        "currency": vendor.currency,
        "payment_terms": vendor.payment_terms,
        "expense_account": vendor.expense_account,
    }
    filled = {
        name: value for name, value in offered.items() if value is not None and getattr(invoice, name) is None
    }
    if not filled:
        return invoice, []
    return invoice.model_copy(update=filled), sorted(filled)
