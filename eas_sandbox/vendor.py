"""What an emulated vendor declares: its routes, how it says "slow down" or "failed", and the
settings that point EAS's connector at it.

Each module in :mod:`eas_sandbox.vendors` exports ``VENDOR``; the app finds them all, so adding an
emulator touches its own module only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records


@dataclass(frozen=True)
class Endpoints:
    """Where the running emulators listen, handed to each vendor's ``env``."""

    base_url: str  # https://127.0.0.1:PORT (TLS, no client certificate)
    mtls_url: str  # https://127.0.0.1:PORT (TLS, client certificate required)
    smtp_host: str
    smtp_port: int
    ca_path: Path  # the generated CA, trusted by EAS's clients only
    client_cert_path: Path  # a client certificate (and key) the CA signed, for mutual TLS
    client_key_path: Path

    def vendor_url(self, vendor: str, *, mtls: bool = False) -> str:
        return f"{self.mtls_url if mtls else self.base_url}/{vendor}"


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def default_throttled(retry_after_s: float | None) -> Response:
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return _json(429, {"error": {"message": "Too many requests"}}, headers)


def default_failed(status: int) -> Response:
    return _json(status, {"error": {"message": "Service unavailable (injected)"}})


def default_unauthorized() -> Response:
    return _json(401, {"error": {"message": "Invalid credentials"}})


@dataclass(frozen=True)
class Vendor:
    """One emulated system; ``name`` is its path prefix (``/servicenow/...``)."""

    name: str
    router: APIRouter | None
    env: Callable[[Endpoints], dict[str, str]]
    """EAS_* settings that point the connector at this emulator (URL, emulator credentials)."""
    throttled: Callable[[float | None], Response] = default_throttled
    failed: Callable[[int], Response] = default_failed
    unauthorized: Callable[[], Response] = default_unauthorized
    seed: Callable[[Records], None] | None = field(default=None)
    """Stores the demo data the quick start's examples need (vendors, employees...)."""
    mount: Any = None
    """An ASGI app served under the prefix instead of ``router`` (moto's S3)."""


class NotAuthenticated(Exception):
    """Raised by a vendor's auth dependency; answered with that vendor's ``unauthorized()``."""


def records(request: Request) -> Records:
    """FastAPI dependency: the emulators' record store."""
    return request.app.state.records


Store = Annotated[Records, Depends(records)]
"""A route parameter typed ``Store`` receives the record store."""
