"""The intake gateway (ARCHITECTURE.md, "A request's life", steps 1-3): authenticate, rate-limit,
store, classify, route and queue natural-language requests, versioned under ``/v1``.

Build the app with :func:`create_app`; run it with :func:`serve`.
"""

from eas_pipelines.gateway.app import create_app
from eas_pipelines.gateway.server import serve
from eas_pipelines.gateway.tokens import issue_token, verify_token

__all__ = ["create_app", "issue_token", "serve", "verify_token"]
