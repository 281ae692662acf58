"""PII masking for logs: a :class:`logging.Filter` and a structlog processor.

Why both: EAS logs through the standard library (Dagster, uvicorn, our modules) and through
structlog; a value that reached a log line has left EAS's control (shipped, indexed, kept for
months), so it is masked before any handler formats it.

Install the filter on the *handlers* (``handler.addFilter(PiiLogFilter())``): a filter on a logger
sees only records logged on that very logger, not those propagated from its children. The filter
renders the message with its args, masks it and stores the result as the message with no args, so
a formatter can no longer reinsert the raw values; the exception text and stack are masked too
(the exception is kept only as masked text: ``exc_info`` is cleared).
Records a thread logs *while* it masks anything (Presidio's own lines, logged while it is imported
or analyzes, which may quote the text) are dropped by both, which also keeps a filter on the root
handler from recursing. Install the filter wherever the processor is: it runs before the handler's
lock is taken, so a thread building the engines never waits for a handler another thread holds
while that thread waits for the engines.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from eas_pipelines.pii.masking import mask, mask_value, masking_in_progress


class PiiLogFilter(logging.Filter):
    """Masks PII in each record's message, args, exception and stack text; ``allowed`` types pass."""

    def __init__(self, name: str = "", *, allowed: frozenset[str] = frozenset()) -> None:
        super().__init__(name)
        self.allowed = allowed

    def filter(self, record: logging.LogRecord) -> bool:
        if not super().filter(record):
            return False
        if masking_in_progress():
            return False
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
        return True


class PiiStructlogProcessor:
    """A structlog processor masking every string value (and key) of the event dict.

    ``structlog.configure(processors=[..., PiiStructlogProcessor(), JSONRenderer()])``: place it
    before the renderer (and after ``format_exc_info`` so exception text is masked too).
    """

    def __init__(self, *, allowed: frozenset[str] = frozenset()) -> None:
        self.allowed = allowed

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
        if masking_in_progress():
            import structlog

            raise structlog.DropEvent
        return mask_value(dict(event_dict), allowed=self.allowed)


mask_structlog_event = PiiStructlogProcessor()
"""The processor with nothing allowed, ready to put in a structlog processor chain."""
