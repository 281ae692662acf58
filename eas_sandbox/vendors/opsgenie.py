"""Opsgenie Alert API (``/opsgenie/v2/alerts``): create, read, list and close alerts.

Auth ``Authorization: GenieKey <key>`` (the seeded API integration's key; anything else is 401
``{"message": "Could not authenticate", ...}``). Every answer carries ``took`` and ``requestId`` as
Opsgenie's do.

- ``POST /v2/alerts`` -> ``202 {"result": "Request will be processed", "took", "requestId"}``. The
  request is processed at once here (Opsgenie does it a moment later); ``GET /v2/alerts/requests/{id}``
  tells what became of it. ``message`` is required (at most 130 characters), ``priority`` one of
  P1..P5 (default P3); an invalid body is 422 with ``errors`` by field.
- Deduplication by ``alias``: when an *open* alert has the alias, no alert is created; that alert's
  ``count`` goes up and ``lastOccurredAt`` moves (Opsgenie's documented behaviour). An alert created
  without an alias gets its id as alias (unconfirmed).
- ``GET /v2/alerts/{identifier}?identifierType=id|alias|tiny`` -> ``{"data": alert}`` or 404;
  ``GET /v2/alerts?query=&limit=&offset=&order=`` with ``field: value`` query terms joined by
  ``AND`` (a small subset of Opsgenie's search syntax) -> ``{"data": [...], "paging"}``;
  ``POST /v2/alerts/{identifier}/close?identifierType=...`` -> 202 (404 for an unknown alert).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "opsgenie"
API_KEY = "eas-sandbox-0b1d6c7e-opsgenie-api-integration"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
IDENTIFIER_TYPES = {"id": "id", "alias": "alias", "tiny": "tinyId"}


def _answer(status: int, body: dict[str, Any], started: float) -> Response:
    full = {**body, "took": round(time.monotonic() - started, 3), "requestId": str(uuid.uuid4())}
    return JSONResponse(full, status_code=status)


def error(status: int, message: str, **extra: Any) -> Response:
    return _answer(status, {"message": message, **extra}, time.monotonic())


def authenticated(request: Request) -> None:
    if request.headers.get("authorization") != f"GenieKey {API_KEY}":
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])


def _problems(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {"body": "Request body must be a JSON object."}
    problems = {}
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems["message"] = "Message can not be empty."
    elif len(message) > 130:
        problems["message"] = "Message can not be longer than 130 characters."
    if body.get("priority", "P3") not in PRIORITIES:
        problems["priority"] = f"Priority should be one of {list(PRIORITIES)}"
    alias = body.get("alias")
    if alias is not None and (not isinstance(alias, str) or len(alias) > 512):
        problems["alias"] = "Alias can not be longer than 512 characters."
    return problems


def _find(store: Store, identifier: str, identifier_type: str) -> dict[str, Any] | None:
    field = IDENTIFIER_TYPES.get(identifier_type, "id")
    if field == "id":
        return store.get(NAME, "alerts", identifier)
    found = store.find(NAME, "alerts", {field: identifier})
    open_ones = [alert for alert in found if alert["status"] == "open"]
    return (open_ones or found or [None])[-1]


@router.post("/v2/alerts")
async def create_alert(request: Request, store: Store) -> Response:
    started = time.monotonic()
    try:
        body = await request.json()
    except ValueError:
        body = None
    problems = _problems(body)
    if problems:
        return error(422, "Request body is not processable. Please check the errors.", errors=problems)
    now = datetime.now(UTC).isoformat()
    request_id = str(uuid.uuid4())
    alias = body.get("alias")
    existing = _find(store, alias, "alias") if alias else None
    if existing is not None and existing["status"] == "open":
        existing.update(count=existing["count"] + 1, lastOccurredAt=now, updatedAt=now)
        store.put(NAME, "alerts", existing["id"], existing)
        alert, status = existing, "Alert is de-duplicated"
    else:
        alert_id = str(uuid.uuid4())
        alert = {
            "id": alert_id,
            "tinyId": str(store.count(NAME, "alerts") + 1),
            "alias": alias or alert_id,
            "message": body["message"],
            "description": body.get("description", ""),
            "status": "open",
            "acknowledged": False,
            "isSeen": False,
            "count": 1,
            "priority": body.get("priority", "P3"),
            "tags": list(body.get("tags") or []),
            "details": dict(body.get("details") or {}),
            "responders": list(body.get("responders") or []),
            "entity": body.get("entity", ""),
            "source": body.get("source", ""),
            "createdAt": now,
            "updatedAt": now,
            "lastOccurredAt": now,
        }
        store.insert(NAME, "alerts", alert, key=alert_id)
        status = "Created alert"
    store.insert(
        NAME,
        "requests",
        {
            "success": True,
            "isSuccess": True,
            "action": "Create",
            "processedAt": now,
            "status": status,
            "alertId": alert["id"],
            "alias": alert["alias"],
        },
        key=request_id,
    )
    return JSONResponse(
        {
            "result": "Request will be processed",
            "took": round(time.monotonic() - started, 3),
            "requestId": request_id,
        },
        status_code=202,
    )


@router.get("/v2/alerts/requests/{request_id}")
def request_status(request_id: str, store: Store) -> Response:
    found = store.get(NAME, "requests", request_id)
    if found is None:
        return error(404, f"Request with id [{request_id}] does not exist")
    return _answer(200, {"data": found}, time.monotonic())


def _matches(alert: dict[str, Any], query: str) -> bool:
    for term in filter(None, (t.strip() for t in query.replace(" and ", " AND ").split(" AND "))):
        field, sep, value = term.partition(":") if ":" in term else term.partition("=")
        if sep and str(alert.get(field.strip(), "")).lower() != value.strip().lower():
            return False
    return True


@router.get("/v2/alerts")
def list_alerts(
    store: Store, query: str = "", limit: int = 20, offset: int = 0, order: str = "desc"
) -> Response:
    started = time.monotonic()
    alerts = [a for a in store.all(NAME, "alerts") if _matches(a, query)]
    if order == "desc":
        alerts.reverse()
    page = alerts[offset : offset + max(1, min(limit, 100))]
    paging = {"first": f"?offset=0&limit={limit}"}
    return _answer(200, {"data": page, "paging": paging}, started)


@router.get("/v2/alerts/{identifier}")
def get_alert(identifier: str, store: Store, identifierType: str = "id") -> Response:  # noqa: N803
    found = _find(store, identifier, identifierType)
    if found is None:
        return error(404, "Alert does not exist")
    return _answer(200, {"data": found}, time.monotonic())


@router.post("/v2/alerts/{identifier}/close")
async def close_alert(
    identifier: str, request: Request, store: Store, identifierType: str = "id"
) -> Response:  # noqa: N803
    started = time.monotonic()
    found = _find(store, identifier, identifierType)
    if found is None:
        return error(404, "Alert does not exist")
    if found["status"] != "closed":
        now = datetime.now(UTC).isoformat()
        found.update(status="closed", updatedAt=now)
        store.put(NAME, "alerts", found["id"], found)
    return _answer(202, {"result": "Request will be processed"}, started)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {"EAS_OPSGENIE_URL": endpoints.vendor_url(NAME), "EAS_OPSGENIE_API_KEY": API_KEY}


def _throttled(retry_after_s: float | None) -> Response:
    # Opsgenie signals throttling with X-RateLimit-State; a Retry-After is not documented.
    response = error(
        429, "You are making too many requests! To avoid errors, we recommend you limit requests."
    )
    response.headers["X-RateLimit-State"] = "THROTTLED"
    return response


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "Service unavailable (injected)"),
    unauthorized=lambda: error(401, "Could not authenticate"),
)
