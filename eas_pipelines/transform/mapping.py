"""Schema mapping: each vendor's invoice to and from the canonical :class:`Invoice`, by a registry.

Why through one canonical model: with N systems, N pairs of functions instead of N x N, and each
rule (which date is the posting date, where the expense account comes from) is written once.
Every step validates, and a failure is a :class:`MappingError` naming each failing field in the
model of that step: the source's fields when the record does not fit its own system's shape,
the canonical fields when it lacks what an invoice needs, the target's fields when the target
needs something the record does not carry (``CompanyCode: Field required`` for SAP).

Choices where the vendors do not line up (tested):

* SAP has no posting date in QuickBooks or Oracle: the invoice date is used;
* SAP ``PurchaseOrderItem`` defaults to ``"00010"`` (SAP's first item number) for a header-level PO;
* a canonical invoice without lines becomes one line of the gross amount in QuickBooks and Oracle;
* a line without an account takes the invoice's ``expense_account``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from eas_pipelines.transform.models import (
    Invoice,
    InvoiceLine,
    OracleInvoice,
    QuickBooksBill,
    SapSupplierInvoice,
)

CANONICAL = "canonical"


@dataclass(frozen=True)
class FieldError:
    """One failing field: its dotted path in the model of the failing step, and pydantic's reason."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class MappingError(ValueError):
    """A record that does not map; ``errors`` lists each failing field, ``step`` says whose model."""

    def __init__(self, step: str, errors: list[FieldError]) -> None:
        self.step = step
        self.errors = errors
        super().__init__(f"{step}: " + "; ".join(str(e) for e in errors))

    @classmethod
    def from_validation(cls, step: str, error: ValidationError) -> MappingError:
        return cls(step, field_errors(error))


def field_errors(error: ValidationError) -> list[FieldError]:
    """pydantic's errors as ``FieldError("Line.0.Amount", "Input should be greater than 0")``."""
    found = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "(record)"
        reason = item["msg"].removeprefix("Value error, ")
        found.append(FieldError(path, reason))
    return found


@dataclass(frozen=True)
class SystemMapping:
    """How one system's record becomes canonical and back; both functions work on plain dicts."""

    model: type[BaseModel]
    to_canonical: Callable[[BaseModel], dict[str, Any]]
    from_canonical: Callable[[Invoice], dict[str, Any]]


REGISTRY: dict[str, SystemMapping] = {}


def register(system: str, mapping: SystemMapping) -> None:
    """Add (or replace) a system's mapping; the name is what :func:`convert` takes."""
    REGISTRY[system] = mapping


def _mapping(system: str) -> SystemMapping:
    try:
        return REGISTRY[system]
    except KeyError:
        raise KeyError(
            f"no mapping for {system!r}; known: {', '.join(sorted(REGISTRY))}, canonical"
        ) from None


def _validate(model: type[BaseModel], data: Any, step: str) -> BaseModel:
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump()
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise MappingError.from_validation(step, error) from None


def to_canonical(record: Mapping[str, Any] | BaseModel, source: str) -> Invoice:
    """A ``source`` record (its wire dict or model) -> the canonical invoice."""
    if source == CANONICAL:
        return _validate(Invoice, record, CANONICAL)  # type: ignore[return-value]
    mapping = _mapping(source)
    parsed = _validate(mapping.model, record, source)
    return _validate(Invoice, mapping.to_canonical(parsed), f"{source} -> {CANONICAL}")  # type: ignore[return-value]


def from_canonical(invoice: Invoice, target: str) -> BaseModel:
    """The canonical invoice -> the ``target`` system's model (validated)."""
    if target == CANONICAL:
        return invoice
    mapping = _mapping(target)
    return _validate(mapping.model, mapping.from_canonical(invoice), f"{CANONICAL} -> {target}")


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as the wire JSON of its system (aliases, no unset optionals, SAP dates as ``/Date()/``)."""
    return model.model_dump(mode="json", exclude_none=True)


def convert(record: Mapping[str, Any] | BaseModel, *, source: str, target: str) -> dict[str, Any]:
    """``convert(sap_record, source="sap", target="quickbooks")`` -> the QuickBooks wire dict.

    Raises :class:`MappingError` naming each failing field; ``KeyError`` for an unknown system.
    """
    return dump(from_canonical(to_canonical(record, source), target))


def systems() -> list[str]:
    return sorted([*REGISTRY, CANONICAL])


# --- SAP ---------------------------------------------------------------------------------------------


def _sap_to_canonical(record: SapSupplierInvoice) -> dict[str, Any]:
    refs = record.to_SuplrInvcItemPurOrdRef
    return {
        "invoice_number": record.SupplierInvoiceIDByInvcgParty,
        "vendor_id": record.InvoicingParty,
        "currency": record.DocumentCurrency,
        "gross_amount": record.InvoiceGrossAmount,
        "invoice_date": record.DocumentDate,
        "posting_date": record.PostingDate,
        "company_code": record.CompanyCode,
        "purchase_order": refs[0].PurchaseOrder if len({r.PurchaseOrder for r in refs}) == 1 else None,
        "lines": [
            {
                "amount": ref.SupplierInvoiceItemAmount,
                "purchase_order": ref.PurchaseOrder,
                "purchase_order_item": ref.PurchaseOrderItem,
            }
            for ref in refs
        ],
    }


def _canonical_to_sap(invoice: Invoice) -> dict[str, Any]:
    lines = [line for line in invoice.lines if line.purchase_order or invoice.purchase_order]
    if not lines and invoice.purchase_order:
        lines = [_whole_invoice_line(invoice)]
    return {
        "CompanyCode": invoice.company_code,
        "DocumentDate": invoice.invoice_date,
        "PostingDate": invoice.posting_date or invoice.invoice_date,
        "SupplierInvoiceIDByInvcgParty": invoice.invoice_number,
        "InvoicingParty": invoice.vendor_id,
        "DocumentCurrency": invoice.currency,
        "InvoiceGrossAmount": invoice.gross_amount,
        "to_SuplrInvcItemPurOrdRef": [
            {
                "SupplierInvoiceItem": str(number),
                "PurchaseOrder": line.purchase_order or invoice.purchase_order,
                "PurchaseOrderItem": line.purchase_order_item or "00010",
                "DocumentCurrency": invoice.currency,
                "SupplierInvoiceItemAmount": line.amount,
            }
            for number, line in enumerate(lines, start=1)
        ],
    }


# --- QuickBooks --------------------------------------------------------------------------------------


def _quickbooks_to_canonical(record: QuickBooksBill) -> dict[str, Any]:
    return {
        "invoice_number": record.DocNumber,
        "vendor_id": record.VendorRef.value,
        "vendor_name": record.VendorRef.name,
        "currency": record.CurrencyRef.value if record.CurrencyRef else None,
        "gross_amount": record.TotalAmt
        if record.TotalAmt is not None
        else sum((line.Amount for line in record.Line), Decimal(0)),
        "invoice_date": record.TxnDate,
        "due_date": record.DueDate,
        "lines": [
            {
                "amount": line.Amount,
                "description": line.Description,
                "account": line.AccountBasedExpenseLineDetail.AccountRef.value,
            }
            for line in record.Line
        ],
    }


def _canonical_to_quickbooks(invoice: Invoice) -> dict[str, Any]:
    lines = invoice.lines or [_whole_invoice_line(invoice)]
    return {
        "VendorRef": {"value": invoice.vendor_id, "name": invoice.vendor_name},
        "Line": [
            {
                "Amount": line.amount,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": line.account or invoice.expense_account}
                },
                "Description": line.description,
            }
            for line in lines
        ],
        "TxnDate": invoice.invoice_date,
        "DueDate": invoice.due_date,
        "DocNumber": invoice.invoice_number,
        "CurrencyRef": {"value": invoice.currency} if invoice.currency else None,
    }


# --- Oracle ------------------------------------------------------------------------------------------


def _oracle_to_canonical(record: OracleInvoice) -> dict[str, Any]:
    po_numbers = {line.PurchaseOrderNumber for line in record.invoiceLines if line.PurchaseOrderNumber}
    return {
        "invoice_number": record.InvoiceNumber,
        "vendor_name": record.Supplier,
        "vendor_id": record.SupplierNumber,
        "currency": record.InvoiceCurrency,
        "gross_amount": record.InvoiceAmount,
        "invoice_date": record.InvoiceDate,
        "business_unit": record.BusinessUnit,
        "payment_terms": record.PaymentTerms,
        "description": record.Description,
        "purchase_order": po_numbers.pop() if len(po_numbers) == 1 else None,
        "lines": [
            {
                "amount": line.LineAmount,
                "description": line.Description,
                "account": line.DistributionCombination,
                "purchase_order": line.PurchaseOrderNumber,
            }
            for line in record.invoiceLines
        ],
    }


def _canonical_to_oracle(invoice: Invoice) -> dict[str, Any]:
    lines = invoice.lines or [_whole_invoice_line(invoice)]
    return {
        "InvoiceNumber": invoice.invoice_number,
        "InvoiceCurrency": invoice.currency,
        "InvoiceAmount": invoice.gross_amount,
        "InvoiceDate": invoice.invoice_date,
        "Supplier": invoice.vendor_name,
        "SupplierNumber": invoice.vendor_id,
        "BusinessUnit": invoice.business_unit,
        "PaymentTerms": invoice.payment_terms,
        "Description": invoice.description,
        "invoiceLines": [
            {
                "LineNumber": number,
                "LineType": "Item",
                "LineAmount": line.amount,
                "Description": line.description,
                "PurchaseOrderNumber": line.purchase_order or invoice.purchase_order,
                "DistributionCombination": line.account or invoice.expense_account,
            }
            for number, line in enumerate(lines, start=1)
        ],
    }


def _whole_invoice_line(invoice: Invoice) -> InvoiceLine:
    return InvoiceLine(amount=invoice.gross_amount, description=invoice.description)


register("sap", SystemMapping(SapSupplierInvoice, _sap_to_canonical, _canonical_to_sap))  # type: ignore[arg-type]
register("quickbooks", SystemMapping(QuickBooksBill, _quickbooks_to_canonical, _canonical_to_quickbooks))  # type: ignore[arg-type]
register("oracle", SystemMapping(OracleInvoice, _oracle_to_canonical, _canonical_to_oracle))  # type: ignore[arg-type]
