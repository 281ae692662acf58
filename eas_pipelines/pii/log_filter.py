"""PII masking for logs: a :class:`logging.Filter` and a structlog processor.

Why both: EAS logs through the standard library (Dagster, uvicorn, our modules) and through
structlog; a value that reached a log line has left EAS's control (shipped, indexed, kept for
months), so it is masked before any handler formats it.

Install the filter on the *handlers* (``handler.addFilter(PiiLogFilter())``): a filter on a logger
sees only records logged on that very logger, not those propagated from its children. The filter
renders the message with its args, masks it and stores the result as the message with no args, so
a formatter can no longer reinsert the raw values; the exception text and stack are masked too
(the exception is kept only as masked text: ``exc_info`` is cleared).
Records logged *while* masking (Presidio's own debug lines, which may quote the text) are dropped,
which also keeps a filter on the root handler from recursing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

from eas_pipelines.pii.masking import mask, mask_value

_masking = threading.local()


class PiiLogFilter(logging.Filter):
    """Masks PII in each record's message, args, exception and stack text; ``allowed`` types pass."""

    def __init__(self, name: str = "", *, allowed: frozenset[str] = frozenset()) -> None:
        super().__init__(name)
        self.allowed = allowed

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return False
        if getattr(_masking, "active", False):
            return False
        _masking.active = True
        try:
            try:
                message = record.getMessage()
            except Exception:  # args that do not fit the format: keep both, masked, rather than raise
                message = f"{record.msg} {record.args!r}"
            record.msg = mask(message, allowed=self.allowed)
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = mask(record.exc_text, allowed=self.allowed)
            record.exc_info = None  # a formatter that re-renders the exception would print it raw
            if record.stack_info:
                record.stack_info = mask(record.stack_info, allowed=self.allowed)
        finally:
            _masking.active = False
        return True


class PiiStructlogProcessor:
    """A structlog processor masking every string value (and key) of the event dict.

    ``structlog.configure(processors=[..., PiiStructlogProcessor(), JSONRenderer()])``: place it
    before the renderer (and after ``format_exc_info`` so exception text is masked too).
    """

    def __init__(self, *, allowed: frozenset[str] = frozenset()) -> None:
        self.allowed = allowed

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        return mask_value(dict(event_dict), allowed=self.allowed)


mask_structlog_event = PiiStructlogProcessor()
"""The processor with nothing allowed, ready to put in a structlog processor chain."""
