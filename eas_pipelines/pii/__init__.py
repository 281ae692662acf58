"""PII detection and masking with Presidio's pattern recognizers (no NLP model, nothing downloaded).

The lowest layer of ``eas_pipelines``: it imports nothing else from the package, so every layer
(the store's audit entries, connectors' payloads, the gateway's logs) can mask with it.
"""

from eas_pipelines.pii.engine import ENTITIES, SCORE_THRESHOLD
from eas_pipelines.pii.log_filter import PiiLogFilter, PiiStructlogProcessor, mask_structlog_event
from eas_pipelines.pii.masking import (
    NEVER_CLEARED,
    Clearance,
    Finding,
    Span,
    detect,
    for_system,
    mask,
    mask_value,
)

__all__ = [
    "ENTITIES",
    "NEVER_CLEARED",
    "SCORE_THRESHOLD",
    "Clearance",
    "Finding",
    "PiiLogFilter",
    "PiiStructlogProcessor",
    "Span",
    "detect",
    "for_system",
    "mask",
    "mask_structlog_event",
    "mask_value",
]
