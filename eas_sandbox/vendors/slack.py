"""Slack Web API (``/slack/api/{method}``): posting, looking people up, reading channel history.

Every method answers HTTP 200 ``{"ok": true, ...}`` or ``{"ok": false, "error": "<code>"}``; the
bot token comes as ``Authorization: Bearer xoxb-…`` (a wrong one: ``invalid_auth`` in a 200). Like
Slack, every method takes its arguments from the query string, a form body or a JSON body, by GET
or POST (``slack-sdk`` POSTs GET methods' arguments form-encoded). Throttling is HTTP 429 +
``Retry-After`` with ``{"ok": false, "error": "ratelimited"}``. Lists page by cursor
(``limit``, ``cursor`` → ``response_metadata.next_cursor``, empty on the last page).

Seeded: the ten demo people (``<first>.<last>@example.com``, IDs like ``U0MORGAN``) and the
channels #finance, #hr, #support and #general, plus the customer service agent's queue channels
(#support-access, #support-billing, #support-technical, #support-general) and escalation channels
(#support-tier2, #support-oncall) (IDs like ``C0FINANCE``, ``C0SUPPORTONCALL``), the bot a member
of each.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "slack"
TOKEN = "xoxb-0000000000-0000000000-easSandboxSlackBotToken"
BOT_USER, BOT_ID, TEAM = "U0EASBOT", "B0EASBOT", "T0EAS"
PEOPLE = (
    "morgan.reyes",
    "priya.patel",
    "elena.garcia",
    "dana.smith",
    "omar.haddad",
    "marcus.chen",
    "aisha.okafor",
    "tom.nguyen",
    "sofia.rossi",
    "kenji.tanaka",
)
CHANNELS = (
    "finance",
    "hr",
    "support",
    "general",
    "support-access",
    "support-billing",
    "support-technical",
    "support-general",
    "support-tier2",
    "support-oncall",
    "security",  # the security agent: access changes, approvals; its on-call page; payroll flags
    "security-oncall",
    "payroll",
    "eas-alerts",  # the monitoring agent's alerts (EAS_MONITORING_CHANNEL)
    "engineering",
    "ops",
)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def ok(**body: Any) -> Response:
    return JSONResponse({"ok": True, **body})


def fail(code: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"ok": False, "error": code}, status_code=status, headers=headers)


def authenticated(request: Request) -> None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])


async def arguments(request: Request) -> dict[str, Any]:
    """A method's arguments from the query string, a form body or a JSON body."""
    found: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            found.update(body)
    elif "application/x-www-form-urlencoded" in content_type:
        found.update(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
    for field in ("metadata", "blocks"):  # form-encoded: JSON in a string
        if isinstance(found.get(field), str) and found[field]:
            with contextlib.suppress(ValueError):
                found[field] = json.loads(found[field])
    return found


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


_ts_lock = threading.Lock()
_last_ts_us = 0


def _new_ts() -> str:
    """A message timestamp ("1712345678.000123"), unique and increasing in this process."""
    global _last_ts_us
    with _ts_lock:
        _last_ts_us = max(time.time_ns() // 1000, _last_ts_us + 1)
        return f"{_last_ts_us // 1_000_000}.{_last_ts_us % 1_000_000:06d}"


def _page(items: list[dict[str, Any]], args: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """One page of ``items`` and the cursor of the next ("" on the last page)."""
    limit = max(1, min(int(args.get("limit") or DEFAULT_LIMIT), MAX_LIMIT))
    cursor = str(args.get("cursor") or "")
    offset = int(base64.b64decode(cursor).decode().split(":", 1)[1]) if cursor else 0
    end = offset + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[offset:end], next_cursor


def _dm_id(user_id: str) -> str:
    return "D" + user_id[1:]


def _resolve_channel(store: Records, channel: str) -> dict[str, Any] | None:
    """A channel by ID or name ("#finance", "finance"); a member ID opens their DM channel."""
    if channel[:1] in ("U", "W") and store.get(NAME, "users", channel) is not None:
        return _open_dm(store, channel)
    found = store.get(NAME, "channels", channel)
    if found is not None:
        return found
    name = channel.removeprefix("#")
    named = store.find(NAME, "channels", {"name": name})
    return next((c for c in named if c.get("name") == name and not c["is_im"]), None)


def _open_dm(store: Records, user_id: str) -> dict[str, Any]:
    channel_id = _dm_id(user_id)
    found = store.get(NAME, "channels", channel_id)
    if found is None:
        found = {
            "id": channel_id,
            "is_im": True,
            "user": user_id,
            "is_member": True,
            "created": int(time.time()),
        }
        store.put(NAME, "channels", channel_id, found)
    return found


@router.api_route("/api/chat.postMessage", methods=["GET", "POST"])
async def post_message(request: Request, store: Store) -> Response:
    args = await arguments(request)
    if not args.get("channel"):
        return fail("channel_not_found")
    channel = _resolve_channel(store, str(args["channel"]))
    if channel is None:
        return fail("channel_not_found")
    if not channel.get("is_member", True):
        return fail("not_in_channel")
    if not args.get("text") and not args.get("blocks"):
        return fail("no_text")
    ts = _new_ts()
    message: dict[str, Any] = {
        "type": "message",
        "ts": ts,
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "team": TEAM,
        "text": str(args.get("text") or ""),
    }
    if args.get("blocks"):
        message["blocks"] = args["blocks"]
    if args.get("thread_ts"):
        parent = store.get(NAME, "messages", f"{channel['id']}:{args['thread_ts']}")
        if parent is None:
            return fail("thread_not_found")
        message["thread_ts"] = str(args["thread_ts"])
    if isinstance(args.get("metadata"), dict):
        message["metadata"] = args["metadata"]
    store.insert(NAME, "messages", {**message, "channel": channel["id"]}, key=f"{channel['id']}:{ts}")
    return ok(channel=channel["id"], ts=ts, message=message)


@router.api_route("/api/users.lookupByEmail", methods=["GET", "POST"])
async def lookup_by_email(request: Request, store: Store) -> Response:
    args = await arguments(request)
    email = str(args.get("email") or "").lower()
    if not email:
        return fail("invalid_arguments")
    user = next((u for u in store.all(NAME, "users") if u["profile"]["email"].lower() == email), None)
    return fail("users_not_found") if user is None else ok(user=user)


@router.api_route("/api/conversations.open", methods=["GET", "POST"])
async def conversations_open(request: Request, store: Store) -> Response:
    args = await arguments(request)
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:  # group DMs are not emulated
        return fail("users_list_not_supplied" if not users else "not_supported")
    if store.get(NAME, "users", users[0]) is None:
        return fail("user_not_found")
    channel = _open_dm(store, users[0])
    return ok(channel={"id": channel["id"]})


@router.api_route("/api/conversations.list", methods=["GET", "POST"])
async def conversations_list(request: Request, store: Store) -> Response:
    args = await arguments(request)
    types = str(args.get("types") or "public_channel").split(",")
    channels = [
        c
        for c in store.all(NAME, "channels")
        if ("im" in types and c["is_im"])
        or ("public_channel" in types and not c["is_im"] and not c.get("is_private"))
        or ("private_channel" in types and c.get("is_private"))
    ]
    page, next_cursor = _page(channels, args)
    return ok(channels=page, response_metadata={"next_cursor": next_cursor})


def _messages(store: Records, channel_id: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    oldest = float(args.get("oldest") or 0)
    latest = float(args["latest"]) if args.get("latest") else None
    include_metadata = _flag(args.get("include_all_metadata"))
    found = []
    for message in store.find(NAME, "messages", {"channel": channel_id}):  # not every channel's
        if message["channel"] != channel_id or float(message["ts"]) < oldest:
            continue
        if latest is not None and float(message["ts"]) > latest:
            continue
        shown = {k: v for k, v in message.items() if k != "channel"}
        if not include_metadata:
            shown.pop("metadata", None)
        found.append(shown)
    return found


def _readable_channel(store: Records, args: dict[str, Any]) -> tuple[dict[str, Any], Response | None]:
    channel = store.get(NAME, "channels", str(args.get("channel") or ""))  # IDs only, as in Slack
    if channel is None:
        return {}, fail("channel_not_found")
    if not channel.get("is_member", True):
        return {}, fail("not_in_channel")
    return channel, None


@router.api_route("/api/conversations.history", methods=["GET", "POST"])
async def conversations_history(request: Request, store: Store) -> Response:
    args = await arguments(request)
    channel, problem = _readable_channel(store, args)
    if problem is not None:
        return problem
    top_level = [
        m
        for m in _messages(store, channel["id"], args)
        if m.get("thread_ts") in (None, m["ts"])  # replies stay in their thread
    ]
    top_level.sort(key=lambda m: float(m["ts"]), reverse=True)
    page, next_cursor = _page(top_level, args)
    return ok(messages=page, has_more=bool(next_cursor), response_metadata={"next_cursor": next_cursor})


@router.api_route("/api/conversations.replies", methods=["GET", "POST"])
async def conversations_replies(request: Request, store: Store) -> Response:
    args = await arguments(request)
    channel, problem = _readable_channel(store, args)
    if problem is not None:
        return problem
    ts = str(args.get("ts") or "")
    thread = [
        m
        for m in _messages(store, channel["id"], {**args, "oldest": 0})
        if ts in (m["ts"], m.get("thread_ts"))
    ]
    if not thread:
        return fail("thread_not_found")
    oldest = float(args.get("oldest") or 0)
    thread = [m for m in thread if m["ts"] == ts or float(m["ts"]) >= oldest]  # the parent always comes first
    thread.sort(key=lambda m: float(m["ts"]))
    page, next_cursor = _page(thread, args)
    return ok(messages=page, has_more=bool(next_cursor), response_metadata={"next_cursor": next_cursor})


@router.api_route("/api/auth.test", methods=["GET", "POST"])
def auth_test() -> Response:
    return ok(
        url="https://eas-sandbox.slack.com/", team="EAS sandbox", user="eas", team_id=TEAM, user_id=BOT_USER
    )


def _seed(records: Records) -> None:
    for person in PEOPLE:
        first, last = person.split(".")
        user_id = f"U0{first.upper()}"
        real_name = f"{first.title()} {last.title()}"
        user = {
            "id": user_id,
            "team_id": TEAM,
            "name": person,
            "real_name": real_name,
            "deleted": False,
            "is_bot": False,
            "tz": "Europe/London",
            "profile": {"email": f"{person}@example.com", "real_name": real_name, "display_name": first},
        }
        records.put(NAME, "users", user_id, user)
    for name in CHANNELS:
        channel_id = f"C0{name.upper().replace('-', '')}"
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": False,
            "is_im": False,
            "is_member": True,
            "created": 1700000000,
        }
        records.put(NAME, "channels", channel_id, channel)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {"EAS_SLACK_URL": f"{endpoints.vendor_url(NAME)}/api/", "EAS_SLACK_BOT_TOKEN": TOKEN}


def _throttled(retry_after_s: float | None) -> Response:
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return fail("ratelimited", status=429, headers=headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: fail("internal_error", status=status),
    unauthorized=lambda: fail("invalid_auth"),
    seed=_seed,
)
