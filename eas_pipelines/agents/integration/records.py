"""Records through the transformation layer: mapped, rejected (field and reason) or enriched, one by one.

Why record by record: one bad record must not stop a batch (a sync moves the rest and reports the
refused one with its field), and the report must say *which* input each outcome is about, by
index and by the record's own reference (an invoice number, an account id).

The rules here are only what the integration agent adds to :mod:`eas_pipelines.transform`:

* **Re-keying across systems.** A canonical invoice mapped from SAP carries SAP's supplier number
  as ``vendor_id``, which means nothing in QuickBooks. Before the target's vendor master enriches
  it, the source's id is dropped and the supplier's *name* kept (from the source's supplier
  directory), so the master finds the target's vendor by name (``company_key``: "ACME Corp." finds
  "Acme Corp") and fills the target's id and default expense account. A supplier the target does
  not know is rejected by the target's model (``VendorRef.value``), never created on the fly.
* **Account export.** Salesforce accounts become :class:`AccountRow` (name normalised, website and
  phone checked); the primary contact's e-mail (the account's oldest contact) is the enrichment.
* **Format conversion.** A record converts when it is an object whose keys the target format can
  hold (a CSV column cannot contain ``.``, an XML element name must be a valid name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from eas_pipelines.connectors.quickbooks import Vendor as QuickBooksVendor
from eas_pipelines.connectors.salesforce import Account, Contact
from eas_pipelines.connectors.sap import SupplierInvoice
from eas_pipelines.transform import (
    MappingError,
    VendorRecord,
    enrich,
    flatten,
    from_csv,
    from_json,
    from_xml,
    normalize_company_name,
    to_canonical,
    to_csv,
    to_json,
    to_xml,
    transform_batch,
)
from eas_pipelines.transform.mapping import FieldError, dump, field_errors, from_canonical

RECORDS_ROOT = "records"
"""Root element of the XML EAS writes (``<records type="list"><item>...``)."""


@dataclass(frozen=True)
class Rejection:
    """One refused field of one input record."""

    index: int
    ref: str
    field: str
    reason: str


@dataclass(frozen=True)
class Enrichment:
    index: int
    ref: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Mapped:
    index: int
    ref: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Batch:
    """What a batch became: the records in the target's shape and what happened to each input."""

    total: int
    mapped: tuple[Mapped, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    enriched: tuple[Enrichment, ...] = ()

    @property
    def rejected_count(self) -> int:
        return len({r.index for r in self.rejected})


def _rejections(index: int, ref: str, errors: Iterable[FieldError]) -> list[Rejection]:
    return [Rejection(index, ref, e.path, e.reason) for e in errors]


def _step_errors(error: MappingError, source: str) -> list[FieldError]:
    """The layer's convention: a later step's fields are prefixed by the step."""
    if error.step == source:
        return error.errors
    return [FieldError(f"{error.step}: {e.path}", e.reason) for e in error.errors]


# --- invoices -----------------------------------------------------------------------------------------


def sap_wire_invoice(invoice: SupplierInvoice) -> dict[str, Any]:
    """A supplier invoice the SAP connector read, back in ``A_SupplierInvoice``'s wire fields.

    The connector keeps the PO numbers but not the item amounts: a single PO becomes the header's
    PO (mapping: one line of the gross amount), several are left to the lines the target makes.
    """
    record: dict[str, Any] = {
        "CompanyCode": invoice.company_code,
        "SupplierInvoiceIDByInvcgParty": invoice.invoice_reference,
        "InvoicingParty": invoice.supplier_id,
        "DocumentCurrency": invoice.currency,
        "InvoiceGrossAmount": str(invoice.amount),
    }
    if invoice.document_date is not None:
        record["DocumentDate"] = invoice.document_date.isoformat()
    if invoice.posting_date is not None:
        record["PostingDate"] = invoice.posting_date.isoformat()
    return record


def quickbooks_vendor_master(vendors: Sequence[QuickBooksVendor], expense_account: str) -> list[VendorRecord]:
    """QuickBooks' vendors as the layer's vendor master: its ids, names and the bills' expense account."""
    return [
        VendorRecord(
            vendor_id=v.id,
            name=v.display_name,
            expense_account=expense_account,
            aliases=tuple(n for n in (v.company_name,) if n and n != v.display_name),
        )
        for v in vendors
        if v.active
    ]


def map_invoices(
    records: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    source: str,
    target: str,
    master: Any,
    source_names: Mapping[str, str],
) -> Batch:
    """``(ref, source wire record)`` -> the target's wire records, re-keyed and enriched (module doc)."""
    mapped: list[Mapped] = []
    rejected: list[Rejection] = []
    enriched: list[Enrichment] = []
    for index, (ref, record) in enumerate(records):
        try:
            invoice = to_canonical(record, source)
            name = invoice.vendor_name or source_names.get(invoice.vendor_id or "")
            invoice = invoice.model_copy(update={"vendor_id": None, "vendor_name": name})
            invoice, filled = enrich(invoice, master)
            mapped.append(Mapped(index, ref, dump(from_canonical(invoice, target))))
            if filled:
                enriched.append(Enrichment(index, ref, tuple(filled)))
        except MappingError as error:
            rejected += _rejections(index, ref, _step_errors(error, source))
    return Batch(len(records), tuple(mapped), tuple(rejected), tuple(enriched))


def remap_invoices(records: Sequence[Any], *, source: str, target: str) -> Batch:
    """A file's invoices from one system's shape to another's, by :func:`transform_batch`."""
    objects = [r for r in records if isinstance(r, Mapping)]
    refs = [_ref(r, index) for index, r in enumerate(records)]
    report = transform_batch(objects, source=source, target=target)
    kept = [index for index, r in enumerate(records) if isinstance(r, Mapping)]
    rejected = [
        Rejection(i, refs[i], "(record)", "not an object") for i, r in enumerate(records) if i not in kept
    ]
    bad = {kept[i] for i, _ in report.rejected}
    for position, errors in report.rejected:
        rejected += _rejections(kept[position], refs[kept[position]], errors)
    good = [i for i in kept if i not in bad]
    mapped = [Mapped(i, refs[i], record) for i, record in zip(good, report.mapped, strict=True)]
    return Batch(len(records), tuple(mapped), tuple(sorted(rejected, key=lambda r: r.index)))


# --- Salesforce accounts ------------------------------------------------------------------------------

_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


class AccountRow(BaseModel):
    """An account as the export writes it: one row, names normalised, contact details checked."""

    model_config = ConfigDict(extra="forbid")

    salesforce_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    industry: str | None = None
    website: str | None = None
    phone: str | None = None
    primary_contact_email: str | None = None

    @field_validator("name")
    @classmethod
    def _company(cls, value: str) -> str:
        return normalize_company_name(value)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value and not _URL.match(value.strip()):
            raise ValueError("not an http(s) URL")
        return value.strip() if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and sum(c.isdigit() for c in value) < 7:
            raise ValueError("fewer than 7 digits")
        return " ".join(value.split()) if value else None


def map_accounts(accounts: Sequence[Account], contacts: Sequence[Contact]) -> Batch:
    """Accounts -> :class:`AccountRow` dicts; the primary contact's e-mail filled from ``contacts``."""
    primary: dict[str, str] = {}
    for contact in contacts:  # oldest first: the first one seen is the primary
        if contact.account_id and contact.email:
            primary.setdefault(contact.account_id, contact.email)
    mapped: list[Mapped] = []
    rejected: list[Rejection] = []
    enriched: list[Enrichment] = []
    for index, account in enumerate(accounts):
        email = primary.get(account.id)
        try:
            row = AccountRow(
                salesforce_id=account.id,
                name=account.name,
                industry=account.industry,
                website=account.website,
                phone=account.phone,
                primary_contact_email=email,
            )
        except ValidationError as error:
            rejected += _rejections(index, account.id, field_errors(error))
            continue
        mapped.append(Mapped(index, account.id, row.model_dump()))
        if email:
            enriched.append(Enrichment(index, account.id, ("primary_contact_email",)))
    return Batch(len(accounts), tuple(mapped), tuple(rejected), tuple(enriched))


# --- formats ------------------------------------------------------------------------------------------


def read_records(data: bytes, file_format: str) -> list[Any]:
    """A file's records: a JSON array (or an object holding one), an XML list, CSV rows.

    Raises ``ValueError`` (the layer's ``UnsafeXMLError``/``XMLFormatError`` included) when the
    file is not in the format; the caller refuses the request with that reason.
    """
    text = data.decode("utf-8-sig")
    if file_format == "csv":
        return list(from_csv(text))
    value = from_json(text) if file_format == "json" else from_xml(text)
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list):
            return inner
        if file_format == "xml" and isinstance(inner, dict):  # <vendors><vendor>...</vendor></vendors>
            return [inner]
    return [value]


def write_records(records: Sequence[Mapping[str, Any]], file_format: str) -> bytes:
    if file_format == "csv":
        return to_csv(records).encode()
    if file_format == "json":
        return to_json(list(records)).encode()
    return to_xml(list(records), root=RECORDS_ROOT).encode()


def _key_problem(value: Any, file_format: str, path: str = "") -> tuple[str, str] | None:
    """The first key of ``value`` the format cannot hold, with the layer's reason."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            where = f"{path}.{key}" if path else str(key)
            try:
                if file_format == "csv":
                    flatten({key: None})
                elif file_format == "xml":
                    to_xml({key: None})
            except ValueError as error:
                return where, str(error)
            found = _key_problem(child, file_format, where)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for position, child in enumerate(value):
            found = _key_problem(child, file_format, f"{path}.{position}" if path else str(position))
            if found:
                return found
    return None


def convertible(records: Sequence[Any], file_format: str) -> Batch:
    """Which records ``file_format`` can hold as they are; the others rejected with the key."""
    mapped: list[Mapped] = []
    rejected: list[Rejection] = []
    for index, record in enumerate(records):
        ref = _ref(record, index)
        if not isinstance(record, Mapping):
            rejected.append(Rejection(index, ref, "(record)", "not an object"))
            continue
        problem = _key_problem(record, file_format)
        if problem is not None:
            rejected.append(Rejection(index, ref, *problem))
            continue
        mapped.append(Mapped(index, ref, dict(record)))
    return Batch(len(records), tuple(mapped), tuple(rejected))


def fitting(batch: Batch, file_format: str) -> Batch:
    """``batch`` less the mapped records ``file_format`` cannot hold (those rejected with the key)."""
    check = convertible([m.record for m in batch.mapped], file_format)
    refused = tuple(
        replace(r, index=batch.mapped[r.index].index, ref=batch.mapped[r.index].ref) for r in check.rejected
    )
    kept = tuple(batch.mapped[m.index] for m in check.mapped)
    return replace(batch, mapped=kept, rejected=batch.rejected + refused)


_REF_FIELDS = (
    "id",
    "Id",
    "invoice_number",
    "DocNumber",
    "SupplierInvoiceIDByInvcgParty",
    "InvoiceNumber",
    "name",
)


def _ref(record: Any, index: int) -> str:
    """How a report names a record: its own id-like field, else its position (1-based)."""
    if isinstance(record, Mapping):
        for name in _REF_FIELDS:
            value = record.get(name)
            if isinstance(value, str | int) and str(value).strip():
                return str(value)
    return f"record {index + 1}"
