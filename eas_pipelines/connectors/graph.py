"""Microsoft Graph sign-in and calls as an app (MSAL client credentials), shared by the Graph connectors.

SharePoint (:mod:`.sharepoint`) and Outlook calendars (:mod:`.outlook_calendar`) sign in the same way:
MSAL's ``ConfidentialClientApplication`` gets the app token (scope ``https://graph.microsoft.com/.default``)
from the authority (``https://login.microsoftonline.com/<tenant>``, or the emulator's) over a
``requests.Session`` trusting ``ca_bundle``; instance discovery is off so that any https authority with a
path works; MSAL caches the token. Graph calls then go through :class:`VendorHTTP` with
``Authorization: Bearer``, each guarded (breaker, retries) by the resource. One place keeps that rule so the
two connectors cannot drift apart.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx
import msal
import requests

from eas_pipelines.connectors.http import VendorHTTP
from eas_pipelines.connectors.retry import Transient, VendorRejected

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
TRANSIENT_TOKEN_ERRORS = frozenset({"temporarily_unavailable", "server_error"})

T = TypeVar("T")


class GraphSettings(Protocol):
    """What a Graph connector's resource provides: the app's sign-in, Graph's root, TLS and guarding."""

    authority: str
    client_id: str
    client_secret: str
    graph_url: str
    timeout_s: float

    @property
    def trusted_ca(self) -> str | None: ...

    def verify(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext: ...

    def guarded(self, func: Callable[[], T]) -> T: ...


class VerifyingSession(requests.Session):
    """MSAL's HTTP client: every request verifies against ``verify``, whatever the environment says.

    (requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``.)
    """

    def __init__(self, verify: str | bool):
        super().__init__()
        self._verify = verify

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self._verify
        return super().request(method, url, *args, **kwargs)


class GraphClient:
    """Base of the typed Graph clients: the app token and guarded, authenticated calls.

    ``system`` names the connector in errors; ``headers`` are sent on every Graph call.
    """

    def __init__(self, resource: GraphSettings, *, system: str, headers: dict[str, str]):
        self._resource = resource
        self._system = system
        self._session = VerifyingSession(resource.trusted_ca or True)
        self._app: msal.ConfidentialClientApplication | None = None
        self._http = VendorHTTP(
            system,
            resource.graph_url,
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            headers=headers,
        )

    def _token(self) -> str:
        """The app's Graph token (MSAL's cache first); raises Transient/VendorRejected."""
        try:
            if self._app is None:  # MSAL reads the authority's OpenID configuration here
                self._app = msal.ConfidentialClientApplication(
                    self._resource.client_id,
                    client_credential=self._resource.client_secret,
                    authority=self._resource.authority,
                    http_client=self._session,
                    instance_discovery=False,
                    timeout=self._resource.timeout_s,
                )
            result = self._app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except requests.RequestException as exc:
            raise Transient(f"{self._system}: token: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # MSAL: the authority's configuration was refused (4xx)
            raise VendorRejected(f"{self._system}: token: {exc}", code="authority") from exc
        if "access_token" in result:
            return result["access_token"]
        code = result.get("error")
        message = f"{self._system}: token: {code}: {result.get('error_description', '')}"
        if not isinstance(code, str) or code in TRANSIENT_TOKEN_ERRORS:
            raise Transient(message)
        raise VendorRejected(message, code=code)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One Graph call with a fresh (or cached) bearer token, guarded by the resource."""
        extra = kwargs.pop("headers", {})

        def attempt() -> httpx.Response:
            headers = {**extra, "Authorization": f"Bearer {self._token()}"}
            return self._http.request(method, path, headers=headers, **kwargs)

        return self._resource.guarded(attempt)

    def close(self) -> None:
        self._http.close()
        self._session.close()
