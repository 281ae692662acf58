"""Invoice fields read from a document's text: the rules, free of Dagster and of any vendor.

The text is what :mod:`.pdf` gives: a PDF's text layer, or OCR lines of a scanned page. OCR drops
spaces after colons ("Total:1,250.00USD") and confuses letter case ("INv-77123"), so every pattern
here tolerates missing spaces and ignores case, and identifiers are upper-cased as the NLP service
normalises them (systems store them upper-case). Each field is looked for after its label on a line
("Invoice number:", "PO:", "Vendor:", "Total due:", "Due date:"); the amount prefers the amount due
over a grand total over a plain total, and never takes a subtotal. Values keep the shapes the
finance workflow reads from a request's entities (see :mod:`eas_pipelines.agents.finance.invoice`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

REQUIRED = ("invoice_id", "vendor", "amount")
"""What finance cannot post an invoice without (its own required fields)."""

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
KNOWN_CODES = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "INR", "CNY", "MXN"}
)

_ID = r"([A-Z0-9][A-Z0-9\-/._]{2,30})"
_INVOICE_ID = re.compile(rf"\binvoice\s*(?:no\b\.?|number\b|num\b\.?|#|id\b)\s*[:#.]?\s*{_ID}", re.I)
_INVOICE_TOKEN = re.compile(r"\b(INV(?:[-/][A-Z0-9]|\d)[A-Z0-9\-]*)\b", re.I)
_PO = re.compile(
    rf"\b(?:p\.?\s?o\.?|purchase\s*order)\s*(?:(?:no\b\.?|number\b|num\b\.?|ref(?:erence)?\b)\s*[:#]?|[:#]|(?=\s*\d))"
    rf"\s*{_ID}",
    re.I,
)
_PO_TOKEN = re.compile(r"\b(PO[-/]?\d[A-Z0-9\-]*)\b", re.I)
_VENDOR = re.compile(
    r"^\s*(?:vendor|supplier|seller|from|bill(?:ed)?\s*from|remit\s*to)\s*(?:name)?\s*:\s*(.+?)\s*$",
    re.I | re.M,
)
_CURRENCY = re.compile(r"\bcurrency\s*:?\s*([A-Z]{3})\b", re.I)
_MONEY = (
    r"(?P<pre>[A-Z]{3}|[$€£¥])?\s*"
    r"(?P<num>\d{1,3}(?:[,.\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"\s*(?P<post>[A-Z]{3}\b|[$€£¥])?"
)
_AMOUNT_LABELS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"\b(?:amount|balance|total)\s*due\b\s*[:]?\s*{_MONEY}", re.I)),
    (1, re.compile(rf"\b(?:grand\s*total|invoice\s*total|total\s*amount)\b\s*[:]?\s*{_MONEY}", re.I)),
    (2, re.compile(rf"(?<![a-z])total\b\s*(?:\([^)]*\))?\s*[:]?\s*{_MONEY}", re.I)),
)
_DATE = (
    r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4}|"
    r"[A-Z][a-z]{2,8}\.?\s*\d{1,2},?\s*\d{4}|\d{1,2}\s*[A-Z][a-z]{2,8}\.?,?\s*\d{4})"
)
_DUE_DATE = re.compile(rf"\b(?:due\s*(?:date|on|by)?|payment\s*due)\s*[:]?\s*{_DATE}", re.I)
_INVOICE_DATE = re.compile(
    rf"(?<!due)(?<!due )\b(?:invoice\s*date|date\s*of\s*issue|issued|date)\s*[:]?\s*{_DATE}", re.I
)
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y")


@dataclass(frozen=True)
class InvoiceFields:
    """What an invoice document says (None: not found)."""

    invoice_id: str | None = None
    vendor: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    po_number: str | None = None

    def missing(self) -> list[str]:
        """The fields finance requires that were not found."""
        return [name for name in REQUIRED if getattr(self, name) in (None, "")]

    def as_detail(self) -> dict[str, str | None]:
        """JSON-ready values for audit entries and messages."""
        return {
            "invoice_id": self.invoice_id,
            "vendor": self.vendor,
            "amount": None if self.amount is None else f"{self.amount:.2f}",
            "currency": self.currency,
            "invoice_date": None if self.invoice_date is None else self.invoice_date.isoformat(),
            "due_date": None if self.due_date is None else self.due_date.isoformat(),
            "po_number": self.po_number,
        }


def looks_like_invoice(text: str) -> bool:
    """Whether a document reads as an invoice (a bill to pay), not a contract or a letter: it says
    "invoice" and shows an invoice number or an amount to pay."""
    if not re.search(r"\b(?:tax\s*)?invoice\b", text, re.I):
        return False
    return bool(_INVOICE_ID.search(text)) or _find_amount(text)[0] is not None


def parse_number(text: str) -> Decimal | None:
    """ "1,250.00", "1.250,00", "1 250.00" and "1250" as a Decimal (None when not a number).

    The separator that comes last, followed by one or two digits, is the decimal point.
    """
    digits = text.replace(" ", "")
    last = max(digits.rfind(","), digits.rfind("."))
    if last >= 0 and 1 <= len(digits) - last - 1 <= 2:
        whole, fraction = digits[:last], digits[last + 1 :]
    else:
        whole, fraction = digits, ""
    whole = whole.replace(",", "").replace(".", "")
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation:
        return None


def _currency(token: str | None) -> str | None:
    if not token:
        return None
    if token in SYMBOLS:
        return SYMBOLS[token]
    code = token.upper()
    return code if code in KNOWN_CODES else None


def _find_amount(text: str) -> tuple[Decimal | None, str | None]:
    """The amount to pay and its currency: the best-ranked label's last occurrence."""
    for _, pattern in _AMOUNT_LABELS:
        found = [m for m in pattern.finditer(text) if not _is_subtotal(text, m.start())]
        for match in reversed(found):
            amount = parse_number(match.group("num"))
            if amount is not None and amount > 0:
                return amount, _currency(match.group("pre")) or _currency(match.group("post"))
    return None, None


def _is_subtotal(text: str, start: int) -> bool:
    return text[max(0, start - 4) : start].lower().replace(" ", "").endswith("sub")


def parse_date(text: str) -> date | None:
    """A date as invoices print it (ISO, US m/d/Y, European d.m.Y, "March 1, 2026", "1 Mar 2026")."""
    cleaned = text.strip()
    if not re.fullmatch(r"[\d/.\-]+", cleaned):  # words: "Mar. 1,2026" -> "Mar 1 2026"
        cleaned = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", cleaned)
        cleaned = " ".join(cleaned.replace(",", " ").replace(".", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def _identifier(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip(" .:;,#").upper()
    return cleaned or None


def extract_invoice_fields(text: str) -> InvoiceFields:
    """The invoice fields in ``text`` (a document's full text, lines separated by newlines)."""
    invoice_id = _identifier(_first(_INVOICE_ID, text) or _first(_INVOICE_TOKEN, text))
    vendor_match = _VENDOR.search(text)
    vendor = " ".join(vendor_match.group(1).split()).strip(" .,;") if vendor_match else None
    amount, currency = _find_amount(text)
    currency = currency or _currency(_first(_CURRENCY, text))
    due_text = _first(_DUE_DATE, text)
    invoice_date_text = _first(_INVOICE_DATE, text)
    return InvoiceFields(
        invoice_id=invoice_id,
        vendor=vendor or None,
        amount=None if amount is None else amount.quantize(Decimal("0.01")),
        currency=currency,
        invoice_date=parse_date(invoice_date_text) if invoice_date_text else None,
        due_date=parse_date(due_text) if due_text else None,
        po_number=_identifier(_first(_PO, text) or _first(_PO_TOKEN, text)),
    )
