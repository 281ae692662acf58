"""JSON-lines logging of every EAS process: one object per line, PII masked, joined by trace id.

Each line has ``timestamp`` (ISO 8601, UTC), ``level``, ``service``, ``logger``, ``event`` (the
message), ``request_id``, ``trace_id`` and ``span_id`` (null when unknown), plus the ``extra=``
fields of the call: the shape the NLP service's lines share (:mod:`eas_asgi.logs`). ``request_id``
is the HTTP request's id in the gateway (bound by its request middleware) and the EAS request's id
in a worker while it runs that request (bound by the worker); ``trace_id``/``span_id`` are the active
OpenTelemetry span's (:mod:`.tracing`), so a line leads to its trace and back.

Every line is masked for PII before it is written (a request's text carries what people typed):
:class:`~eas_pipelines.pii.PiiLogFilter` on the handler masks the message and exception text,
:class:`~eas_pipelines.pii.PiiStructlogProcessor` at the end of the chain masks the ``extra=`` fields
and anything else that reached the event dict.

Only a process's entry point calls :func:`configure_logging` (``eas gateway``, ``eas worker``,
``eas exporter``): importing or testing the code leaves the host process's logging (pytest,
Dagster) alone.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

from eas_asgi import logs as shared
from eas_pipelines.pii import PiiLogFilter, PiiStructlogProcessor


def _masked_exception(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The exception text :class:`PiiLogFilter` masked (it clears ``exc_info``, which structlog reads)."""
    record = event.get("_record")
    if record is not None and record.exc_text and "exc_info" not in event:
        event["exception"] = record.exc_text
    return event


def json_formatter(service: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of :func:`configure_logging`: a stdlib record in, one masked JSON object out."""
    return shared.json_formatter(
        service, pre_chain=[_masked_exception], before_render=[PiiStructlogProcessor()]
    )


def json_handler(service: str, stream: Any = None) -> logging.Handler:
    """A handler writing masked JSON lines for ``service`` on ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(PiiLogFilter())
    handler.setFormatter(json_formatter(service))
    return handler


def configure_logging(level: str = "INFO", stream: Any = None, *, service: str = "eas") -> None:
    """JSON lines on ``stream`` (stderr) for every stdlib logger of the process, uvicorn's included.

    Replaces the root logger's handlers: call it from a process's entry point only. ``extra=``
    fields of a log call become keys of the JSON object; ids bound with :func:`bound_request` (or
    structlog's contextvars) are added to every line logged meanwhile.
    """
    # uvicorn's own access log duplicates the gateway's (without the request id); its error log stays.
    shared.install_handler(json_handler(service, stream), level, uvicorn_access_log=False)


@contextmanager
def bound_request(request_id: str | None, **ids: Any) -> Iterator[None]:
    """Every line logged inside (this thread or task) carries ``request_id`` and ``ids``."""
    with structlog.contextvars.bound_contextvars(**{shared.REQUEST_ID: request_id}, **ids):
        yield
