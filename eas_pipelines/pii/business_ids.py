"""Business numbers that look like PII: SAP's supplier and material numbers are not phone numbers.

SAP numbers its suppliers (business partners) and materials with up to ten digits, ``1000012345``,
with no separators. A bare run of ten digits is also what a phone number can be written as (India's
mobiles, North American numbers: :func:`~eas_pipelines.pii.gate.plausible_phone` keeps such runs) and
one in eleven such runs passes the NHS number's check digit, so the analyzer masked suppliers in SAP
payloads, audit entries and reports (``vendor <PHONE_NUMBER>``), which made them useless to finance.

A finding of :data:`NUMBER_TYPES` is dropped when its text is a business number rather than PII:

- in a field of an SAP payload that holds such a number (:data:`SAP_NUMBER_FIELDS`: ``Supplier``,
  ``InvoicingParty``, ``Material``...): :func:`is_number_field`, used by ``mask_value``;
- in text, a whole token of exactly ten digits that starts with ``1000`` (SAP's default number range
  for suppliers and materials), or that follows a word naming what it is ("supplier", "vendor",
  "material", "invoicing party", optionally "number"/"no."/"id", a colon, an ``=`` or OData's
  ``eq``; JSON's ``"Supplier": "..."`` included): :func:`is_business_number`.

A real phone number written as people write them (``+1 415 555 0100``, ``(415) 555-0100``) is never
a bare ten-digit token and stays masked; so is a bare one with nothing around it saying otherwise.
Card numbers, e-mails and IBANs are not affected.
"""

from __future__ import annotations

import re

NUMBER_TYPES = frozenset({"PHONE_NUMBER", "UK_NHS"})
"""The types a business number is mistaken for (a bare ten-digit run; the NHS number's check digit)."""

SAP_NUMBER_FIELDS = frozenset(
    {
        "supplier",
        "invoicingparty",
        "material",
        "product",
        "vendor",
        "vendorid",
        "supplierid",
        "creditor",
        "businesspartner",
        "supplierinvoice",
        "purchaseorder",
    }
)
"""Field names (lower-cased, ``_`` and ``-`` removed) of SAP payloads whose values are SAP's numbers."""

_NUMBER_VALUE = re.compile(r"\d{1,10}")
_TEN_DIGITS = re.compile(r"\d{10}")
_CONTEXT = re.compile(
    r"\b(?:supplier|vendor|material|invoicing[ _]?party|creditor|business[ _]?partner)"
    r"(?:[ _-]?(?:number|no\.?|nr\.?|id|#))?[\"']?\s*(?:[:=#]|\beq\b)?\s*[\"']?$",
    re.IGNORECASE,
)
_LOOKBEHIND = 40
"""How many characters before a number are read for the word naming it."""


def field_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def is_number_field(name: object, value: object) -> bool:
    """Whether ``value`` is an SAP number in its field ``name`` (digits only, at most ten of them)."""
    if not isinstance(name, str) or field_key(name) not in SAP_NUMBER_FIELDS:
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return isinstance(value, str) and _NUMBER_VALUE.fullmatch(value.strip()) is not None


def is_business_number(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is an SAP supplier or material number, not a phone or NHS number."""
    token = text[start:end]
    if _TEN_DIGITS.fullmatch(token) is None:
        return False
    if (start > 0 and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit()):
        return False  # part of a longer run of digits
    if token.startswith("1000"):
        return True
    return _CONTEXT.search(text[max(0, start - _LOOKBEHIND) : start]) is not None
