"""ServiceNow Table API (``/api/now/table/{table}``): incidents, users, change requests.

Basic auth; ``sysparm_query``: conditions joined by ``^`` (and), each ``field<op>value`` with ``=`` and
``!=`` (case-insensitive), ``IN``/``NOT IN`` (``stateIN1,2,3``) and ``>``, ``>=``, ``<``, ``<=`` (date/time
fields as ServiceNow writes them, ``sys_created_on>=2025-07-01 00:00:00``, or a date alone; numbers as
numbers; other text in text order; an empty field satisfies none), plus ``ORDERBY``/``ORDERBYDESC``. A
condition it does not understand (``^OR``, ``^NQ``, ``STARTSWITH``, ``LIKE``...) answers 400 ``Invalid
query``: an emulator's choice, so that a client's mistake shows (an instance ignores an invalid condition,
or returns no rows when ``glide.invalid_query.returns_no_rows`` is set);
``sysparm_limit``/``sysparm_offset`` with ``X-Total-Count`` and a ``Link`` header; errors
``{"error": {"message", "detail"}, "status": "failure"}``; throttling 429 + ``Retry-After``.
Numbers are assigned as ServiceNow does (INC0010001, CHG0030001); ``sys_id`` is 32 hex digits.
Any other field sent is stored as a string, custom ``u_*`` columns included. The journal fields
(``comments``, ``work_notes``) add an entry on each write instead of replacing the value, and read
back as ServiceNow shows a journal: every entry, newest first, under a "<time> - <user> (<field>)"
line.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "servicenow"
USER, PASSWORD = "eas.integration", "sandbox-servicenow-password"
TABLES = {"incident": ("INC", 10000), "change_request": ("CHG", 30000), "sys_user": (None, 0)}
JOURNALS = {"comments": "Additional comments", "work_notes": "Work notes"}


def error(status: int, message: str, detail: str = "", headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return JSONResponse(body, status_code=status, headers=headers)


def authenticated(request: Request) -> None:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    if request.headers.get("authorization") != expected:
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])


_CONDITION = re.compile(
    r"(?P<field>[a-z_][a-z0-9_.]*)(?P<operator>!=|>=|<=|=|>|<|NOT IN|IN)(?P<value>.*)", re.DOTALL
)
SN_DATETIME, SN_DATE = "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"
"""How a date/time (or date) field reads without display values, and how a query compares it."""


@dataclass(frozen=True)
class Condition:
    """One ``field<operator>value`` term of an encoded query."""

    field: str
    operator: str
    value: str

    def holds(self, record: dict[str, Any]) -> bool:
        actual = str(record.get(self.field, ""))
        if self.operator in ("=", "!="):
            return (actual.lower() == self.value.lower()) == (self.operator == "=")
        if self.operator in ("IN", "NOT IN"):
            wanted = {choice.lower() for choice in self.value.split(",")}
            return (actual.lower() in wanted) == (self.operator == "IN")
        return actual != "" and _ordered(_comparable(actual), self.operator, _comparable(self.value))


@dataclass(frozen=True)
class Query:
    """A parsed ``sysparm_query``: conditions that must all hold, then the sort keys in order."""

    conditions: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]
    """(field, descending) per ``ORDERBY``/``ORDERBYDESC``."""

    def matches(self, record: dict[str, Any]) -> bool:
        return all(condition.holds(record) for condition in self.conditions)

    def equalities(self) -> dict[str, str]:
        """The non-empty ``field=value`` conditions, which PostgreSQL can narrow the table by.

        An empty value is left out: a missing field reads as '', which SQL cannot select by; the other
        operators are left to :meth:`matches`.
        """
        return {c.field: c.value for c in self.conditions if c.operator == "=" and c.value}


def _comparable(text: str) -> datetime | float | str:
    """What ``>``/``<`` compare: a date/time (or a date, at midnight), else a number, else the text."""
    for layout in (SN_DATETIME, SN_DATE):
        try:
            return datetime.strptime(text.strip(), layout)
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        return text


def _ordered(left: datetime | float | str, operator: str, right: datetime | float | str) -> bool:
    if type(left) is not type(right):
        left, right = str(left), str(right)
    if operator == ">":
        return left > right  # type: ignore[operator]
    if operator == ">=":
        return left >= right  # type: ignore[operator]
    if operator == "<":
        return left < right  # type: ignore[operator]
    return left <= right  # type: ignore[operator]


def parse_query(query: str) -> Query:
    """``sysparm_query`` as conditions and sort keys; a term it does not understand is a ValueError."""
    conditions: list[Condition] = []
    order: list[tuple[str, bool]] = []
    for term in filter(None, query.split("^")):
        if term.startswith("ORDERBYDESC"):
            order.append((term[len("ORDERBYDESC") :], True))
        elif term.startswith("ORDERBY"):
            order.append((term[len("ORDERBY") :], False))
        elif (match := _CONDITION.fullmatch(term)) is not None:
            conditions.append(Condition(match["field"], match["operator"], match["value"]))
        else:
            raise ValueError(term)
    return Query(tuple(conditions), tuple(order))


def _write(row: dict[str, Any], changes: dict[str, Any], now: str) -> None:
    """Store ``changes`` on ``row`` as strings; a journal field gets a new entry on top of the others."""
    for field, value in changes.items():
        if field in JOURNALS:
            if str(value):
                entry = f"{now} - {USER} ({JOURNALS[field]})\n{value}\n\n"
                row[field] = entry + str(row.get(field, ""))
        else:
            row[field] = str(value)


def _known(table: str) -> Response | None:
    return None if table in TABLES else error(400, "Invalid table", f"Invalid table {table}")


@router.get("/api/now/table/{table}")
def list_records(
    table: str,
    request: Request,
    store: Store,
    sysparm_query: str = "",
    sysparm_limit: int = 10000,
    sysparm_offset: int = 0,
) -> Response:
    if (problem := _known(table)) is not None:
        return problem
    try:
        query = parse_query(sysparm_query)
    except ValueError as exc:
        return error(400, "Invalid query", f"Unsupported condition '{exc}' in sysparm_query")
    # ServiceNow's "=" ignores case, which JSON containment cannot: the store narrows by a case-folded
    # comparison (a superset) and Query.matches keeps the exact semantics.
    rows = store.find(NAME, table, equal_ignoring_case=query.equalities())
    selected = [row for row in rows if query.matches(row)]
    for field, descending in reversed(query.order):
        selected.sort(key=lambda row: str(row.get(field, "")), reverse=descending)
    page = selected[sysparm_offset : sysparm_offset + sysparm_limit]
    headers = {"X-Total-Count": str(len(selected))}
    if sysparm_offset + sysparm_limit < len(selected):
        next_url = request.url.include_query_params(sysparm_offset=sysparm_offset + sysparm_limit)
        headers["Link"] = f'<{next_url}>;rel="next"'
    return JSONResponse({"result": page}, headers=headers)


@router.get("/api/now/table/{table}/{sys_id}")
def get_record(table: str, sys_id: str, store: Store) -> Response:
    if (problem := _known(table)) is not None:
        return problem
    row = store.get(NAME, table, sys_id)
    if row is None:
        return error(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
    return JSONResponse({"result": row})


@router.post("/api/now/table/{table}")
async def create_record(table: str, request: Request, store: Store) -> Response:
    if (problem := _known(table)) is not None:
        return problem
    try:
        body = await request.json()
    except ValueError:
        return error(400, "Exception while reading request", "The payload is not valid JSON.")
    if not isinstance(body, dict):
        return error(400, "Exception while reading request", "The payload is not a JSON object.")
    prefix, start = TABLES[table]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    sys_id = uuid.uuid4().hex
    record: dict[str, Any] = {}
    _write(record, body, now)
    record.update(sys_id=sys_id, sys_created_on=now, sys_updated_on=now)
    if prefix is not None:
        record["number"] = f"{prefix}{start + store.count(NAME, table) + 1:07d}"
        record.setdefault("state", "1")
    store.insert(NAME, table, record, key=sys_id)
    return JSONResponse({"result": record}, status_code=201)


@router.api_route("/api/now/table/{table}/{sys_id}", methods=["PATCH", "PUT"])
async def update_record(table: str, sys_id: str, request: Request, store: Store) -> Response:
    if (problem := _known(table)) is not None:
        return problem
    row = store.get(NAME, table, sys_id)
    if row is None:
        return error(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
    changes = await request.json()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    _write(row, changes, now)
    row["sys_updated_on"] = now
    store.put(NAME, table, sys_id, row)
    return JSONResponse({"result": row})


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_SERVICENOW_URL": endpoints.vendor_url(NAME),
        "EAS_SERVICENOW_USER": USER,
        "EAS_SERVICENOW_PASSWORD": PASSWORD,
    }


def _throttled(retry_after_s: float | None) -> Response:
    headers = {"X-RateLimit-Rule": "eas-sandbox"}
    if retry_after_s is not None:
        headers["Retry-After"] = f"{retry_after_s:g}"
    return error(429, "Rate limit exceeded", "Too many requests for rule eas-sandbox", headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "Service unavailable", "injected fault"),
    unauthorized=lambda: error(401, "User Not Authenticated", "Required to provide Auth information"),
)
