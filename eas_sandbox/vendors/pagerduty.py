"""PagerDuty Events API v2 (``POST /pagerduty/v2/enqueue``): alerts opened, added to and resolved.

The request shape PagerDuty documents ("Send an Alert Event"): ``routing_key`` (the credential: an
integration key, 32 characters), ``event_action`` (``trigger``, ``acknowledge``, ``resolve``),
``dedup_key`` (optional for a trigger: one is made and returned; required otherwise) and, for a
trigger, ``payload`` with ``summary``, ``source`` and ``severity`` (``critical``, ``error``,
``warning``, ``info``). Accepted: ``202 {"status": "success", "message": "Event processed",
"dedup_key"}``; invalid: ``400 {"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}``; throttled: ``429`` (no ``Retry-After``).

Deduplication as PagerDuty describes it: a trigger whose ``dedup_key`` names an alert that is not
resolved adds a trigger to that alert (``triggers`` counts them) instead of opening another; after a
resolve, the same key opens a new alert (``incarnation`` counts them). An acknowledge or resolve of
an unknown key is accepted and changes nothing (unconfirmed: PagerDuty's answer for it is not
documented). An unknown routing key is answered as an invalid event (unconfirmed).

``GET /pagerduty/sandbox/alerts`` lists the alerts (for tests and demos; not PagerDuty's API).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.vendor import Endpoints, Store, Vendor

NAME = "pagerduty"
ROUTING_KEY = "R0UT1NGKEYEASSANDBOX000000000001"
"""The seeded service's Events API v2 integration key (32 characters, as PagerDuty's are)."""
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")

router = APIRouter()


def invalid(*errors: str) -> Response:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}
    return JSONResponse(body, status_code=400)


def _problems(event: Any) -> list[str]:
    """What PagerDuty would name as wrong with this event (empty: valid)."""
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    problems = []
    if event.get("routing_key") != ROUTING_KEY:
        problems.append("'routing_key' is invalid")
    action = event.get("event_action")
    if action not in ACTIONS:
        problems.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        problems.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        problems.append(f"'dedup_key' is required for {action}")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            problems.append("'payload' is missing or not an object")
        else:
            for field in ("summary", "source"):
                if not isinstance(payload.get(field), str) or not payload[field].strip():
                    problems.append(f"'payload.{field}' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                problems.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    return problems


def _apply(store: Store, event: dict[str, Any], dedup_key: str) -> None:
    now = datetime.now(UTC).isoformat()
    alert = store.get(NAME, "alerts", dedup_key)
    action = event["event_action"]
    if action == "trigger":
        if alert is None or alert["status"] == "resolved":
            incarnation = 1 if alert is None else alert["incarnation"] + 1
            alert = {
                "dedup_key": dedup_key,
                "status": "triggered",
                "incarnation": incarnation,
                "triggers": 0,
                "created_at": now,
                "log": [],
            }
        payload = event["payload"]
        alert.update(
            summary=payload["summary"],
            source=payload["source"],
            severity=payload["severity"],
            payload=payload,
            triggers=alert["triggers"] + 1,
        )
    elif alert is None:
        return
    elif alert["status"] != "resolved":
        alert["status"] = "acknowledged" if action == "acknowledge" else "resolved"
    alert["updated_at"] = now
    alert["log"] = [*alert["log"], {"action": action, "at": now}]
    store.put(NAME, "alerts", dedup_key, alert)


@router.post("/v2/enqueue")
@router.post("/v2/enqueue/")
async def enqueue(request: Request, store: Store) -> Response:
    try:
        event = await request.json()
    except ValueError:
        return invalid("Body is not valid JSON")
    problems = _problems(event)
    if problems:
        return invalid(*problems)
    dedup_key = event.get("dedup_key") or uuid.uuid4().hex
    _apply(store, event, dedup_key)
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    return JSONResponse(body, status_code=202)


@router.get("/sandbox/alerts")
def list_alerts(store: Store, status: str | None = None) -> Response:
    alerts = store.find(NAME, "alerts", {"status": status} if status else None)
    return JSONResponse({"alerts": alerts})


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_PAGERDUTY_EVENTS_URL": f"{endpoints.vendor_url(NAME)}/v2/enqueue",
        "EAS_PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
    }


def _throttled(retry_after_s: float | None) -> Response:
    # PagerDuty documents a bare 429 for the Events API; retry_after_s is not sent.
    body = {"status": "throttle event", "message": "Requests for this service are arriving too quickly."}
    return JSONResponse(body, status_code=429)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: JSONResponse(
        {"status": "error", "message": "Service unavailable (injected)"}, status_code=status
    ),
    unauthorized=lambda: invalid("'routing_key' is invalid"),
)
