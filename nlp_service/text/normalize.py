"""Normalised entity values: what an entity's text means, in a form workflows can use.

``normalize`` runs for every entity of every request, so it only uses pre-compiled
patterns and small lookups, and it never raises: text it cannot read gives ``None``, and
the entity is still returned with its text and offsets for a person or a later turn to
resolve. Every value is JSON-serialisable (str, int, float, dict or ``None``).

Value rules by type (the modules named hold the details):

* amount: ``{"amount": float, "currency": ISO 4217 code or None}`` (``money``);
  currency: an ISO 4217 code (``money``).
* date: ISO date; date_range: ``{"start", "end"}`` ISO dates (``dates``);
  period: ``{"start", "end"}`` ISO dates (``periods``).
* quantity: int; duration: whole minutes (``numbers``).
* email: lower-cased address, or ``None`` when it is not one.
* ids (invoice_id, po_number, ticket_id, request_id, sku, tracking_number): upper-cased,
  as typed otherwise, without surrounding punctuation ("#4411" -> "4411", "(tck-88)," ->
  "TCK-88"); prefixes such as "INV-" are kept because systems store them. Tracking
  numbers also lose their inner spaces, as carriers print them in groups.
* priority: "P0" (critical, urgent, blocker, sev0/sev1, P0), "P1" (high, normal, medium,
  sev2, P1), "P2" (low, minor, whenever, not urgent, sev3+, P2 and lower).
* leave_type: a canonical name (vacation, sick, parental, pto, personal, bereavement,
  unpaid, jury_duty), else the lower-cased text.
* anything else (vendor, employee, location, ...): the text with surrounding space,
  quotes, brackets and trailing sentence punctuation removed and inner space collapsed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from nlp_service.text.dates import parse_date, parse_date_range
from nlp_service.text.money import currency_code, parse_amount
from nlp_service.text.numbers import parse_duration_minutes, parse_quantity
from nlp_service.text.periods import parse_period

logger = logging.getLogger(__name__)

# A date, amount or count is never this long; longer text is not read, which also bounds
# the cost of parsing it (a range is read by trying its separators one by one).
MAX_VALUE_TEXT = 100
_READ_TYPES = frozenset({"amount", "currency", "date", "date_range", "period", "quantity", "duration"})
ID_TYPES = frozenset({"invoice_id", "po_number", "ticket_id", "request_id", "sku", "tracking_number"})

_EMAIL = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_ID_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_STRING_EDGES = "\"'“”‘’«»()[]{}<>"
_TRAILING_PUNCTUATION = ",;:!?"

# Priority words, checked in this order: negations before the words they negate.
_PRIORITY_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bp\s*-?\s*([0-9])\b"), "code"),
    (re.compile(r"\bsev(?:erity)?\s*-?\s*([0-9])\b"), "severity"),
    (re.compile(r"\b(?:not|non|no|isn't|not that)[\s-]+(?:urgent|critical|rush|hurry|important|high)"), "P2"),
    (
        re.compile(
            r"\b(?:critical|urgent(?:ly)?|blocker|blocking|emergency|asap|highest|top|immediate(?:ly)?)\b"
        ),
        "P0",
    ),
    (re.compile(r"\b(?:high|important|normal|medium|moderate|standard|regular)\b"), "P1"),
    (re.compile(r"\b(?:low|lowest|minor|trivial|whenever|eventually|someday|backlog)\b"), "P2"),
)
_LEAVE_TYPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:pto|paid time off)\b"), "pto"),
    (re.compile(r"\b(?:sick|illness|ill|medical)\b"), "sick"),
    (re.compile(r"\b(?:parental|maternity|paternity|adoption|family)\b"), "parental"),
    (re.compile(r"\b(?:bereavement|compassionate|funeral)\b"), "bereavement"),
    (re.compile(r"\bunpaid\b"), "unpaid"),
    (re.compile(r"\bjury\b"), "jury_duty"),
    (re.compile(r"\b(?:vacation|holiday|holidays|annual|vacay)\b"), "vacation"),
    (re.compile(r"\bpersonal\b"), "personal"),
)


def normalize(entity_type: str, text: str, reference_date: date) -> Any:
    """The normalised value of an entity of ``entity_type`` whose text is ``text``.

    Relative dates are resolved against ``reference_date`` (the request's day in the
    user's time zone). Returns ``None`` when the text cannot be interpreted.
    """
    if not isinstance(text, str):
        return None
    if isinstance(reference_date, datetime):
        reference_date = reference_date.date()
    normaliser = _NORMALISERS.get(entity_type)
    if normaliser is None:
        normaliser = _id_value if entity_type in ID_TYPES else _string_value
    elif entity_type in _READ_TYPES and len(text) > MAX_VALUE_TEXT:
        return None
    try:
        return normaliser(text, reference_date)
    except (ValueError, OverflowError, ArithmeticError) as exc:
        # Dates far outside the calendar ("in 99999 years") overflow; that is odd input, not a bug.
        logger.debug("cannot normalise %s %r: %s", entity_type, text, exc)
        return None


def _email_value(text: str, reference: date) -> str | None:
    """The address lower-cased, without a "mailto:" or surrounding brackets; ``None`` if not one."""
    candidate = text.strip().strip(_STRING_EDGES + _TRAILING_PUNCTUATION + ".").lower()
    candidate = candidate.removeprefix("mailto:")
    return candidate if _EMAIL.fullmatch(candidate) else None


def _id_value(text: str, reference: date) -> str | None:
    """An identifier upper-cased and without surrounding punctuation ("#4411," -> "4411")."""
    value = " ".join(_ID_EDGES.sub("", text).upper().split())
    return value or None


def _tracking_value(text: str, reference: date) -> str | None:
    """A tracking number without its inner spaces ("1Z 999 AA1" -> "1Z999AA1")."""
    value = _id_value(text, reference)
    return value.replace(" ", "") if value else None


def _priority_value(text: str, reference: date) -> str | None:
    lowered = text.lower()
    for pattern, label in _PRIORITY_RULES:
        match = pattern.search(lowered)
        if not match:
            continue
        if label == "code":
            return f"P{min(int(match.group(1)), 2)}"
        if label == "severity":
            return ("P0", "P0", "P1")[int(match.group(1))] if int(match.group(1)) < 3 else "P2"
        return label
    return None


def _leave_type_value(text: str, reference: date) -> str | None:
    lowered = text.lower()
    for pattern, canonical in _LEAVE_TYPES:
        if pattern.search(lowered):
            return canonical
    return _string_value(lowered, reference)


def _string_value(text: str, reference: date) -> str | None:
    """The text without surrounding space, quotes, brackets or trailing ",;:!?"; inner space collapsed.

    A trailing dot is kept: it belongs to "Acme Inc." more often than to the sentence.
    """
    value = " ".join(text.split()).rstrip(_TRAILING_PUNCTUATION).strip(_STRING_EDGES).strip()
    return value or None


_NORMALISERS: dict[str, Callable[[str, date], Any]] = {
    "amount": lambda text, reference: parse_amount(text),
    "currency": lambda text, reference: currency_code(text),
    "date": parse_date,
    "date_range": parse_date_range,
    "period": parse_period,
    "quantity": lambda text, reference: parse_quantity(text),
    "duration": lambda text, reference: parse_duration_minutes(text),
    "email": _email_value,
    "tracking_number": _tracking_value,
    "priority": _priority_value,
    "leave_type": _leave_type_value,
}
