"""The JSON-lines shape of every EAS process's log, the intake side's and the NLP service's alike.

One object per line with ``timestamp`` (ISO 8601, UTC), ``level``, ``service``, ``logger``, ``event``
(the message), ``request_id``, ``trace_id`` and ``span_id`` (null when unknown), plus the ``extra=``
fields of the call: what a shipper (Loki, Elasticsearch, any collector) indexes without parsing, and
the same keys whichever service wrote the line, so that one query follows a request across both.
``trace_id``/``span_id`` are the active OpenTelemetry span's (:func:`eas_asgi.tracing.current_ids`).

Each service adds its own processors (the intake side masks PII) and calls :func:`install_handler`
from its entry point only: importing or testing the code leaves the host process's logging alone.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

import structlog
from structlog.typing import Processor

from eas_asgi.tracing import current_ids

REQUEST_ID = "request_id"


class _Service:
    """Adds ``service`` (the process's name) to every line."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", self.service)
        return event


def add_trace_ids(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``trace_id`` and ``span_id`` of the span active where the line was logged (null outside one).

    Runs in the logging thread, synchronously, so "active" is the caller's span.
    """
    trace_id, span_id = current_ids()
    event.setdefault("trace_id", trace_id)
    event.setdefault("span_id", span_id)
    event.setdefault(REQUEST_ID, None)
    return event


def _drop_color_message(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """uvicorn adds an ANSI-coloured copy of each message for terminals; JSON readers want one."""
    event.pop("color_message", None)
    return event


def json_formatter(
    service: str, *, pre_chain: Sequence[Processor] = (), before_render: Sequence[Processor] = ()
) -> structlog.stdlib.ProcessorFormatter:
    """A stdlib record in, one JSON object out (the keys of the module docstring).

    ``pre_chain`` runs on the record's event dict before the timestamp is added, ``before_render``
    on the finished dict just before it is written (where the intake side masks PII).
    """
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            _Service(service),
            add_trace_ids,
            _drop_color_message,
            *pre_chain,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            *before_render,
            structlog.processors.JSONRenderer(),
        ],
    )


def install_handler(handler: logging.Handler, level: str | int, *, uvicorn_access_log: bool) -> None:
    """Make ``handler`` the one handler of every stdlib logger of the process, uvicorn's included.

    Replaces the root logger's handlers: call it from a process's entry point only. uvicorn's error
    log always reaches it; its access log only with ``uvicorn_access_log`` (a service with an access
    log of its own drops uvicorn's, which lacks the request id).
    """
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = uvicorn_access_log
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
