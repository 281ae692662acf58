"""Running the gateway under uvicorn: what ``eas gateway`` (the CLI) calls."""

from __future__ import annotations

import uvicorn

from eas_pipelines.gateway.app import create_app
from eas_pipelines.observability.logs import configure_logging
from eas_pipelines.observability.tracing import setup_tracing
from eas_pipelines.settings import EASSettings

SERVICE = "eas-gateway"


def serve(settings: EASSettings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the intake API until interrupted, logging JSON lines to stderr.

    One process with uvicorn's event loop and FastAPI's thread pool for the blocking handlers;
    scale out with more processes (or pods) rather than workers inside one: every piece of shared
    state (store, rate limits, queues) lives in PostgreSQL or Redis.
    """
    configure_logging(settings.log_level, service=SERVICE)
    setup_tracing(SERVICE)  # before the app: it traces with the provider installed now (OTEL_* variables)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,  # the gateway writes its own access line, with the request id
        proxy_headers=True,
    )
