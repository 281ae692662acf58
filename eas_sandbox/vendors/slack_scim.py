"""Slack's SCIM 2.0 API (``/slack_scim/scim/v2/Users``): the Slack emulator's members, as an admin sees them.

A separate prefix from the Web API (``/slack/api/``) because Slack serves SCIM from another host
(``api.slack.com/scim/v2/``) with another credential (an Org Admin's ``xoxp-`` user token). The members
are the Web API emulator's own ``users`` records: a member deactivated here reads ``deleted: true``
through ``users.lookupByEmail``, as on Slack.

``GET Users`` takes ``filter=email eq "…"`` or ``userName eq "…"`` (other filters: 400, unconfirmed
which Slack accepts), ``startIndex`` (1-based) and ``count``; ``GET|PATCH Users/{id}``; ``POST Users``
(an existing ``userName`` or e-mail: 409). ``PATCH`` takes a SCIM ``PatchOp`` whose operations replace
``active`` (other paths are ignored here). Errors are SCIM's ``{"schemas": [Error], "detail", "status"}``
(Slack's exact error body is unconfirmed); throttling 429 + ``Retry-After``.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor
from eas_sandbox.vendors import slack

NAME = "slack_scim"
TOKEN = "xoxp-0000000000-0000000000-easSandboxSlackScimAdminToken"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_FILTER = re.compile(r'^\s*(email|userName)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"schemas": [ERROR_SCHEMA], "detail": detail, "status": str(status)}
    return JSONResponse(body, status_code=status, headers=headers)


def authenticated(request: Request) -> None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])


def _scim(member: dict[str, Any]) -> dict[str, Any]:
    """A Web API member record as a SCIM user."""
    profile = member.get("profile") or {}
    first, _, last = str(member.get("real_name") or "").partition(" ")
    return {
        "schemas": [USER_SCHEMA],
        "id": member["id"],
        "userName": member.get("name", ""),
        "displayName": member.get("real_name", ""),
        "name": {"givenName": first, "familyName": last},
        "emails": [{"value": profile.get("email", ""), "primary": True}],
        "active": not member.get("deleted", False),
        "meta": {"created": member.get("created_at", ""), "resourceType": "User"},
    }


def _members(store: Records) -> list[dict[str, Any]]:
    return [m for m in store.all(slack.NAME, "users") if not m.get("is_bot")]


@router.get("/scim/v2/Users")
def list_users(store: Store, filter: str = "", startIndex: int = 1, count: int = 100) -> Response:  # noqa: A002, N803
    members = _members(store)
    if filter:
        parsed = _FILTER.match(filter)
        if parsed is None:
            return error(400, f"unsupported filter: {filter}")
        attribute, value = parsed.group(1).lower(), parsed.group(2).lower()
        if attribute == "email":
            members = [m for m in members if str((m.get("profile") or {}).get("email", "")).lower() == value]
        else:
            members = [m for m in members if str(m.get("name", "")).lower() == value]
    start = max(1, startIndex)
    page = members[start - 1 : start - 1 + max(0, count)]
    return JSONResponse(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": len(members),
            "itemsPerPage": len(page),
            "startIndex": start,
            "Resources": [_scim(m) for m in page],
        }
    )


@router.get("/scim/v2/Users/{user_id}")
def get_user(user_id: str, store: Store) -> Response:
    member = store.get(slack.NAME, "users", user_id)
    return error(404, f"User {user_id} not found") if member is None else JSONResponse(_scim(member))


@router.post("/scim/v2/Users")
async def create_user(request: Request, store: Store) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "invalid JSON")
    emails = body.get("emails") or [] if isinstance(body, dict) else []
    email = str(emails[0].get("value", "")) if emails and isinstance(emails[0], dict) else ""
    user_name = str(body.get("userName") or "") if isinstance(body, dict) else ""
    if not user_name or "@" not in email:
        return error(400, "userName and a primary email are required")
    for member in _members(store):
        if (
            member.get("name") == user_name
            or (member.get("profile") or {}).get("email", "").lower() == email.lower()
        ):
            return error(409, f"a member with userName {user_name} or email {email} already exists")
    name = body.get("name") or {}
    real_name = str(
        body.get("displayName") or f"{name.get('givenName', '')} {name.get('familyName', '')}".strip()
    )
    user_id = "U" + secrets.token_hex(5).upper()
    member = {
        "id": user_id,
        "team_id": slack.TEAM,
        "name": user_name,
        "real_name": real_name,
        "deleted": not bool(body.get("active", True)),
        "is_bot": False,
        "tz": "Europe/London",
        "created_at": datetime.now(UTC).isoformat(),
        "profile": {"email": email, "real_name": real_name, "display_name": user_name},
    }
    store.put(slack.NAME, "users", user_id, member)
    return JSONResponse(_scim(member), status_code=201)


@router.patch("/scim/v2/Users/{user_id}")
async def patch_user(user_id: str, request: Request, store: Store) -> Response:
    member = store.get(slack.NAME, "users", user_id)
    if member is None:
        return error(404, f"User {user_id} not found")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "invalid JSON")
    for operation in (body.get("Operations") or []) if isinstance(body, dict) else []:
        if str(operation.get("path", "")).lower() == "active" and operation.get("op", "").lower() in (
            "replace",
            "add",
        ):
            member["deleted"] = not bool(operation.get("value"))
    store.put(slack.NAME, "users", user_id, member)
    return JSONResponse(_scim(member))


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {"EAS_SLACK_SCIM_URL": f"{endpoints.vendor_url(NAME)}/scim/v2/", "EAS_SLACK_SCIM_TOKEN": TOKEN}


def _throttled(retry_after_s: float | None) -> Response:
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "rate limited", headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "internal error (injected fault)"),
    unauthorized=lambda: error(401, "invalid_authentication"),
)
