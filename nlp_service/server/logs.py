"""JSON-lines logging of the NLP service, in the shape of every EAS process's lines.

Keys: ``timestamp`` (ISO 8601, UTC), ``level``, ``service``, ``logger``, ``event``, ``request_id``
(the caller's ``X-Request-ID`` is not tracked here: null), ``trace_id`` and ``span_id`` of the active
span (the gateway's trace, continued), plus a call's ``extra=`` fields. Its own small setup because
the service may not import ``eas_pipelines`` (whose ``observability.logs`` other processes use).

No PII masking: at the level the service runs at (INFO), it never logs a request's text. Its log
calls name batch sizes, model directories, versions and exceptions of the model runtime; the
uvicorn access log is off (``eas-nlp serve`` runs with ``access_log=False``), and a parse's text
travels in the POST body, never in a logged path or query. The one exception is a DEBUG line of
``nlp_service.text.normalize`` quoting an entity it could not normalise: do not run a production
service at DEBUG.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace


def _fields(service: str) -> Any:
    def add(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        span_context = trace.get_current_span().get_span_context()
        valid = span_context.is_valid
        event.setdefault("service", service)
        event.setdefault("request_id", None)
        event.setdefault("trace_id", format(span_context.trace_id, "032x") if valid else None)
        event.setdefault("span_id", format(span_context.span_id, "016x") if valid else None)
        event.pop("color_message", None)  # uvicorn's ANSI copy of the message
        return event

    return add


def configure_logging(level: str | int = "INFO", stream: Any = None, *, service: str = "eas-nlp") -> None:
    """JSON lines on ``stream`` (stderr) for every stdlib logger of the process, uvicorn's included.

    Replaces the root logger's handlers: for ``eas-nlp serve`` only, not for code that imports the
    service (tests, the gateway's test servers).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                _fields(service),
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
