"""The entity a parse returns: what was said, where, and what it means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entity:
    """An entity span of the input text.

    ``text == source[start:end]`` always holds, so a client can highlight it; ``value``
    is the normalised meaning where one applies (an ISO date, an amount with its
    currency, a lower-cased e-mail, an upper-cased id) and ``None`` otherwise.
    """

    type: str
    text: str
    start: int
    end: int
    value: Any = None
