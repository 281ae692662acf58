"""Issuing and verifying bearer tokens (no server needed)."""

from __future__ import annotations

import time

import jwt
import pytest

from eas_pipelines.gateway.tokens import ALL_SCOPES, TokenError, issue_token, verify_token

SECRET = "tokens-test-secret-0123456789abcdef0123"


def test_round_trip_carries_client_and_scopes() -> None:
    token = issue_token(SECRET, "billing-bot", ["requests:write", "requests:read"], ttl=60)
    principal = verify_token(token, SECRET)
    assert principal.client_id == "billing-bot"
    assert principal.scopes == {"requests:write", "requests:read"}
    assert principal.has("requests:write") and not principal.has("approvals:write")
    assert principal.expires_at - time.time() == pytest.approx(60, abs=2)


@pytest.mark.parametrize(
    ("token_kwargs", "verify_kwargs", "reason"),
    [
        ({"now": time.time() - 3600, "ttl": 60}, {}, "token expired"),
        ({"audience": "someone-else"}, {}, "invalid audience"),
        ({"issuer": "mallory"}, {}, "invalid issuer"),
        ({}, {"secret": "another-secret-0123456789abcdef0123456"}, "bad signature"),
        ({"now": time.time() + 3600}, {}, "token not yet valid"),
    ],
)
def test_invalid_tokens_say_why(token_kwargs: dict, verify_kwargs: dict, reason: str) -> None:
    token = issue_token(SECRET, "c", ALL_SCOPES, **token_kwargs)
    with pytest.raises(TokenError) as caught:
        verify_token(token, verify_kwargs.get("secret", SECRET))
    assert caught.value.reason == reason


def test_algorithm_none_is_refused() -> None:
    claims = {"sub": "c", "iss": "eas", "aud": "eas-gateway", "exp": int(time.time()) + 60, "scope": "x"}
    forged = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(TokenError, match="algorithm not allowed"):
        verify_token(forged, SECRET)


def test_missing_claims_and_garbage() -> None:
    no_subject = jwt.encode(
        {"iss": "eas", "aud": "eas-gateway", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    with pytest.raises(TokenError, match="missing claim 'sub'"):
        verify_token(no_subject, SECRET)
    with pytest.raises(TokenError, match="malformed token"):
        verify_token("not-a-jwt", SECRET)


def test_scopes_list_claim_is_accepted() -> None:
    token = issue_token(SECRET, "c", [], extra_claims={"scope": None, "scopes": ["requests:read"]})
    assert verify_token(token, SECRET).scopes == {"requests:read"}


def test_issue_refuses_empty_secret_or_client() -> None:
    with pytest.raises(ValueError, match="secret"):
        issue_token("", "c", ALL_SCOPES)
    with pytest.raises(ValueError, match="client_id"):
        issue_token(SECRET, "", ALL_SCOPES)
