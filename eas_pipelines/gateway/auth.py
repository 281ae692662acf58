"""Authentication, authorisation and the rate limit, as FastAPI dependencies.

Failures follow RFC 6750: 401 with ``WWW-Authenticate: Bearer ...`` and the reason in
``error_description`` (and in the body), 403 with ``error="insufficient_scope"`` naming the scope
that is missing. The client id of an authenticated caller is put on ``request.state`` so that the
access log names the client.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.gateway.ratelimit import RateLimiter
from eas_pipelines.gateway.tokens import Principal, TokenError, verify_token

REALM = "eas"

# Declared as an API-key header (not HTTPBearer) so that the gateway, not FastAPI, words the errors
# for a missing or malformed header; the OpenAPI document still shows the Authorization header.
_authorization = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="bearer",
    description="Bearer <JWT> (HS256; iss, aud, exp and sub checked; scopes in the 'scope' claim).",
)


class Authenticator:
    """Verifies bearer tokens with the gateway's secret, issuer and audience."""

    def __init__(self, secret: str, issuer: str, audience: str, metrics: GatewayMetrics) -> None:
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
        self.metrics = metrics

    def _unauthorized(self, reason: str, error: str | None = "invalid_token") -> HTTPException:
        self.metrics.auth_failures.labels(reason).inc()
        challenge = f'Bearer realm="{REALM}"'
        if error is not None:
            challenge += f', error="{error}", error_description="{reason}"'
        return HTTPException(401, detail=reason, headers={"WWW-Authenticate": challenge})

    def authenticate(self, header: str | None) -> Principal:
        if header is None or not header.strip():
            raise self._unauthorized("missing bearer token", error=None)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
            raise self._unauthorized(
                "malformed Authorization header: expected 'Bearer <token>'", error="invalid_request"
            )
        try:
            return verify_token(token.strip(), self.secret, self.issuer, self.audience)
        except TokenError as exc:
            raise self._unauthorized(exc.reason) from None

    def forbidden(self, scope: str) -> HTTPException:
        self.metrics.auth_failures.labels("missing scope").inc()
        return HTTPException(
            403,
            detail=f"missing scope {scope!r}",
            headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
            },
        )


def require_scope(authenticator: Authenticator, scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and demands ``scope``."""

    def dependency(request: Request, header: Annotated[str | None, Depends(_authorization)]) -> Principal:
        principal = authenticator.authenticate(header)
        request.state.client_id = principal.client_id
        if not principal.has(scope):
            raise authenticator.forbidden(scope)
        return principal

    return dependency


def rate_limited(limiter: RateLimiter, metrics: GatewayMetrics) -> Callable[..., None]:
    """A dependency (after authentication) that counts the call against the client's limit."""

    def dependency(request: Request) -> None:
        client_id = getattr(request.state, "client_id", None) or "anonymous"
        decision = limiter.check(client_id)
        if decision.degraded:
            metrics.rate_limit_degraded.inc()
        if not decision.allowed:
            metrics.rate_limited.inc()
            raise HTTPException(
                429,
                detail=f"rate limit of {decision.limit} requests per minute exceeded; "
                f"retry in {decision.retry_after_s} s",
                headers={
                    "Retry-After": str(decision.retry_after_s),
                    "RateLimit-Limit": str(decision.limit),
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(decision.reset_after_s),
                },
            )

    return dependency
