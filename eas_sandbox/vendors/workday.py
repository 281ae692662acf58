"""Workday REST (``/ccx/api/<service>/<version>/<tenant>/...``): workers, absence balances, time off.

The subset the HR agent uses. Auth as Workday's API clients for integrations: ``POST
/ccx/oauth2/{tenant}/token`` with ``grant_type=refresh_token`` (client id and secret as Basic) returns
an access token, then ``Authorization: Bearer`` on every call. Workday's REST reference needs a login,
so several shapes here are choices, each marked "unconfirmed":

* collections answer ``{"data": [...], "total": n}``, paged by ``limit`` (default 20, max 100) and
  zero-based ``offset``;
* a worker carries ``id``, ``descriptor``, ``primaryWorkEmail``, ``businessTitle``, ``isManager`` and
  ``manager`` ``{id, descriptor}``; ids are readable (``marcus.chen``) where Workday uses WIDs;
* errors are ``{"error": "<message>", "errors": [{"error", "field"}]}`` (Workday names the schemas
  ``VALIDATION_ERROR_MODEL_REFERENCE``/``ERROR_MODEL_REFERENCE``); a request over the balance is a 400
  validation error whose message says so;
* ``GET .../workers/{ID}/timeOffDetails`` lists a worker's requested days (with their ``comment``), which
  is what a client needs to find a request it already made: ``requestTimeOff`` has no idempotency key.

Time off is approved at once in the sandbox and taken off the balance.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "workday"
TENANT = "eas_sandbox1"
CLIENT_ID = "ZWFzLXNhbmRib3gtd29ya2RheS1jbGllbnQ"
CLIENT_SECRET = "sandbox-workday-client-secret"
REFRESH_TOKEN = "sandbox-workday-refresh-token"
ACCESS_TOKEN_TTL_S = 3600
DEFAULT_LIMIT, MAX_LIMIT = 20, 100

TIME_OFF_TYPES = {"vacation": "Vacation", "sick": "Sick", "personal": "Personal"}

# id, name, title, manager id, balances in days per time-off type (email is <id>@example.com)
SEED_WORKERS: list[tuple[str, str, str, str | None, dict[str, float]]] = [
    ("morgan.reyes", "Morgan Reyes", "VP Operations", None, {}),
    ("priya.patel", "Priya Patel", "Director of Engineering", "morgan.reyes", {}),
    ("elena.garcia", "Elena Garcia", "Director of Finance", "morgan.reyes", {}),
    ("dana.smith", "Dana Smith", "Engineering Manager", "priya.patel", {"vacation": 20, "sick": 10}),
    ("omar.haddad", "Omar Haddad", "Finance Manager", "elena.garcia", {"vacation": 18, "sick": 10}),
    (
        "marcus.chen",
        "Marcus Chen",
        "Software Engineer",
        "dana.smith",
        {"vacation": 15, "sick": 10, "personal": 3},
    ),
    (
        "aisha.okafor",
        "Aisha Okafor",
        "Data Analyst",
        "dana.smith",
        {"vacation": 22, "sick": 10, "personal": 3},
    ),
    ("tom.nguyen", "Tom Nguyen", "Support Engineer", "dana.smith", {"vacation": 8, "sick": 4, "personal": 1}),
    ("sofia.rossi", "Sofia Rossi", "Accountant", "omar.haddad", {"vacation": 12.5, "sick": 10}),
    ("kenji.tanaka", "Kenji Tanaka", "AP Specialist", "omar.haddad", {"vacation": 1, "sick": 2}),
]


def error(status: int, message: str, field: str = "", headers: dict[str, str] | None = None) -> Response:
    body = {"error": message, "errors": [{"error": message, **({"field": field} if field else {})}]}
    return JSONResponse(body, status_code=status, headers=headers)


def authenticated(request: Request, store: Store) -> None:
    header = request.headers.get("authorization", "")
    token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    grant = store.get(NAME, "tokens", token) if token else None
    if grant is None or grant["expires_at"] < datetime.now(UTC).timestamp():
        raise NotAuthenticated()


router = APIRouter()
api = APIRouter(dependencies=[Depends(authenticated)])
STAFFING = "/ccx/api/staffing/v6/{tenant}"
ABSENCE = "/ccx/api/absenceManagement/v1/{tenant}"


@router.post("/ccx/oauth2/{tenant}/token")
async def token(tenant: str, request: Request, store: Store) -> Response:
    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if tenant != TENANT or request.headers.get("authorization") != expected:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    if (form.get("grant_type") or [""])[0] != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if (form.get("refresh_token") or [""])[0] != REFRESH_TOKEN:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    access_token = secrets.token_urlsafe(32)
    store.put(
        NAME, "tokens", access_token, {"expires_at": datetime.now(UTC).timestamp() + ACCESS_TOKEN_TTL_S}
    )
    return JSONResponse(
        {"access_token": access_token, "token_type": "Bearer", "refresh_token": REFRESH_TOKEN}
    )


def _tenant_problem(tenant: str) -> Response | None:
    return None if tenant == TENANT else error(404, f"Tenant {tenant} not found")


def _page(rows: list[dict[str, Any]], limit: int, offset: int) -> Response | dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return error(400, f"limit must be 1 to {MAX_LIMIT} and offset at least 0", "limit")
    return {"data": rows[offset : offset + limit], "total": len(rows)}


def _ref(id_: str, descriptor: str) -> dict[str, str]:
    return {"id": id_, "descriptor": descriptor}


def _worker(store: Records, tenant: str, worker_id: str) -> dict[str, Any] | Response:
    if (problem := _tenant_problem(tenant)) is not None:
        return problem
    worker = store.get(NAME, "workers", worker_id)
    if worker is None:
        return error(404, f"Invalid ID value. '{worker_id}' is not a valid ID.", "ID")
    return worker


@api.get(STAFFING + "/workers")
def list_workers(
    tenant: str, store: Store, search: str = "", limit: int = DEFAULT_LIMIT, offset: int = 0
) -> Response:
    if (problem := _tenant_problem(tenant)) is not None:
        return problem
    text = search.strip().lower()
    rows = [
        worker
        for worker in store.all(NAME, "workers")
        if not text or any(text in str(worker[f]).lower() for f in ("id", "descriptor", "primaryWorkEmail"))
    ]
    page = _page(rows, limit, offset)
    return page if isinstance(page, Response) else JSONResponse(page)


@api.get(STAFFING + "/workers/{worker_id}")
def get_worker(tenant: str, worker_id: str, store: Store) -> Response:
    worker = _worker(store, tenant, worker_id)
    return worker if isinstance(worker, Response) else JSONResponse(worker)


def _balances(store: Records, worker_id: str) -> list[dict[str, Any]]:
    return [row for row in store.all(NAME, "balances") if row["worker"]["id"] == worker_id]


@api.get(ABSENCE + "/workers/{worker_id}/eligibleAbsenceTypes")
def eligible_absence_types(
    tenant: str, worker_id: str, store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> Response:
    worker = _worker(store, tenant, worker_id)
    if isinstance(worker, Response):
        return worker
    rows = [
        {
            **balance["absencePlan"],
            "unitOfTime": {"descriptor": "Days"},
            "category": {"descriptor": "Time Off"},
        }
        for balance in _balances(store, worker_id)
    ]
    page = _page(rows, limit, offset)
    return page if isinstance(page, Response) else JSONResponse(page)


@api.get(ABSENCE + "/balances")
def balances(
    tenant: str, store: Store, worker: str = "", limit: int = DEFAULT_LIMIT, offset: int = 0
) -> Response:
    found = _worker(store, tenant, worker)
    if isinstance(found, Response):
        return found
    page = _page(_balances(store, worker), limit, offset)
    return page if isinstance(page, Response) else JSONResponse(page)


@api.get(ABSENCE + "/workers/{worker_id}/timeOffDetails")
def time_off_details(
    tenant: str, worker_id: str, store: Store, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> Response:
    worker = _worker(store, tenant, worker_id)
    if isinstance(worker, Response):
        return worker
    rows = [
        {
            **day,
            "status": {"descriptor": request["status"]},
            "timeOffRequest": _ref(request["id"], "Time Off"),
        }
        for request in store.all(NAME, "time_off")
        if request["worker"]["id"] == worker_id
        for day in request["days"]
    ]
    page = _page(rows, limit, offset)
    return page if isinstance(page, Response) else JSONResponse(page)


def _days(body: Any) -> list[dict[str, Any]] | str:
    days = body.get("days") if isinstance(body, dict) else None
    if not isinstance(days, list) or not days:
        return "days is required"
    out = []
    for day in days:
        if not isinstance(day, dict):
            return "each day must be an object"
        try:
            when = date.fromisoformat(str(day.get("date")))
            quantity = float(day.get("dailyQuantity"))
        except (TypeError, ValueError):
            return "each day needs a date (YYYY-MM-DD) and a numeric dailyQuantity"
        if not 0 < quantity <= 1:
            return f"dailyQuantity {quantity:g} on {when} must be more than 0 and at most 1 day"
        type_id = str((day.get("timeOffType") or {}).get("id") or "")
        out.append(
            {
                "date": when.isoformat(),
                "dailyQuantity": quantity,
                "timeOffType": type_id,
                "comment": str(day.get("comment") or ""),
            }
        )
    return out


@api.post(ABSENCE + "/workers/{worker_id}/requestTimeOff")
async def request_time_off(tenant: str, worker_id: str, request: Request, store: Store) -> Response:
    worker = _worker(store, tenant, worker_id)
    if isinstance(worker, Response):
        return worker
    try:
        body = await request.json()
    except ValueError:
        return error(400, "Invalid request: the body is not JSON")
    days = _days(body)
    if isinstance(days, str):
        return error(400, f"Validation error occurred. {days}", "days")
    balances = {row["absencePlan"]["id"]: row for row in _balances(store, worker_id)}
    wanted: dict[str, float] = {}
    for day in days:
        if day["timeOffType"] not in balances:
            return error(
                400,
                f"Validation error occurred. {worker['descriptor']} is not eligible for time off "
                f"type '{day['timeOffType']}'.",
                "timeOffType",
            )
        wanted[day["timeOffType"]] = wanted.get(day["timeOffType"], 0) + day["dailyQuantity"]
    for type_id, quantity in wanted.items():
        available = float(balances[type_id]["quantity"])
        if quantity > available:
            return error(
                400,
                f"Validation error occurred. The request of {quantity:g} days exceeds the "
                f"available balance of {available:g} days for {TIME_OFF_TYPES.get(type_id, type_id)}.",
                "dailyQuantity",
            )
    for type_id, quantity in wanted.items():
        row = balances[type_id]
        row["quantity"] = f"{float(row['quantity']) - quantity:g}"
        store.put(NAME, "balances", row["id"], row)
    request_id = uuid.uuid4().hex
    stored_days = [
        {
            "id": uuid.uuid4().hex,
            "date": day["date"],
            "dailyQuantity": day["dailyQuantity"],
            "timeOffType": _ref(
                day["timeOffType"], TIME_OFF_TYPES.get(day["timeOffType"], day["timeOffType"])
            ),
            "comment": day["comment"],
            "worker": _ref(worker_id, worker["descriptor"]),
        }
        for day in days
    ]
    record = {
        "id": request_id,
        "worker": _ref(worker_id, worker["descriptor"]),
        "status": "Approved",
        "days": stored_days,
    }
    store.insert(NAME, "time_off", record, key=request_id)
    answer = {
        "id": request_id,
        "descriptor": f"Time Off Request: {worker['descriptor']}",
        "businessProcessParameters": {
            "overallStatus": "Successfully Completed",
            "transactionStatus": {"descriptor": "Approved"},
        },
        "days": stored_days,
    }
    return JSONResponse(answer, status_code=201)


router.include_router(api)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_WORKDAY_URL": endpoints.vendor_url(NAME),
        "EAS_WORKDAY_TENANT": TENANT,
        "EAS_WORKDAY_CLIENT_ID": CLIENT_ID,
        "EAS_WORKDAY_CLIENT_SECRET": CLIENT_SECRET,
        "EAS_WORKDAY_REFRESH_TOKEN": REFRESH_TOKEN,
    }


def _seed(store: Records) -> None:
    if store.count(NAME, "workers"):
        return
    names = {worker_id: name for worker_id, name, *_ in SEED_WORKERS}
    managers = {manager for *_, manager, _ in SEED_WORKERS if manager}
    today = date.today().isoformat()
    for worker_id, name, title, manager, balances in SEED_WORKERS:
        worker = {
            "id": worker_id,
            "descriptor": name,
            "href": f"/ccx/api/staffing/v6/{TENANT}/workers/{worker_id}",
            "primaryWorkEmail": f"{worker_id}@example.com",
            "businessTitle": title,
            "isManager": worker_id in managers,
            "manager": _ref(manager, names[manager]) if manager else None,
        }
        store.insert(NAME, "workers", worker, key=worker_id)
        for type_id, quantity in balances.items():
            row = {
                "id": f"{worker_id}-{type_id}",
                "absencePlan": _ref(type_id, TIME_OFF_TYPES[type_id]),
                "quantity": f"{quantity:g}",
                "unit": _ref("days", "Days"),
                "worker": _ref(worker_id, name),
                "effective": today,
            }
            store.insert(NAME, "balances", row, key=row["id"])


def _throttled(retry_after_s: float | None) -> Response:
    # Workday publishes no limits (unconfirmed): answered as the common 429 with Retry-After.
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "Too many requests", headers=headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "Service unavailable (injected fault)"),
    unauthorized=lambda: error(401, "Invalid access token", headers={"WWW-Authenticate": "Bearer"}),
    seed=_seed,
)
