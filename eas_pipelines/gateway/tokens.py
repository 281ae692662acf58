"""Bearer tokens of the intake API: issuing them (the ``eas token`` command, tests) and verifying them.

HS256 with a shared secret keeps the embedded deployment free of an identity provider; the claims
are the standard ones (``sub``, ``iss``, ``aud``, ``exp``, ``iat``) so that moving to an IdP later
changes the key, not the gateway. Scopes travel as the RFC 9068 ``scope`` claim (space-separated);
a ``scopes`` list, as some IdPs issue, is accepted too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
DEFAULT_ISSUER = "eas"
DEFAULT_AUDIENCE = "eas-gateway"
DEFAULT_TTL = timedelta(hours=1)

SCOPE_REQUESTS_WRITE = "requests:write"
SCOPE_REQUESTS_READ = "requests:read"
SCOPE_APPROVALS_WRITE = "approvals:write"
ALL_SCOPES = (SCOPE_REQUESTS_WRITE, SCOPE_REQUESTS_READ, SCOPE_APPROVALS_WRITE)

# Clocks of the issuer and the gateway may differ a little; more than this is a real expiry.
LEEWAY_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and the scopes it was granted."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float
    token_id: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class TokenError(Exception):
    """A token that does not authenticate; ``reason`` is short and safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_token(
    secret: str,
    client_id: str,
    scopes: Iterable[str],
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    ttl: timedelta | float = DEFAULT_TTL,
    *,
    now: float | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A signed token for ``client_id`` with ``scopes``, valid for ``ttl`` (a timedelta or seconds).

    ``now`` moves the clock (tests issue already-expired tokens with it); ``extra_claims`` are added
    as given, after the standard ones, so a caller can also override them deliberately.
    """
    if not secret:
        raise ValueError("secret must not be empty")
    if not client_id:
        raise ValueError("client_id must not be empty")
    issued_at = time.time() if now is None else now
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    claims: dict[str, Any] = {
        "sub": client_id,
        "iss": issuer,
        "aud": audience,
        "iat": int(issued_at),
        "nbf": int(issued_at),
        "exp": int(issued_at + seconds),
        "jti": uuid.uuid4().hex,
        "scope": " ".join(sorted(set(scopes))),
        **(extra_claims or {}),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scopes = claims.get("scopes")
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return frozenset(scopes)
    if scope is None and scopes is None:
        return frozenset()
    raise TokenError("malformed scope claim")


# Most specific first: ExpiredSignatureError is a subclass of InvalidTokenError, and so on.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.exceptions.ExpiredSignatureError, "token expired"),
    (jwt.exceptions.ImmatureSignatureError, "token not yet valid"),
    (jwt.exceptions.InvalidAudienceError, "invalid audience"),
    (jwt.exceptions.InvalidIssuerError, "invalid issuer"),
    (jwt.exceptions.InvalidSignatureError, "bad signature"),
    (jwt.exceptions.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.exceptions.InvalidIssuedAtError, "invalid issued-at claim"),
    (jwt.exceptions.InvalidSubjectError, "invalid subject"),
    (jwt.exceptions.DecodeError, "malformed token"),
)


def verify_token(
    token: str,
    secret: str,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    *,
    leeway: float = LEEWAY_SECONDS,
) -> Principal:
    """The caller named by a valid ``token``; :class:`TokenError` with the reason otherwise.

    Only HS256 is accepted: allowing the token to pick its algorithm ("none", or RS256 with the
    secret as a public key) is the classic JWT forgery.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"missing claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), "invalid token")
        raise TokenError(reason) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise TokenError("invalid subject")
    return Principal(
        client_id=subject,
        scopes=_scopes_of(claims),
        expires_at=float(claims["exp"]),
        token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
    )
