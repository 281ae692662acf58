"""Multi-level approval: which approvers, in order, a request needs before its workflow goes on.

Most requests need one approval (the approver their workflow step names). An invoice above the
second threshold (``EAS_APPROVAL_SECOND_THRESHOLD``) needs a second one, by another role
(``EAS_APPROVAL_SECOND_ROLE``, "cfo"), after the first: the approval gate asks them in turn, and
the store refuses to let the person who approved the first level decide the second.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECOND_LEVEL_INTENTS = frozenset({"finance.invoice_process"})
"""Intents whose amount can call for a second approval."""


@dataclass(frozen=True)
class SecondLevelPolicy:
    """Above ``threshold``, ``role`` must approve after the first approver."""

    threshold: float
    role: str


def request_amount(entities: Any) -> float | None:
    """The request's amount, from its first ``amount`` entity (normalised ``{"amount": x, ...}`` or
    a bare number); None if it has none."""
    for entity in entities or ():
        if not isinstance(entity, Mapping) or entity.get("type") != "amount":
            continue
        value = entity.get("value")
        if isinstance(value, Mapping):
            value = value.get("amount")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def approval_levels(
    intent: str, entities: Any, first_approver: str, policy: SecondLevelPolicy | None
) -> tuple[str, ...]:
    """The approvers the request needs, in order: the first, then the second role if it applies."""
    if policy is None or intent not in SECOND_LEVEL_INTENTS:
        return (first_approver,)
    amount = request_amount(entities)
    if amount is None or amount <= policy.threshold or policy.role == first_approver:
        return (first_approver,)
    return (first_approver, policy.role)
