"""The invoice as each system writes it, and EAS's one canonical :class:`Invoice`.

Why pydantic models for the vendor shapes too: a record is checked against the shape the vendor
documents (field names, lengths, required parts) before anything is sent, so a refusal names
the vendor's field (``InvoiceGrossAmount: Input should be greater than 0``) here rather than as
a vendor error after a round trip. Field names follow the wire (SAP ``A_SupplierInvoice``,
QuickBooks ``Bill``, Oracle Fusion ``invoices``; see docs/VENDOR_APIS.md); only the subset EAS
reads and writes is modelled, and unknown fields are ignored on the way in.

The canonical model is lenient on the way in (amounts, currencies and dates go through
:mod:`eas_pipelines.transform.normalize`), the vendor models are strict on what they hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from eas_pipelines.transform.normalize import (
    ISO_4217,
    normalize_currency,
    normalize_whitespace,
    parse_amount,
    parse_date,
)


def _iso_code(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _text(value: Any) -> Any:
    return normalize_whitespace(value) if isinstance(value, str) else value


def _date_in(value: Any) -> Any:
    return parse_date(value) if isinstance(value, str) else value


def _sap_date_out(value: date) -> str:
    """OData V2 ``Edm.DateTime`` JSON: ``/Date(<ms since epoch, UTC midnight>)/``."""
    return f"/Date({int(datetime.combine(value, time(), tzinfo=UTC).timestamp() * 1000)})/"


CurrencyCode = Annotated[str, AfterValidator(_iso_code)]
"""Strict: already an ISO 4217 code (what a vendor sends and accepts)."""

Currency = Annotated[str, BeforeValidator(lambda v: normalize_currency(v) if isinstance(v, str) else v)]
"""Lenient: any spelling :func:`normalize_currency` reads (``"usd"``, ``"$"``, ``"€"``)."""

Amount = Annotated[Decimal, BeforeValidator(lambda v: parse_amount(v) if isinstance(v, str) else v)]
"""Lenient: any spelling :func:`parse_amount` reads (``"12,400.50"``, ``"1.234,56"``)."""

Day = Annotated[date, BeforeValidator(_date_in)]
"""Any spelling :func:`parse_date` reads, SAP's ``/Date(ms)/`` included."""

SapDay = Annotated[date, BeforeValidator(_date_in), PlainSerializer(_sap_date_out, when_used="json")]
DecimalText = Annotated[Decimal, PlainSerializer(lambda v: str(v), when_used="json")]
"""A decimal written as a JSON string, as SAP OData V2 sends ``Edm.Decimal`` (no float rounding)."""
DecimalNumber = Annotated[
    Decimal, PlainSerializer(lambda v: int(v) if v == v.to_integral_value() else float(v), when_used="json")
]
"""A decimal written as a JSON number, as QuickBooks and Oracle's REST APIs take amounts."""

Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- SAP S/4HANA: A_SupplierInvoice (API_SUPPLIERINVOICE_PROCESS_SRV, OData V2) ---------------------


class SapPurchaseOrderRef(_Vendor):
    """One ``to_SuplrInvcItemPurOrdRef`` item: the PO item this invoice line settles."""

    SupplierInvoiceItem: str = Field(min_length=1, max_length=4)
    PurchaseOrder: str = Field(min_length=1, max_length=10)
    PurchaseOrderItem: str = Field(min_length=1, max_length=5)
    DocumentCurrency: CurrencyCode
    SupplierInvoiceItemAmount: DecimalText = Field(gt=0)


class SapSupplierInvoice(_Vendor):
    """``A_SupplierInvoice`` for a create (the server assigns ``SupplierInvoice`` and ``FiscalYear``)."""

    CompanyCode: str = Field(min_length=1, max_length=4)
    DocumentDate: SapDay
    PostingDate: SapDay
    SupplierInvoiceIDByInvcgParty: str = Field(min_length=1, max_length=16)
    InvoicingParty: str = Field(min_length=1, max_length=10)
    DocumentCurrency: CurrencyCode
    InvoiceGrossAmount: DecimalText = Field(gt=0)
    to_SuplrInvcItemPurOrdRef: list[SapPurchaseOrderRef] = Field(default_factory=list)

    @field_validator("to_SuplrInvcItemPurOrdRef", mode="before")
    @classmethod
    def _unwrap_results(cls, value: Any) -> Any:
        """OData V2 reads wrap an expanded navigation in ``{"results": [...]}``."""
        return value["results"] if isinstance(value, dict) and "results" in value else value


# --- QuickBooks Online: Bill (Accounting v3) --------------------------------------------------------


class QuickBooksRef(_Vendor):
    """A QuickBooks reference type: ``{"value": id, "name": display name}``."""

    value: str = Field(min_length=1)
    name: str | None = None


class QuickBooksAccountLineDetail(_Vendor):
    AccountRef: QuickBooksRef


class QuickBooksBillLine(_Vendor):
    Amount: DecimalNumber = Field(gt=0)
    DetailType: Literal["AccountBasedExpenseLineDetail"] = "AccountBasedExpenseLineDetail"
    AccountBasedExpenseLineDetail: QuickBooksAccountLineDetail
    Description: str | None = Field(default=None, max_length=4000)


class QuickBooksBill(_Vendor):
    """A ``Bill`` as created (``TotalAmt`` is computed by QuickBooks and read back)."""

    VendorRef: QuickBooksRef
    Line: list[QuickBooksBillLine] = Field(min_length=1)
    TxnDate: Day | None = None
    DueDate: Day | None = None
    DocNumber: str | None = Field(default=None, max_length=21)
    CurrencyRef: QuickBooksRef | None = None
    TotalAmt: DecimalNumber | None = None

    @field_validator("CurrencyRef")
    @classmethod
    def _currency_code(cls, value: QuickBooksRef | None) -> QuickBooksRef | None:
        if value is not None:
            _iso_code(value.value)
        return value


# --- Oracle Fusion Cloud Financials: invoices (REST 11.13.18.05) -----------------------------------


class OracleInvoiceLine(_Vendor):
    LineNumber: int = Field(ge=1)
    LineType: Literal["Item", "Freight", "Miscellaneous", "Tax"] = "Item"
    LineAmount: DecimalNumber
    Description: str | None = Field(default=None, max_length=240)
    PurchaseOrderNumber: str | None = None
    DistributionCombination: str | None = None


class OracleInvoice(_Vendor):
    """A payables invoice for ``POST /invoices`` (the server assigns ``InvoiceId``)."""

    InvoiceNumber: str = Field(min_length=1, max_length=50)
    InvoiceCurrency: CurrencyCode
    InvoiceAmount: DecimalNumber = Field(gt=0)
    InvoiceDate: Day
    Supplier: str = Field(min_length=1, max_length=360)
    SupplierNumber: str | None = None
    SupplierSite: str | None = None
    BusinessUnit: str | None = None
    InvoiceGroup: str | None = None
    PaymentTerms: str | None = None
    Description: str | None = Field(default=None, max_length=240)
    invoiceLines: list[OracleInvoiceLine] = Field(default_factory=list)


# --- canonical ---------------------------------------------------------------------------------------


class InvoiceLine(BaseModel):
    """One line of a canonical invoice; ``account`` is the expense account in the target ledger."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount
    description: str | None = None
    account: str | None = None
    purchase_order: str | None = None
    purchase_order_item: str | None = None


class Invoice(BaseModel):
    """EAS's one invoice: every vendor shape maps to and from it.

    ``vendor_id`` is the id in the system the record came from or goes to; ``expense_account`` is
    the default for lines without one (the vendor master can supply it). ``currency`` may be
    unknown until enrichment fills it from the vendor master.
    """

    model_config = ConfigDict(extra="forbid")

    invoice_number: Text
    vendor_name: Text | None = None
    vendor_id: str | None = None
    currency: Currency | None = None
    gross_amount: Amount = Field(gt=0)
    invoice_date: Day
    posting_date: Day | None = None
    due_date: Day | None = None
    company_code: str | None = None
    business_unit: str | None = None
    purchase_order: str | None = None
    payment_terms: str | None = None
    expense_account: str | None = None
    description: str | None = None
    lines: list[InvoiceLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_a_vendor(self) -> Invoice:
        if not self.vendor_name and not self.vendor_id:
            raise ValueError("an invoice needs vendor_name or vendor_id")
        if self.due_date and self.due_date < self.invoice_date:
            raise ValueError("due_date is before invoice_date")
        return self
