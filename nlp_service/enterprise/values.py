"""Entity values for one split: lexicon values with a held-out share, or formatted values.

Every fourth value of each lexicon list is held out of training; dev and test draw half
of their list values from that held-out share, so their scores show whether the model
learnt where an entity sits rather than which names it has seen. Formatted values (ids,
amounts, dates) are random draws and rarely repeat anyway.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from nlp_service.enterprise import formats, lexicon

HELD_OUT_EVERY = 4
_HELD_OUT_SHARE = 0.5

JOB_ROLES: tuple[str, ...] = lexicon.ROLES[: lexicon.ROLES.index("admin")] + lexicon.MORE_JOB_ROLES
ACCESS_ROLES: tuple[str, ...] = lexicon.ROLES[lexicon.ROLES.index("admin") :] + lexicon.MORE_ACCESS_ROLES
ROLES: tuple[str, ...] = lexicon.ROLES + lexicon.MORE_JOB_ROLES + lexicon.MORE_ACCESS_ROLES
PAY_DOCUMENTS: tuple[str, ...] = (
    "W-2", "pay stub", "1099", "tax form", "payslip", "P60", "W2", "paystub", "W-4", "earnings statement",
    "pay slip", "year-end tax statement",
)  # fmt: skip
HR_DOCUMENTS: tuple[str, ...] = (
    "offer letter", "employment contract", "termination letter", "reference letter", "contract",
    "employment verification letter", "promotion letter", "timesheet", "NDA", "relocation agreement",
)  # fmt: skip
VENDOR_DOCUMENTS: tuple[str, ...] = (
    "certificate of insurance", "W-9", "NDA", "MSA", "contract", "statement of work", "SOW",
    "purchase agreement", "data processing agreement", "service agreement", "lease agreement", "SOC 2 report",
)  # fmt: skip

_LISTS: dict[str, tuple[str, ...]] = {
    "vendor": lexicon.VENDORS,
    "department": lexicon.DEPARTMENTS,
    "role": ROLES,
    "role:job": JOB_ROLES,
    "role:access": ACCESS_ROLES,
    "system": lexicon.SYSTEMS,
    "location": lexicon.LOCATIONS,
    "room": lexicon.ROOMS,
    "priority": lexicon.PRIORITIES,
    "channel": lexicon.CHANNELS,
    "document_type": lexicon.DOCUMENT_TYPES,
    "document_type:pay": PAY_DOCUMENTS,
    "document_type:vendor": VENDOR_DOCUMENTS,
    "document_type:hr": HR_DOCUMENTS,
    "metric": lexicon.METRICS,
    "report_name": lexicon.REPORT_NAMES,
    "leave_type": lexicon.LEAVE_TYPES,
    "currency": lexicon.CURRENCIES,
}

_FORMATTED: dict[str, Callable[[random.Random], str]] = {
    "amount": formats.amount,
    "invoice_id": formats.invoice_id,
    "po_number": formats.po_number,
    "ticket_id": formats.ticket_id,
    "request_id": formats.request_id,
    "tracking_number": formats.tracking_number,
    "sku": formats.sku,
    "quantity": formats.quantity,
    "duration": formats.duration,
    "period": formats.period,
    "date": formats.date,
    "date:on": lambda rng: formats.date(rng, "on"),
    "date:past": lambda rng: formats.date(rng, "past"),
    "date:short": lambda rng: formats.date(rng, "short"),
    "date_range": formats.date_range,
    "date_range:from": lambda rng: formats.date_range(rng, "from"),
    "date_range:past": lambda rng: formats.date_range(rng, "past"),
}

_PEOPLE = ("employee", "recipient", "email")

SLOT_KEYS: frozenset[str] = frozenset((*_LISTS, *_FORMATTED, *_PEOPLE))
"""Every ``type`` or ``type:variant`` a template may name."""


def listed_values(key: str) -> tuple[str, ...]:
    """The closed value list of slot ``key``, or ``()`` for formatted values and people."""
    return _LISTS.get(key, ())


def split_values(values: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(training values, held-out values): every ``HELD_OUT_EVERY``-th value is held out."""
    seen = tuple(v for i, v in enumerate(values) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1)
    held = tuple(v for i, v in enumerate(values) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1)
    return seen, held


@dataclass(frozen=True)
class ValueSource:
    """Draws entity values for one split; ``evaluation`` splits may use held-out values."""

    evaluation: bool

    def _pick(self, values: tuple[str, ...], rng: random.Random) -> str:
        seen, held = split_values(values)
        if self.evaluation and held and rng.random() < _HELD_OUT_SHARE:
            return rng.choice(held)
        return rng.choice(seen)

    def person(self, rng: random.Random) -> str:
        first = self._pick(lexicon.FIRST_NAMES, rng)
        return first if rng.random() < 0.55 else f"{first} {self._pick(lexicon.LAST_NAMES, rng)}"

    def email(self, rng: random.Random) -> str:
        domain = rng.choice(lexicon.EMAIL_DOMAINS)
        if rng.random() < 0.2:
            return f"{rng.choice(lexicon.TEAM_MAILBOXES)}@{domain}"
        first = self._pick(lexicon.FIRST_NAMES, rng).lower()
        last = self._pick(lexicon.LAST_NAMES, rng).lower()
        local = rng.choice(
            (first, f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last[0]}", f"{first}_{last}")
        )
        return f"{local}@{domain}"

    def sample(self, key: str, rng: random.Random) -> str:
        """A value for slot ``key`` (``type`` or ``type:variant``)."""
        if key in ("employee", "recipient"):
            return self.person(rng)
        if key == "email":
            return self.email(rng)
        if key in _LISTS:
            return self._pick(_LISTS[key], rng)
        if key in _FORMATTED:
            return _FORMATTED[key](rng)
        raise KeyError(f"no values for slot {key!r}")
