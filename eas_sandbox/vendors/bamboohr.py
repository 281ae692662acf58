"""BambooHR REST API (``/api/v1/...`` of a company domain): directory, employees, time off.

The HR agent looks people up, adds hires, files and decides time-off requests and reads balances,
so the emulator serves that subset as BambooHR does: the API key as the Basic user (any password;
EAS sends ``x``), JSON on ``Accept: application/json``, ids as strings of digits, numbers in the
calculator as strings, ``POST /employees`` answering 201 with an empty body and the new id at the
end of ``Location``, and errors as a status with the message in ``x-bamboohr-error-message`` and an
empty body. Throttling is 429 + ``Retry-After`` (from 2026-09-16) or, with no delay given, the
legacy bare 503. Balances are in days; the seed table below is the demo company both HR emulators
(this one and ADP's) share.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "bamboohr"
API_KEY = "sandbox-bamboohr-0f3c9a7e5d1b4c2a8e6f"
ERROR_HEADER = "x-bamboohr-error-message"
FIRST_EMPLOYEE_ID = 101
FIRST_REQUEST_ID = 5001

TIME_OFF_TYPES = {"1": "Vacation", "2": "Sick", "3": "Personal"}
"""Time-off type ids (BambooHR numbers them per company) and names."""
TYPE_IDS = {name.lower(): type_id for type_id, name in TIME_OFF_TYPES.items()}

EXECUTIVE_BALANCES = {"vacation": 25.0, "sick": 10.0}
"""The brief gives no balances for the three executives; they get this policy (an emulator choice)."""

PEOPLE: list[dict[str, Any]] = [
    # first, last, job title, department, supervisor (first last), hire date, balances in days
    {"first": "Morgan", "last": "Reyes", "title": "VP Operations", "department": "Operations",
     "supervisor": None, "hired": "2016-04-04", "balances": EXECUTIVE_BALANCES},
    {"first": "Priya", "last": "Patel", "title": "Director of Engineering", "department": "Engineering",
     "supervisor": "Morgan Reyes", "hired": "2017-09-11", "balances": EXECUTIVE_BALANCES},
    {"first": "Elena", "last": "Garcia", "title": "Director of Finance", "department": "Finance",
     "supervisor": "Morgan Reyes", "hired": "2018-01-15", "balances": EXECUTIVE_BALANCES},
    {"first": "Dana", "last": "Smith", "title": "Engineering Manager", "department": "Engineering",
     "supervisor": "Priya Patel", "hired": "2019-03-04", "balances": {"vacation": 20.0, "sick": 10.0}},
    {"first": "Omar", "last": "Haddad", "title": "Finance Manager", "department": "Finance",
     "supervisor": "Elena Garcia", "hired": "2019-06-17", "balances": {"vacation": 18.0, "sick": 10.0}},
    {"first": "Marcus", "last": "Chen", "title": "Software Engineer", "department": "Engineering",
     "supervisor": "Dana Smith", "hired": "2021-02-01",
     "balances": {"vacation": 15.0, "sick": 10.0, "personal": 3.0}},
    {"first": "Aisha", "last": "Okafor", "title": "Data Analyst", "department": "Engineering",
     "supervisor": "Dana Smith", "hired": "2020-08-24",
     "balances": {"vacation": 22.0, "sick": 10.0, "personal": 3.0}},
    {"first": "Tom", "last": "Nguyen", "title": "Support Engineer", "department": "Engineering",
     "supervisor": "Dana Smith", "hired": "2023-05-08",
     "balances": {"vacation": 8.0, "sick": 4.0, "personal": 1.0}},
    {"first": "Sofia", "last": "Rossi", "title": "Accountant", "department": "Finance",
     "supervisor": "Omar Haddad", "hired": "2022-10-03", "balances": {"vacation": 12.5, "sick": 10.0}},
    {"first": "Kenji", "last": "Tanaka", "title": "AP Specialist", "department": "Finance",
     "supervisor": "Omar Haddad", "hired": "2024-01-08", "balances": {"vacation": 1.0, "sick": 2.0}},
]  # fmt: skip


def work_email(first: str, last: str) -> str:
    return f"{first.lower()}.{last.lower()}@example.com"


DIRECTORY_FIELDS = [
    ("displayName", "text", "Display name"),
    ("firstName", "text", "First name"),
    ("lastName", "text", "Last name"),
    ("jobTitle", "list", "Job title"),
    ("workEmail", "email", "Work Email"),
    ("department", "list", "Department"),
    ("location", "list", "Location"),
    ("supervisor", "employee", "Supervisor"),
    ("supervisorId", "text", "Supervisor ID"),
]
EMPLOYEE_FIELDS = {name for name, _, _ in DIRECTORY_FIELDS} | {
    "hireDate",
    "supervisorEmail",
    "status",
    "employeeNumber",
}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """BambooHR's error answer: the status, an empty body, the message in a header."""
    return Response(status_code=status, headers={ERROR_HEADER: message, **(headers or {})})


def authenticated(request: Request) -> None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise NotAuthenticated()
    try:
        user = base64.b64decode(credentials).decode().partition(":")[0]
    except ValueError:
        raise NotAuthenticated() from None
    if user != API_KEY:
        raise NotAuthenticated()


router = APIRouter(prefix="/api/v1", dependencies=[Depends(authenticated)])


def _employee(store: Records, employee_id: str) -> dict[str, Any] | None:
    return store.get(NAME, "employees", employee_id) if employee_id.isdigit() else None


@router.get("/employees/directory")
def directory(store: Store, onlyCurrent: bool = True) -> Response:  # noqa: N803 - BambooHR's name
    employees = [
        {"id": row["id"], **{field: row.get(field) for field, _, _ in DIRECTORY_FIELDS}}
        for row in store.find(NAME, "employees", {"status": "Active"} if onlyCurrent else None)
        if not onlyCurrent or row.get("status") == "Active"
    ]
    fields = [{"id": field, "type": kind, "name": label} for field, kind, label in DIRECTORY_FIELDS]
    return JSONResponse({"fields": fields, "employees": employees})


@router.get("/employees/{employee_id}")
def get_employee(employee_id: str, store: Store, fields: str = "firstName,lastName") -> Response:
    row = _employee(store, employee_id)
    if row is None:
        return error(404, f"Employee {employee_id} not found")
    wanted = [field for field in fields.split(",") if field]
    return JSONResponse({"id": row["id"], **{field: row.get(field) for field in wanted}})


@router.post("/employees")
async def add_employee(request: Request, store: Store) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return error(400, "The request body is not valid JSON")
    if not isinstance(body, dict) or not body.get("firstName") or not body.get("lastName"):
        return error(400, "firstName and lastName are required")
    unknown = sorted(set(body) - EMPLOYEE_FIELDS)
    if unknown:
        return error(409, f"Invalid field: {unknown[0]}")
    if body.get("hireDate"):
        try:
            date.fromisoformat(body["hireDate"])
        except (TypeError, ValueError):
            return error(409, "Invalid value for field hireDate")
    supervisor = _employee(store, str(body.get("supervisorId") or ""))
    new_id = str(FIRST_EMPLOYEE_ID + store.count(NAME, "employees"))
    row = {
        "id": new_id,
        "displayName": f"{body['firstName']} {body['lastName']}",
        "status": "Active",
        "location": "Remote",
        **{k: str(v) for k, v in body.items()},
        "supervisor": None if supervisor is None else supervisor["displayName"],
        "supervisorEmail": None if supervisor is None else supervisor["workEmail"],
        "_balances": {},
    }
    store.insert(NAME, "employees", row, key=new_id)
    location = str(request.url_for("get_employee", employee_id=new_id))
    return Response(status_code=201, headers={"Location": location})


@router.get("/meta/time_off/types")
def time_off_types() -> Response:
    types = [
        {"id": type_id, "name": name, "units": "days", "color": None, "icon": name.lower()}
        for type_id, name in TIME_OFF_TYPES.items()
    ]
    return JSONResponse({"timeOffTypes": types, "defaultHours": [{"name": "Monday", "amount": "8"}]})


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/time_off/requests")
def time_off_requests(
    store: Store,
    start: str | None = None,
    end: str | None = None,
    employeeId: str | None = None,  # noqa: N803 - BambooHR's name
    status: str | None = None,
    type: str | None = None,  # noqa: A002 - BambooHR's name
) -> Response:
    first, last = _parse_date(start), _parse_date(end)
    if first is None or last is None:
        return error(400, "start and end are required dates (YYYY-MM-DD)")
    statuses = set(status.split(",")) if status else None
    types = set(type.split(",")) if type else None
    of_employee = None if employeeId is None else {"employeeId": employeeId}
    found = [
        row
        for row in store.find(NAME, "time_off_requests", of_employee)
        if row["start"] <= last.isoformat()
        and row["end"] >= first.isoformat()
        and (employeeId is None or row["employeeId"] == employeeId)
        and (statuses is None or row["status"]["status"] in statuses)
        and (types is None or row["type"]["id"] in types)
    ]
    return JSONResponse(found)


def _used(store: Records, employee_id: str, type_id: str) -> float:
    """Days of approved requests; the store selects them, as each request asks for the balance."""
    approved = {"employeeId": employee_id, "type": {"id": type_id}, "status": {"status": "approved"}}
    return sum(
        float(row["amount"]["amount"])
        for row in store.find(NAME, "time_off_requests", approved)
        if row["employeeId"] == employee_id
        and row["type"]["id"] == type_id
        and row["status"]["status"] == "approved"
    )


def _balance(store: Records, employee: dict[str, Any], type_id: str) -> float | None:
    accrued = employee.get("_balances", {}).get(TIME_OFF_TYPES[type_id].lower())
    return None if accrued is None else accrued - _used(store, employee["id"], type_id)


@router.put("/employees/{employee_id}/time_off/request")
async def request_time_off(employee_id: str, request: Request, store: Store) -> Response:
    employee = _employee(store, employee_id)
    if employee is None:
        return error(404, f"Employee {employee_id} not found")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "The request body is not valid JSON")
    first, last = _parse_date(body.get("start")), _parse_date(body.get("end"))
    type_id = str(body.get("timeOffTypeId", ""))
    status = body.get("status", "requested")
    if first is None or last is None or last < first:
        return error(400, "start and end must be dates (YYYY-MM-DD), start not after end")
    if type_id not in TIME_OFF_TYPES:
        return error(400, f"Invalid timeOffTypeId {type_id or '(none)'}")
    if status not in ("approved", "denied", "requested"):
        return error(400, f"Invalid status {status}")
    try:
        amount = float(body.get("amount", (last - first).days + 1))
    except (TypeError, ValueError):
        return error(400, "Invalid amount")
    balance = _balance(store, employee, type_id)
    # Unconfirmed: BambooHR's exact answer to a request over the balance (policies may allow negative
    # balances). The emulator refuses it with 400, an empty body and the reason in the error header.
    if balance is None or amount > balance:
        available = 0.0 if balance is None else balance
        message = (
            f"Insufficient balance: {amount:g} days of {TIME_OFF_TYPES[type_id]} requested, "
            f"{available:g} days available"
        )
        return error(400, message)
    notes = {entry.get("from", "employee"): entry.get("note", "") for entry in body.get("notes") or []}
    now = datetime.now(UTC)
    request_id = str(FIRST_REQUEST_ID + store.count(NAME, "time_off_requests"))
    row = {
        "id": request_id,
        "employeeId": employee_id,
        "name": employee["displayName"],
        "status": {"lastChanged": now.date().isoformat(), "lastChangedByUserId": "2369", "status": status},
        "start": first.isoformat(),
        "end": last.isoformat(),
        "created": now.date().isoformat(),
        "type": {"id": type_id, "name": TIME_OFF_TYPES[type_id], "icon": TIME_OFF_TYPES[type_id].lower()},
        "amount": {"unit": "days", "amount": f"{amount:g}"},
        "actions": {
            "view": True,
            "edit": True,
            "cancel": True,
            "approve": True,
            "deny": True,
            "bypass": True,
        },
        "dates": {d["ymd"]: str(d["amount"]) for d in body.get("dates") or [] if "ymd" in d},
        "notes": notes,
    }
    store.insert(NAME, "time_off_requests", row, key=request_id)
    # Unconfirmed: the body of this 201; the emulator returns the new request as the list shows it.
    location = str(request.url_for("time_off_requests")) + f"?id={request_id}"
    return JSONResponse(row, status_code=201, headers={"Location": location})


@router.put("/time_off/requests/{request_id}/status")
async def set_status(request_id: str, request: Request, store: Store) -> Response:
    row = store.get(NAME, "time_off_requests", request_id)
    if row is None:
        return error(404, f"Time off request {request_id} not found")
    body = await request.json()
    status = {"declined": "denied", "cancelled": "canceled"}.get(body.get("status"), body.get("status"))
    if status not in ("approved", "denied", "canceled", "requested"):
        return error(400, f"Invalid status {body.get('status')}")
    row["status"] = {
        "lastChanged": datetime.now(UTC).date().isoformat(),
        "lastChangedByUserId": "2369",
        "status": status,
    }
    if body.get("note"):
        row["notes"]["manager"] = body["note"]
    store.put(NAME, "time_off_requests", request_id, row)
    return Response(status_code=200)


@router.get("/employees/{employee_id}/time_off/calculator")
def calculator(employee_id: str, store: Store, end: str | None = None) -> Response:
    employee = _employee(store, employee_id)
    if employee is None:
        return error(404, f"Employee {employee_id} not found")
    as_of = _parse_date(end) if end else datetime.now(UTC).date()
    if as_of is None:
        return error(400, "end must be a date (YYYY-MM-DD)")
    rows = []
    for type_id, name in TIME_OFF_TYPES.items():
        balance = _balance(store, employee, type_id)
        if balance is None:
            continue
        rows.append(
            {
                "timeOffType": type_id,
                "name": name,
                "units": "days",
                "balance": f"{balance:.1f}",
                "end": as_of.isoformat(),
                "policyType": "accruing" if name != "Personal" else "manual",
                "usedYearToDate": f"{_used(store, employee_id, type_id):.1f}",
            }
        )
    return JSONResponse(rows)


def seed(records: Records) -> None:
    """The demo company: ten people, their reporting lines and time-off balances."""
    ids = {f"{p['first']} {p['last']}": str(FIRST_EMPLOYEE_ID + n) for n, p in enumerate(PEOPLE)}
    for person in PEOPLE:
        full = f"{person['first']} {person['last']}"
        boss = person["supervisor"]
        row = {
            "id": ids[full],
            "employeeNumber": str(int(ids[full]) - FIRST_EMPLOYEE_ID + 1),
            "displayName": full,
            "firstName": person["first"],
            "lastName": person["last"],
            "jobTitle": person["title"],
            "workEmail": work_email(person["first"], person["last"]),
            "department": person["department"],
            "location": "Remote",
            "supervisor": boss,
            "supervisorId": None if boss is None else ids[boss],
            "supervisorEmail": None if boss is None else work_email(*boss.split()),
            "hireDate": person["hired"],
            "status": "Active",
            "_balances": dict(person["balances"]),
        }
        records.put(NAME, "employees", ids[full], row)


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {"EAS_BAMBOOHR_URL": f"{endpoints.vendor_url(NAME)}/api/v1", "EAS_BAMBOOHR_API_KEY": API_KEY}


def _throttled(retry_after_s: float | None) -> Response:
    if retry_after_s is None:  # the legacy answer: a bare 503
        return error(503, "Service Unavailable")
    return error(429, "Too Many Requests", {"Retry-After": f"{retry_after_s:g}"})


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "Service temporarily unavailable"),
    unauthorized=lambda: error(401, "Invalid API key"),
    seed=seed,
)
