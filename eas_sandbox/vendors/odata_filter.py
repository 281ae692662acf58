"""OData V2 ``$filter`` as the SAP Gateway evaluates it: comparisons of a property with a literal.

Grammar understood (OData V2 URI conventions, section 4.5): terms ``Property op literal`` with ``op`` one
of ``eq``, ``ne``, ``gt``, ``ge``, ``lt``, ``le``, joined by ``and``/``or`` (``and`` binds tighter) and
grouped by parentheses. Literals: ``'text'`` (``''`` escapes a quote), numbers (``12``, ``-1.5``,
``2.5M``, ``1e3``, ``7L``...), ``true``/``false``, ``datetime'2025-07-01T00:00[:00[.fff]]'`` and
``datetimeoffset'2025-07-01T00:00:00Z'`` (or ``+02:00``).

Each comparison is made in the property's Edm type, as the Gateway converts the literal to it:

- ``Edm.String``: text, by code point (``gt``/``lt`` order lexicographically); a missing value reads as
  ''. A number or boolean literal is compared as its text, as this emulator always did (lenient).
- ``Edm.Decimal``: numbers (``2000 eq 2000.00``); a quoted number (``'5.00'``) is read as one (lenient,
  as this emulator always answered it; unconfirmed for SAP), other text and dates are refused.
- ``Edm.DateTime``: instants (the stored ``/Date(ms)/`` against the literal, UTC; a ``datetimeoffset``
  is converted to UTC, unconfirmed whether SAP promotes it so); other literals are refused.
- ``Edm.Boolean``: ``eq``/``ne`` with ``true``/``false`` only.

A property without a value (null) satisfies ``ne`` and nothing else, as OData's null comparison does.
What is not understood (an unknown property or operator, a literal of the wrong type, a malformed
literal, ``null``, functions such as ``substringof``) is a ValueError whose text the caller answers
in SAP's 400 error body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

STRING, DECIMAL, DATETIME, BOOLEAN = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.Boolean"
OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")

MAX_ALTERNATIVES = 100
"""Conjunctions a ``$filter`` may expand to (``(a or b) and (c or d)`` is four); more is refused."""
MAX_NESTING = 16
"""Parentheses a ``$filter`` may nest, so that a crafted URL is refused, not a recursion error."""

_DATETIME_TEXT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?"
_LITERAL = (
    r"(?:'(?P<string>(?:[^']|'')*)'"
    rf"|datetime'(?P<datetime>{_DATETIME_TEXT})'"
    rf"|datetimeoffset'(?P<offset>{_DATETIME_TEXT}(?:Z|[+-]\d{{2}}:\d{{2}}))'"
    r"|(?P<boolean>true|false)(?![\w'])"
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w.'])"
    r")"
)
_TERM = re.compile(rf"\s*(?P<property>\w+)\s+(?P<operator>{'|'.join(OPERATORS)})\s+{_LITERAL}\s*")
_CONNECTIVE = re.compile(r"(and|or)(?=[\s(])\s*", re.IGNORECASE)
_PAREN = re.compile(r"\s*([()])\s*")
_ODATA_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d+)?\)/")

Value = str | Decimal | datetime | bool


@dataclass(frozen=True)
class Term:
    """``property operator value``, the value already in the property's Edm type."""

    property: str
    operator: str
    value: Value
    edm: str


Conjunction = tuple[Term, ...]
Filter = list[Conjunction]
"""A ``$filter`` in disjunctive normal form: a row matches when it satisfies every term of one conjunction."""


def parse_odata_datetime(text: str) -> datetime:
    """A ``datetime'...'``/``datetimeoffset'...'`` literal's text as an aware UTC instant.

    Python keeps six fractional digits; OData allows seven, the seventh (100 ns) is dropped.
    """
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def stored_datetime(value: Any) -> datetime | None:
    """A stored ``Edm.DateTime`` (``/Date(<ms>)/``, the JSON form) as a UTC instant; None if absent."""
    match = _ODATA_DATE.fullmatch(str(value)) if value is not None else None
    if match is None:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _typed_literal(match: re.Match[str], edm: str) -> Value:
    """The literal converted to the property's type, or a ValueError naming the mismatch."""
    prop = match.group("property")
    kind = next(
        k for k in ("string", "datetime", "offset", "boolean", "number") if match.group(k) is not None
    )
    raw = match.group(kind)
    if edm == STRING and kind in ("string", "number", "boolean"):
        return raw.replace("''", "'") if kind == "string" else raw
    if edm == DECIMAL and kind in ("number", "string"):
        try:
            number = Decimal(raw.rstrip("mMdDfFlL") if kind == "number" else raw.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise ValueError(f"'{raw}' is not a valid Edm.Decimal for property '{prop}'")
        return number
    if edm == DATETIME and kind in ("datetime", "offset"):
        try:
            return parse_odata_datetime(raw)
        except ValueError as exc:
            raise ValueError(f"'{raw}' is not a valid date and time") from exc
    if edm == BOOLEAN and kind == "boolean":
        return raw == "true"
    literal = {"offset": "datetimeoffset", "number": "numeric"}.get(kind, kind)
    raise ValueError(f"a {literal} literal cannot be compared with property '{prop}' of type {edm}")


class _Parser:
    """Recursive descent over ``$filter``, in OData's precedence: ``or`` of ``and`` of terms or ``( ... )``.

    The result is in disjunctive normal form (``and`` distributes over a parenthesised ``or``), the shape
    the store is queried in: one containment document per conjunction. Whatever is not understood is a
    ValueError carrying the rest of the text, as the error answer shows it.
    """

    def __init__(self, properties: Mapping[str, str], text: str):
        self.properties, self.text, self.pos, self.depth = properties, text, 0, 0

    def parse(self) -> Filter:
        if not self.text:
            return [()]
        found = self._disjunction()
        if self.pos < len(self.text):
            raise self._invalid()
        return found

    def _invalid(self) -> ValueError:
        return ValueError(self.text[self.pos :])

    def _disjunction(self) -> Filter:
        found = self._conjunction()
        while self._connective("or"):
            found = self._bounded(found + self._conjunction())
        return found

    def _conjunction(self) -> Filter:
        found = self._factor()
        while self._connective("and"):
            right = self._factor()
            found = self._bounded([left + more for left in found for more in right])
        return found

    def _factor(self) -> Filter:
        if not self._paren("("):
            return [(self._term(),)]
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ValueError(f"more than {MAX_NESTING} nested parentheses")
        inner = self._disjunction()
        if not self._paren(")"):
            raise self._invalid()
        self.depth -= 1
        return inner

    def _term(self) -> Term:
        match = _TERM.match(self.text, self.pos)
        if match is None or match.group("property") not in self.properties:
            raise self._invalid()
        edm = self.properties[match.group("property")]
        operator = match.group("operator")
        if edm == BOOLEAN and operator not in ("eq", "ne"):
            raise ValueError(f"operator '{operator}' is not defined for property '{match.group('property')}'")
        value = _typed_literal(match, edm)
        self.pos = match.end()
        return Term(match.group("property"), operator, value, edm)

    def _connective(self, word: str) -> bool:
        match = _CONNECTIVE.match(self.text, self.pos)
        if match is None or match.group(1).lower() != word:
            return False
        self.pos = match.end()
        return True

    def _paren(self, which: str) -> bool:
        match = _PAREN.match(self.text, self.pos)
        if match is None or match.group(1) != which:
            return False
        self.pos = match.end()
        return True

    @staticmethod
    def _bounded(found: Filter) -> Filter:
        if len(found) > MAX_ALTERNATIVES:
            raise ValueError(f"the filter expands to more than {MAX_ALTERNATIVES} alternatives")
        return found


def parse_filter(properties: Mapping[str, str], text: str) -> Filter:
    """``$filter`` over an entity type's ``properties`` (name -> Edm type); anything else is a ValueError."""
    return _Parser(properties, text).parse()


def _row_value(row: Mapping[str, Any], term: Term) -> Value | None:
    """The row's value of the term's property in its Edm type; None for a null (absent, unreadable)."""
    raw = row.get(term.property)
    if term.edm == STRING:
        return _text(raw)
    if raw is None or raw == "":
        return None
    if term.edm == DECIMAL:
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if term.edm == DATETIME:
        return stored_datetime(raw)
    if term.edm == BOOLEAN:
        return raw if isinstance(raw, bool) else {"true": True, "false": False}.get(str(raw).lower())
    return _text(raw)


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "eq":
        return bool(left == right)
    if operator == "ne":
        return bool(left != right)
    if operator == "gt":
        return bool(left > right)
    if operator == "ge":
        return bool(left >= right)
    if operator == "lt":
        return bool(left < right)
    return bool(left <= right)


def satisfies(row: Mapping[str, Any], term: Term) -> bool:
    value = _row_value(row, term)
    if value is None:
        return term.operator == "ne"
    return _compare(value, term.operator, term.value)


def matches(row: Mapping[str, Any], conditions: Filter) -> bool:
    """Whether ``row`` satisfies every term of some conjunction of ``conditions``."""
    return any(all(satisfies(row, term) for term in conjunction) for conjunction in conditions)


def string_equalities(conjunction: Conjunction) -> dict[str, str]:
    """The conjunction's non-empty ``Edm.String eq`` terms: what a stored row must hold exactly.

    Only these can narrow a JSON containment query: strings are stored as JSON strings, so equality of the
    text is JSON equality; '' (which a missing property also matches), numbers, dates and the other
    operators are left to :func:`matches`.
    """
    return {
        t.property: t.value
        for t in conjunction
        if t.operator == "eq" and t.edm == STRING and isinstance(t.value, str) and t.value
    }
