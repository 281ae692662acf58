"""Expense-claim rules, free of Dagster: what a claim is, and the policy it must meet.

A claim is an amount an employee paid (or put on a company card) for one purpose. The NLP service
extracts the amount, its currency, a date, a vendor and sometimes a document type ("receipt"),
but no category: the category is read from the request's words (:data:`CATEGORIES`, first match
wins, so "hotel" is lodging even in "travel hotel"). A claim whose purpose cannot be told is
refused rather than booked to a guessed account: the account decides the limit and the tax
treatment, and the claimant knows what they spent it on.

The policy (why each number is what it is):

- a limit per claim per category (:attr:`Category.limit`): above it, the claim is refused; the
  finance team handles exceptions by hand, not through a self-service request;
- a receipt is required above :data:`RECEIPT_REQUIRED_ABOVE` (75, the US IRS substantiation
  threshold for business expenses);
- one claim per claimant, day, amount and category: a second identical one is a duplicate
  (:func:`claim_fingerprint` is kept as the QuickBooks expense's ``DocNumber``, so the check is a
  look-up in QuickBooks itself, whichever request or person entered the first one);
- above ``EAS_EXPENSE_APPROVAL_THRESHOLD`` (500 by default) the claim waits for the finance manager
  before it is booked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from eas_pipelines.agents.common import WorkItem

RECEIPT_REQUIRED_ABOVE = 75.0
DOC_NUMBER_PREFIX = "EXP-"
"""QuickBooks' ``DocNumber`` holds 21 characters: the prefix and 16 hex digits of the fingerprint."""


@dataclass(frozen=True)
class Category:
    """An expense category: the QuickBooks expense account it books to and its per-claim limit."""

    name: str
    account: str
    limit: float
    words: re.Pattern[str]


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


CATEGORIES: tuple[Category, ...] = (
    Category("lodging", "Travel", 400.0, _words(r"hotels?|lodging|accommodation|airbnb|motel")),
    Category(
        "meals",
        "Meals and Entertainment",
        150.0,
        _words(r"meals?|lunch|dinner|breakfast|drinks|pizza|food|coffee|catering|per diem"),
    ),
    Category(
        "training",
        "Professional Fees",
        2000.0,
        _words(r"conference|training|course|seminar|workshop|certification|tuition"),
    ),
    Category(
        "travel",
        "Travel",
        2500.0,
        _words(r"flights?|airfare|train|taxi|uber|lyft|cab|parking|mileage|car rental|tolls?|trip|travel"),
    ),
    Category(
        "software", "Software Subscriptions", 500.0, _words(r"software|subscriptions?|licen[cs]es?|saas")
    ),
    Category(
        "equipment",
        "Office Supplies",
        1000.0,
        _words(r"monitor|keyboard|headset|chair|desk|laptop|mouse|supplies|equipment|stipend|webcam"),
    ),
)
"""The categories, in the order they are tried against the request's words."""

_RECEIPT = re.compile(r"\b(?:receipts?|attached|s3://\S+)", re.IGNORECASE)
_COMPANY_CARD = re.compile(r"\b(?:corporate|company) card\b", re.IGNORECASE)


@dataclass(frozen=True)
class ExpenseClaim:
    """The claim a request describes, as the workflow carries it from op to op."""

    item: WorkItem
    claimant: str
    amount: float
    currency: str
    category: str
    account: str
    spent_on: date
    vendor: str | None
    receipt: str | None
    """What the request offers as the receipt (a document named, or "receipt"); None: none."""
    company_card: bool
    fingerprint: str
    expense_id: str | None = None
    """The QuickBooks expense (``Purchase``) Id, once booked."""

    def with_(self, **changes: Any) -> ExpenseClaim:
        return replace(self, **changes)

    @property
    def label(self) -> str:
        return f"{self.category} expense of {money(self.amount, self.currency)} on {self.spent_on}"

    @property
    def note(self) -> str:
        """The QuickBooks ``PrivateNote``: who claimed it, in which request, and the receipt."""
        receipt = f"; receipt: {self.receipt}" if self.receipt else ""
        return f"EAS expense claim by {self.claimant}; request {self.item.request_id}{receipt}"


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def category_of(text: str) -> Category | None:
    """The first category whose words the text uses; None when it names no purpose EAS knows."""
    return next((category for category in CATEGORIES if category.words.search(text)), None)


def claim_amount(item: WorkItem, default_currency: str) -> tuple[float, str] | None:
    """The claimed amount and its currency (the amount's own, else a currency entity, else the default)."""
    for value in item.values("amount"):
        if isinstance(value, dict) and isinstance(value.get("amount"), int | float):
            currency = value.get("currency") or item.value("currency") or default_currency
            return float(value["amount"]), str(currency).upper()
    return None


def receipt_of(item: WorkItem) -> str | None:
    """What stands for the receipt: a receipt-like document named, or the request saying it has one."""
    for text in item.texts("document_type"):
        if "receipt" in text.lower() or "invoice" in text.lower():
            return text
    found = _RECEIPT.search(item.text)
    return found.group(0) if found else None


def spent_on(item: WorkItem) -> date:
    """The day the money was spent: a date entity, else the start of a date range, else the request's day."""
    for value in item.values("date"):
        if isinstance(value, str):
            return date.fromisoformat(value)
    for value in item.values("date_range"):
        if isinstance(value, dict) and value.get("start"):
            return date.fromisoformat(str(value["start"]))
    return item.requested_on or date.today()


def claim_fingerprint(claimant: str, day: date, amount: float, category: str) -> str:
    """The claim's identity for the duplicate check, as a QuickBooks ``DocNumber`` ("EXP-" + 16 hex)."""
    key = f"{claimant.strip().lower()}|{day.isoformat()}|{amount:.2f}|{category}"
    return DOC_NUMBER_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]


def read_claim(item: WorkItem, default_currency: str) -> ExpenseClaim | str:
    """The claim, or why the request is not one that can be booked."""
    amount = claim_amount(item, default_currency)
    if amount is None:
        return "the request names no amount: say how much was spent"
    value, currency = amount
    if value <= 0:
        return f"the amount must be positive, not {money(value, currency)}"
    if currency != default_currency.upper():
        return (
            f"expenses are booked in {default_currency.upper()}: submit the {currency} amount converted "
            f"as your card statement shows it"
        )
    category = category_of(item.text)
    if category is None:
        known = ", ".join(c.name for c in CATEGORIES)
        return f"the expense category could not be told from the request: say what it was for ({known})"
    claimant = str(item.value("employee") or item.requester)
    day = spent_on(item)
    return ExpenseClaim(
        item=item,
        claimant=claimant,
        amount=round(value, 2),
        currency=currency,
        category=category.name,
        account=category.account,
        spent_on=day,
        vendor=item.value("vendor"),
        receipt=receipt_of(item),
        company_card=bool(_COMPANY_CARD.search(item.text)),
        fingerprint=claim_fingerprint(claimant, day, round(value, 2), category.name),
    )


def policy_problem(claim: ExpenseClaim, today: date) -> str | None:
    """Why the claim breaks the expense policy (category limit, receipt, future date); None if it does not."""
    limit = next(c.limit for c in CATEGORIES if c.name == claim.category)
    if claim.amount > limit:
        return f"{claim.label} is over the {claim.category} limit of {money(limit, claim.currency)} per claim"
    if claim.amount > RECEIPT_REQUIRED_ABOVE and claim.receipt is None:
        return (
            f"a receipt is required for expenses over {money(RECEIPT_REQUIRED_ABOVE, claim.currency)}: "
            "resubmit with the receipt"
        )
    if claim.spent_on > today:
        return f"{claim.spent_on} is in the future: an expense is claimed after it is paid"
    return None


def needs_approval(claim: ExpenseClaim, threshold: float) -> bool:
    return claim.amount > threshold
