"""Microsoft Teams incoming webhooks (``POST /teams/webhook/{token}``), storing what is posted.

A webhook URL is its own credential: only the seeded webhook's token is known. A good post answers
``200`` with the body ``1`` (as legacy webhooks do); a payload that is neither an Adaptive Card
message nor a MessageCard answers 400 with Teams' texts. Throttling arrives as Teams sends it
through webhooks: a 200 whose body relays "HTTP error 429" (no ``Retry-After``).
``GET /teams/webhook/{token}/messages`` lists what was posted (for tests and demos; not Teams').

Seeded: the approvals channel's webhook (``EAS_TEAMS_WEBHOOK_URL``) and one webhook each for the
channels of :data:`CHANNEL_WEBHOOKS` (``EAS_TEAMS_CHANNEL_WEBHOOKS``, a JSON object name -> URL).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "teams"
WEBHOOK_TOKEN = "eas-sandbox-2f1c9a7e@eas-tenant/IncomingWebhook/approvals"
"""The seeded webhook (in Teams: ``{group}@{tenant}/IncomingWebhook/{id}/{owner}``)."""
CHANNEL_WEBHOOKS: dict[str, str] = {
    name: f"eas-sandbox-2f1c9a7e@eas-tenant/IncomingWebhook/{name}"
    for name in ("general", "engineering", "announcements")
}
"""Webhooks of named channels, for posts by channel name."""
ADAPTIVE = "application/vnd.microsoft.card.adaptive"

router = APIRouter()


def _known(token: str) -> None:
    if token != WEBHOOK_TOKEN and token not in CHANNEL_WEBHOOKS.values():
        raise NotAuthenticated()


def _problem(payload: Any) -> str | None:
    """Why Teams would refuse this payload, or None."""
    if not isinstance(payload, dict):
        return "Bad payload received by generic incoming webhook."
    if payload.get("@type") == "MessageCard" or "attachments" not in payload:
        return None if payload.get("text") or payload.get("summary") else "Summary or Text is required."
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return "Bad payload received by generic incoming webhook."
    for attachment in attachments:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if attachment.get("contentType") != ADAPTIVE or not isinstance(content, dict):
            return "Bad payload received by generic incoming webhook."
        if content.get("type") != "AdaptiveCard" or not isinstance(content.get("body"), list):
            return "Bad payload received by generic incoming webhook."
    return None


@router.get("/webhook/{token:path}/messages")
def list_messages(token: str, store: Store) -> Response:
    _known(token)
    messages = [m for m in store.all(NAME, "messages") if m["webhook"] == token]
    return JSONResponse({"messages": messages})


@router.post("/webhook/{token:path}")
async def post_message(token: str, request: Request, store: Store) -> Response:
    _known(token)
    try:
        payload = await request.json()
    except ValueError:
        payload = None
    problem = _problem(payload)
    if problem is not None:
        return PlainTextResponse(problem, status_code=400)
    received = datetime.now(UTC).isoformat()
    store.insert(
        NAME,
        "messages",
        {"webhook": token, "received_at": received, "payload": payload},
        key=lambda seq: f"{seq:012d}",
    )
    return PlainTextResponse("1")


def _env(endpoints: Endpoints) -> dict[str, str]:
    base = f"{endpoints.vendor_url(NAME)}/webhook"
    channels = {name: f"{base}/{token}" for name, token in CHANNEL_WEBHOOKS.items()}
    return {
        "EAS_TEAMS_WEBHOOK_URL": f"{base}/{WEBHOOK_TOKEN}",
        "EAS_TEAMS_CHANNEL_WEBHOOKS": json.dumps(channels),
    }


def _throttled(retry_after_s: float | None) -> Response:
    # Teams relays its own throttling in a 200 and gives no Retry-After (so retry_after_s is unused).
    return PlainTextResponse(
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 "
        "with ContextId tcid=0,server=msgapi-eas-sandbox,cv=0000000000000000.0."
    )


def _failed(status: int) -> Response:
    return PlainTextResponse(
        f"Webhook message delivery failed with error: HTTP error {status}", status_code=status
    )


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=_failed,
    # unconfirmed: what Teams answers for a removed or disabled webhook; a 403 with a text is assumed
    unauthorized=lambda: PlainTextResponse(
        "Forbidden: this webhook is disabled or removed.", status_code=403
    ),
)
