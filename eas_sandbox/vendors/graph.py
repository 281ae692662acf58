"""The Microsoft identity platform and Graph's error shape, shared by the Graph emulators.

SharePoint (:mod:`.sharepoint`) and Outlook calendars (:mod:`.outlook_calendar`) are both Graph behind an
Entra tenant: the same OpenID configuration and client-credentials token endpoint
(``/{tenant}/v2.0/.well-known/openid-configuration``, ``/{tenant}/oauth2/v2.0/token``), the same bearer
check, and the same ``{"error": {"code", "message", "innerError"}}`` errors, 429 and 5xx. One
:class:`EntraApp` per emulator keeps its own tenant, app registration and signing secret (a token of one
emulator is no good at the other), so the rule lives here once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Vendor

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A Graph error body (``innerError`` with the request ids a client would quote)."""
    inner = {
        "code": code,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
    }
    return JSONResponse({"error": {"code": code, "message": message, "innerError": inner}}, status, headers)


def throttled(retry_after_s: float | None) -> Response:
    """Graph's 429, with ``Retry-After`` when the fault names one."""
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "TooManyRequests", "Please retry again later.", headers)


def failed(status: int) -> Response:
    """Graph's answer to an injected outage (503/504, else a general 5xx)."""
    code = {503: "serviceNotAvailable", 504: "gatewayTimeout"}.get(status, "generalException")
    return error(status, code, "The service is not available. Try the request again after a delay.")


def unauthorized() -> Response:
    """Graph's 401 for a missing or bad bearer token."""
    return error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")


@dataclass(frozen=True)
class EntraApp:
    """One emulator's tenant and app registration: it issues and checks that emulator's tokens."""

    name: str
    """The emulator's name (its URL prefix)."""
    tenant: str
    client_id: str
    client_secret: str
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def sign(self, text: str) -> str:
        """This app's HMAC of ``text`` (tokens; SharePoint's pre-authenticated download URLs)."""
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def access_token(self) -> str:
        """A JWT-shaped bearer token this app alone accepts (signature over a nonce)."""
        nonce = secrets.token_urlsafe(16)
        return f"eyJ0eXAiOiJKV1QifQ.{nonce}.{self.sign(nonce)}"

    def authenticated(self, request: Request) -> None:
        """FastAPI dependency of the Graph routes: a bearer token this app issued."""
        header = request.headers.get("authorization", "")
        parts = header[len("Bearer ") :].split(".") if header.startswith("Bearer ") else []
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self.sign(parts[1])):
            raise NotAuthenticated()

    def env(self, endpoints: Endpoints, prefix: str) -> dict[str, str]:
        """The connector's sign-in settings (``<prefix>_AUTHORITY``, ``_CLIENT_ID``, ``_CLIENT_SECRET``,
        ``_GRAPH_URL``) pointing at this emulator."""
        base = endpoints.vendor_url(self.name)
        return {
            f"{prefix}_AUTHORITY": f"{base}/{self.tenant}",
            f"{prefix}_CLIENT_ID": self.client_id,
            f"{prefix}_CLIENT_SECRET": self.client_secret,
            f"{prefix}_GRAPH_URL": f"{base}/v1.0",
        }

    def identity_router(self) -> APIRouter:
        """The authority's OpenID configuration and its client-credentials token endpoint."""
        identity = APIRouter()

        @identity.get("/{tenant}/v2.0/.well-known/openid-configuration")
        def openid_configuration(tenant: str, request: Request) -> Response:
            if tenant != self.tenant:
                body = {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                }
                return JSONResponse(body, 400)
            base = str(request.base_url).rstrip("/") + f"/{self.name}/{tenant}"
            return JSONResponse(
                {
                    "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "tenant_region_scope": "EU",
                }
            )

        @identity.post("/{tenant}/oauth2/v2.0/token")
        async def token(tenant: str, request: Request) -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if form.get("grant_type") != "client_credentials":
                return JSONResponse(
                    {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, 400
                )
            if tenant != self.tenant or form.get("client_id") != self.client_id:
                body = {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found.",
                    "error_codes": [700016],
                }
                return JSONResponse(body, 400)
            if form.get("client_secret") != self.client_secret:
                body = {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                }
                return JSONResponse(body, 401)
            if form.get("scope", "").split() != [GRAPH_SCOPE]:
                body = {"error": "invalid_scope", "error_description": "AADSTS1002012: scope is not valid."}
                return JSONResponse(body, 400)
            return JSONResponse(
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": self.access_token(),
                }
            )

        return identity

    def vendor(
        self,
        *routers: APIRouter,
        env: Callable[[Endpoints], dict[str, str]],
        seed: Callable[[Records], None],
    ) -> Vendor:
        """The emulator: its Graph ``routers`` then this app's identity routes, with Graph's 429, 5xx
        and 401 answers."""
        router = APIRouter()
        for each in (*routers, self.identity_router()):
            router.include_router(each)
        return Vendor(
            name=self.name,
            router=router,
            env=env,
            throttled=throttled,
            failed=failed,
            unauthorized=unauthorized,
            seed=seed,
        )
