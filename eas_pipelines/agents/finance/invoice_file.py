"""Invoice files, free of Dagster: a CSV of invoices in S3 read into rows, each valid or rejected.

"Process the invoices in s3://finance-inbox/2026-03/acme.csv" carries a file, not one invoice: up to
:data:`MAX_ROWS` rows, each posted like a single invoice request (:mod:`.jobs`) by the bulk fan-out
(:mod:`.file_jobs`). This module decides, before anything is posted, what each row says and which rows
cannot be posted at all, so that the report names every bad row by its number (the spreadsheet's:
the header is row 1) and the reason, and the good rows go on regardless.

- The header names the columns; the usual spellings are accepted (:data:`COLUMNS`). A file without
  a vendor, invoice number or amount column is refused as a whole: it is not an invoice list.
- A row needs a vendor (supplier name or SAP supplier number), an invoice number and a positive
  amount (``"12,400.00"``, ``"$1,200"``, ``"1.234,56 EUR"``: ``transform.normalize.parse_money``); the
  currency comes from the amount, else the ``currency`` column, else the policy's default. The PO
  number and the due date are optional.
- The same invoice (vendor and invoice number) twice in one file: the later row is rejected, naming
  the earlier one (posting it would be refused by SAP as a duplicate anyway, with a less useful reason).
- Each row is booked against a PO as a single invoice is (the quoted one, else the supplier's open PO
  with the smallest open amount that covers it: :func:`~.invoice.match_purchase_order`), with the open
  amounts the earlier rows of the file have already taken (:func:`allocate_purchase_orders`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from eas_pipelines.agents.finance.invoice import Invoice, match_purchase_order, vendor_key
from eas_pipelines.connectors.sap import PurchaseOrder
from eas_pipelines.transform.normalize import normalize_currency, parse_date, parse_money

MAX_ROWS = 5_000
"""Invoices one file may hold: a larger file is refused (split it), so one request stays one report."""
MAX_BYTES = 20 * 1024 * 1024
"""A file larger than this is refused before it is parsed (5,000 rows fit in well under 2 MB)."""

_S3_CSV = re.compile(r"\bs3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>[^\s,;]+?\.csv)\b", re.I)

COLUMNS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "supplier", "supplier_name", "vendor_name", "supplier_id", "vendor_id"),
    "invoice_id": ("invoice_id", "invoice", "invoice_number", "invoice_no", "reference", "invoice_reference"),
    "amount": ("amount", "total", "gross_amount", "invoice_amount", "amount_due"),
    "currency": ("currency", "currency_code"),
    "po_number": ("po_number", "po", "purchase_order", "po_no"),
    "due_date": ("due_date", "due", "date", "invoice_date"),
}
"""Field -> the header spellings read as it (lower-cased, spaces and dashes as underscores)."""
REQUIRED = ("vendor", "invoice_id", "amount")


@dataclass(frozen=True)
class FileLocation:
    """The CSV a request names: ``str()`` is its ``s3://`` URL, as reports quote it."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class InvoiceRow:
    """One row of the file: the invoice it describes, or why it cannot be posted (``problem``)."""

    row: int  # the file's line number, as a spreadsheet numbers its rows (the header is row 1)
    vendor: str = ""
    invoice_id: str = ""
    amount: float = 0.0
    currency: str = ""
    po_number: str | None = None
    due_date: date | None = None
    problem: str | None = None
    supplier_id: str | None = None
    """SAP's supplier number, once the vendor is found in the supplier master."""
    matched_po: str | None = None
    """The PO the row is booked against (:func:`allocate_purchase_orders`)."""
    posted: str | None = None
    """The SAP document of this row's posting, when an earlier run of the request already posted it."""

    @property
    def key(self) -> str:
        """The row's key in the fan-out, and so in its posting's idempotency key: stable per row."""
        return f"row{self.row}"

    @property
    def target(self) -> str:
        """How the report names the row: "row 7 (INV-1042)"."""
        return f"row {self.row} ({self.invoice_id})" if self.invoice_id else f"row {self.row}"

    def payload(self) -> dict[str, Any]:
        """The row as a fan-out item's payload (plain values: it is pickled between ops)."""
        return {
            "row": self.row,
            "vendor": self.vendor,
            "invoice_id": self.invoice_id,
            "amount": self.amount,
            "currency": self.currency,
            "po_number": self.po_number,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "problem": self.problem,
            "supplier_id": self.supplier_id,
            "matched_po": self.matched_po,
            "posted": self.posted,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> InvoiceRow:
        due = payload.get("due_date")
        return cls(
            row=int(payload["row"]),
            vendor=str(payload.get("vendor") or ""),
            invoice_id=str(payload.get("invoice_id") or ""),
            amount=float(payload.get("amount") or 0.0),
            currency=str(payload.get("currency") or ""),
            po_number=payload.get("po_number") or None,
            due_date=date.fromisoformat(due) if due else None,
            problem=payload.get("problem"),
            supplier_id=payload.get("supplier_id"),
            matched_po=payload.get("matched_po"),
            posted=payload.get("posted"),
        )

    def with_(self, **changes: Any) -> InvoiceRow:
        return replace(self, **changes)

    def rejected(self, problem: str) -> InvoiceRow:
        """The row, rejected for ``problem``."""
        return replace(self, problem=problem)


class InvoiceFileError(ValueError):
    """The file as a whole is not an invoice list this agent can read (the request is refused)."""


def file_of(text: str) -> FileLocation | None:
    """The ``s3://bucket/key.csv`` the request names, if any."""
    found = _S3_CSV.search(text)
    return FileLocation(found.group("bucket"), found.group("key")) if found else None


def _header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _columns(header: list[str]) -> dict[str, str]:
    """Field -> the file's column holding it (the first spelling found)."""
    found: dict[str, str] = {}
    normalised = {_header(column): column for column in header if column}
    for field_name, spellings in COLUMNS.items():
        for spelling in spellings:
            if spelling in normalised:
                found[field_name] = normalised[spelling]
                break
    return found


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvoiceFileError(f"the file is not UTF-8 text (byte {exc.start} cannot be read)") from exc


def read_rows(content: bytes, default_currency: str) -> list[InvoiceRow]:
    """Every row of the CSV ``content``, each an invoice or a rejected row; raises
    :class:`InvoiceFileError` when the file as a whole cannot be read as an invoice list."""
    if len(content) > MAX_BYTES:
        raise InvoiceFileError(f"the file is {len(content):,} bytes, over the {MAX_BYTES:,}-byte limit")
    reader = csv.DictReader(io.StringIO(_decode(content), newline=""))
    columns = _columns(list(reader.fieldnames or []))
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise InvoiceFileError(
            f"the file has no {', '.join(missing)} column (its header: {', '.join(reader.fieldnames or [])})"
        )
    rows: list[InvoiceRow] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for raw in reader:
            number = reader.line_num  # blank lines count, as a spreadsheet's rows do
            if len(rows) >= MAX_ROWS:
                raise InvoiceFileError(f"the file holds more than {MAX_ROWS:,} invoices: split it")
            values = {name: str(raw.get(column) or "").strip() for name, column in columns.items()}
            if not any(values.values()):
                continue  # a row of empty cells is not an invoice
            row = read_row(number, values, default_currency)
            if row.problem is None:
                same = (vendor_key(row.vendor), row.invoice_id.upper())
                if same in seen:
                    row = row.rejected(f"same invoice as row {seen[same]}")
                else:
                    seen[same] = row.row
            rows.append(row)
    except csv.Error as exc:
        raise InvoiceFileError(f"the file is not valid CSV near line {reader.line_num}: {exc}") from exc
    if not rows:
        raise InvoiceFileError("the file holds no invoices")
    return rows


def read_row(number: int, values: Mapping[str, str], default_currency: str) -> InvoiceRow:
    """Row ``number`` from its ``values`` (field -> text): the invoice, or the first problem found."""
    vendor, invoice_id = values.get("vendor", ""), values.get("invoice_id", "")
    problems = [f"no {name.replace('_', ' ')}" for name in ("vendor", "invoice_id") if not values.get(name)]
    amount, currency = 0.0, ""
    text = values.get("amount", "")
    if not text:
        problems.append("no amount")
    else:
        try:
            parsed, written = parse_money(text)
            currency = normalize_currency(written or values.get("currency") or default_currency)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if parsed <= 0:
                problems.append(f"amount {text!r} is not positive")
            amount = round(float(parsed), 2)
    due: date | None = None
    if values.get("due_date"):
        try:
            due = parse_date(values["due_date"])
        except ValueError as exc:
            problems.append(f"due date: {exc}")
    if problems:
        return InvoiceRow(number, vendor, invoice_id, problem="; ".join(problems))
    return InvoiceRow(number, vendor, invoice_id, amount, currency, values.get("po_number") or None, due)


def allocate_purchase_orders(
    invoices: Sequence[tuple[InvoiceRow, Invoice]],
    orders: Mapping[str, PurchaseOrder],
    tolerance: float,
) -> list[InvoiceRow]:
    """Each row booked against a PO (``matched_po``) or rejected with why none fits, in file order.

    ``invoices``: the rows of one supplier with the invoice each describes; ``orders``: PO number ->
    PO, the supplier's and any other the rows quote. Each row takes its amount off its PO's open
    amount, so a later row sees what is left, as it would after the earlier one was posted.
    """
    left = dict(orders)
    booked: list[InvoiceRow] = []
    for row, invoice in invoices:
        if row.po_number:
            quoted = left.get(row.po_number) or next(
                (po for number, po in left.items() if number.upper() == row.po_number.upper()), None
            )
            candidates = [quoted] if quoted is not None else []
        else:
            candidates = [po for po in left.values() if po.supplier_id == row.supplier_id]
        po, why = match_purchase_order(invoice, candidates, tolerance)
        if po is None:
            booked.append(row.rejected(why))
            continue
        remaining = max(po.open_amount - Decimal(str(row.amount)), Decimal(0))
        left[po.po_number] = po.model_copy(update={"open_amount": remaining})
        booked.append(row.with_(matched_po=po.po_number))
    return booked
