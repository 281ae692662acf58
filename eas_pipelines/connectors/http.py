"""Plain-HTTP vendor calls (ServiceNow, Oracle, Workday, BambooHR, ADP, Graph): one ``httpx``
client per connector, each response classified once.

Throttling (429, 503, or whatever ``throttled`` recognises) and 5xx become :class:`Transient`
with the server's ``Retry-After``; other 4xx become :class:`VendorRejected` carrying the vendor's
own message (found by ``error_message``); transport errors (refused, reset, timed out) are
transient too. Retrying and the breaker are the resource's job (:meth:`ConnectorResource.guarded`).
Headers are never logged, so credentials do not leak into run logs.

Connections are the process's, not the client's: every client trusting the same CAs draws on one
keep-alive pool (:func:`shared_transport` for ``httpx``, :func:`shared_adapter` for SDKs built on
``requests``), so a worker's runs reuse their TLS connections instead of opening new ones per step.
Closing a client leaves the pool open; credentials, cookies and tokens stay per client.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from requests.adapters import HTTPAdapter

from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def default_error_message(response: httpx.Response) -> str:
    """The first human message found in a JSON error body, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return _first_message(body) or response.text[:200]


def _first_message(body: Any) -> str | None:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return next((m for m in map(_first_message, body) if m), None)
    if isinstance(body, dict):
        for key in ("message", "detail", "error_description", "title", "errorMessages", "error"):
            if key in body:
                found = _first_message(body[key])
                if found:
                    return found
    return None


class VendorHTTP:
    """An ``httpx.Client`` for one system that turns every answer into a result or a typed error."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        timeout_s: float,
        verify: ssl.SSLContext | bool = True,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        throttled: Callable[[httpx.Response], bool] | None = None,
        error_message: Callable[[httpx.Response], str] = default_error_message,
    ):
        self.system = system
        self._throttled = throttled
        self._error_message = error_message
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout_s,
            transport=shared_transport(verify),
            auth=auth,
            headers=dict(headers or {}),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One attempt; a 2xx/3xx response, else :class:`Transient` or :class:`VendorRejected`."""
        try:
            response = self.client.request(method, path.lstrip("/"), **kwargs)
        except httpx.TransportError as exc:
            raise Transient(f"{self.system}: {type(exc).__name__}: {exc}") from exc
        self.raise_for(response)
        return response

    def raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        message = f"{self.system}: HTTP {status} on {response.request.method} {response.request.url.path}"
        detail = self._error_message(response)
        if detail:
            message = f"{message}: {detail}"
        if status in RETRYABLE_STATUSES or (self._throttled is not None and self._throttled(response)):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise Transient(message, status=status, retry_after=retry_after)
        raise VendorRejected(message, status=status)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """One attempt whose answer is JSON (``None`` for an empty body)."""
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


class _SharedTransport(httpx.HTTPTransport):
    """An ``httpx`` transport that outlives the clients using it (closing one keeps the pool)."""

    def close(self) -> None:
        pass


@functools.lru_cache(maxsize=32)
def shared_transport(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    """The process's connection pool for ``httpx`` clients verifying with ``verify``."""
    return _SharedTransport(verify=verify)


class TrustingAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections use a given TLS context (:func:`.base.tls_context`).

    Without it, urllib3 builds a context, loading the system's CA store, for every new session:
    for SDKs built on ``requests`` (pyodata, python-quickbooks) that is once per client.
    """

    def __init__(self, context: ssl.SSLContext):
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class _SharedAdapter(TrustingAdapter):
    """A :class:`TrustingAdapter` that outlives the sessions mounting it (closing one keeps the pool)."""

    def close(self) -> None:
        pass


@functools.lru_cache(maxsize=32)
def shared_adapter(context: ssl.SSLContext) -> TrustingAdapter:
    """The process's connection pool for ``requests`` sessions trusting ``context``."""
    return _SharedAdapter(context)
