"""JSON-lines logging of the NLP service, in the shape of every EAS process's lines.

Keys: ``timestamp`` (ISO 8601, UTC), ``level``, ``service``, ``logger``, ``event``, ``request_id``
(the caller's ``X-Request-ID`` is not tracked here: null), ``trace_id`` and ``span_id`` of the active
span (the gateway's trace, continued), plus a call's ``extra=`` fields. The chain is
:mod:`eas_asgi.logs`'s, shared with the intake side (whose ``eas_pipelines.observability.logs`` adds
PII masking to it, and which this service may not import).

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
from typing import Any

from eas_asgi.logs import install_handler, json_formatter


def configure_logging(level: str | int = "INFO", stream: Any = None, *, service: str = "eas-nlp") -> None:
    """JSON lines on ``stream`` (stderr) for every stdlib logger of the process, uvicorn's included.

    Replaces the root logger's handlers: for ``eas-nlp serve`` only, not for code that imports the
    service (tests, the gateway's test servers).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter(service))
    install_handler(handler, level, uvicorn_access_log=True)
