"""Salesforce REST API (``/services/data/vXX.X/``): Cases, Accounts, Contacts, as simple-salesforce sees them.

OAuth 2.0 client credentials at ``/services/oauth2/token`` (form ``grant_type=client_credentials``,
``client_id``, ``client_secret``) → ``access_token`` and ``instance_url``; every data call sends
``Authorization: Bearer``. sObject create (``POST sobjects/{obj}/`` → 201 ``{id, success, errors}``),
read (``GET sobjects/{obj}/{id}`` or by external id ``sobjects/{obj}/{field}/{value}``), update
(``PATCH sobjects/{obj}/{id}`` → 204) and upsert by external id (``PATCH sobjects/{obj}/{field}/{value}``:
no match → 201 ``created: true``, one → 200 ``created: false`` as API v46+ answers, several → 300).
Queries take a small SOQL subset (``SELECT f, ... FROM obj [WHERE f = 'v' [AND ...]] [ORDER BY f [ASC|DESC]]
[LIMIT n]``, operators ``=``, ``!=``, ``LIKE``) and page by :data:`QUERY_BATCH_SIZE` rows with
``nextRecordsUrl`` until ``done``. Errors are ``[{"message", "errorCode", "fields"}]``; throttling is
Salesforce's 403 ``REQUEST_LIMIT_EXCEEDED`` (no ``Retry-After``); an expired session is 401
``INVALID_SESSION_ID``. Every answer carries ``Sforce-Limit-Info: api-usage=used/total``.

``nextRecordsUrl`` is relative to the instance (``/services/data/v59.0/query/<locator>-<offset>``, as
Salesforce returns it); simple-salesforce prepends ``https://{instance}``, and the instance the token
call hands out includes this emulator's ``/salesforce`` prefix. The query locator encodes the SOQL
text itself, so paging needs no server-side cursor (Salesforce keeps one for 15 minutes).
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "salesforce"
CLIENT_ID = "3MVG9sandbox.eas.connected.app"
CLIENT_SECRET = "sandbox-salesforce-client-secret"
ACCESS_TOKEN = "00DSB0000000EAS!sandbox-salesforce-session"
QUERY_BATCH_SIZE = 2000
"""Rows in one query batch (Salesforce's default and maximum); tests lower it to exercise paging."""
API_DAILY_LIMIT = 15000

_ID_PREFIX = {"Case": "500", "Account": "001", "Contact": "003", "User": "005"}
_FIELDS: dict[str, set[str]] = {
    "Case": {
        "Id",
        "CaseNumber",
        "Subject",
        "Description",
        "Status",
        "Priority",
        "Origin",
        "SuppliedEmail",
        "ContactId",
        "AccountId",
        "IsClosed",
        "EAS_Request_Id__c",
        "CreatedDate",
        "LastModifiedDate",
    },
    "Account": {"Id", "Name", "Industry", "Website", "Phone", "CreatedDate", "LastModifiedDate"},
    "Contact": {
        "Id",
        "FirstName",
        "LastName",
        "Name",
        "Email",
        "Phone",
        "AccountId",
        "CreatedDate",
        "LastModifiedDate",
    },
    # Users: what access administration reads and writes. EAS_Access_Role__c and EAS_Grant__c are the
    # org's custom fields recording the access level EAS granted and the request that granted it.
    "User": {
        "Id",
        "Username",
        "Email",
        "FirstName",
        "LastName",
        "Name",
        "Alias",
        "IsActive",
        "LastLoginDate",
        "EAS_Access_Role__c",
        "EAS_Grant__c",
        "CreatedDate",
        "LastModifiedDate",
    },
}
_READ_ONLY = {"Id", "CaseNumber", "IsClosed", "Name", "CreatedDate", "LastModifiedDate", "LastLoginDate"}
_EXTERNAL_IDS = {"Case": {"EAS_Request_Id__c"}, "Account": set(), "Contact": set(), "User": set()}
_REQUIRED = {"User": ("Username", "LastName", "Email", "Alias")}
"""Fields an insert must carry (Salesforce's REQUIRED_FIELD_MISSING); unconfirmed beyond these four:
a real org also requires ProfileId, TimeZoneSidKey, LocaleSidKey, EmailEncodingKey, LanguageLocaleKey."""
_PICKLISTS = {
    ("Case", "Priority"): {"High", "Medium", "Low"},
    ("Case", "Status"): {"New", "Working", "Escalated", "Closed"},
    ("Case", "Origin"): {"Phone", "Email", "Web"},
}
_api_calls = itertools.count(1)
_case_number_lock = threading.Lock()


def _answer(status: int, body: Any = None) -> Response:
    headers = {"Sforce-Limit-Info": f"api-usage={next(_api_calls)}/{API_DAILY_LIMIT}"}
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    return _answer(status, [{"message": message, "errorCode": code, "fields": fields or []}])


def authenticated(request: Request) -> None:
    if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
        raise NotAuthenticated()


router = APIRouter()
api = APIRouter(dependencies=[Depends(authenticated)])


@router.post("/services/oauth2/token")
async def token(request: Request) -> Response:
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
    grant_type, client_id = form.get("grant_type", ""), form.get("client_id", "")
    client_secret = form.get("client_secret", "")
    if grant_type != "client_credentials":
        body = {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        return JSONResponse(body, status_code=400)
    if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
        body = {"error": "invalid_client", "error_description": "invalid client credentials"}
        return JSONResponse(body, status_code=400)
    instance_url = f"{str(request.base_url).rstrip('/')}/{NAME}"
    return JSONResponse(
        {
            "access_token": ACCESS_TOKEN,
            "instance_url": instance_url,
            "id": f"{instance_url}/id/00DSB0000000EAS/005SB0000000EAS",
            "token_type": "Bearer",
            "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _new_id(sobject: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return _ID_PREFIX[sobject] + "SB" + "".join(secrets.choice(alphabet) for _ in range(13))


def _attributes(sobject: str, version: str, record_id: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/{version}/sobjects/{sobject}/{record_id}"}


def _full(sobject: str, version: str, record: dict[str, Any]) -> dict[str, Any]:
    body = {field: record.get(field) for field in sorted(_FIELDS[sobject])}
    return {"attributes": _attributes(sobject, version, record["Id"]), **body}


def _unknown(sobject: str) -> Response | None:
    if sobject in _FIELDS:
        return None
    return error(404, "NOT_FOUND", "The requested resource does not exist")


async def _changes(request: Request, sobject: str) -> dict[str, Any] | Response:
    """The request's field values, or Salesforce's answer refusing them."""
    try:
        body = await request.json()
    except ValueError:
        return error(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON object")
    if not isinstance(body, dict):
        return error(400, "JSON_PARSER_ERROR", "Can not deserialize SObject out of a JSON array")
    for field, value in body.items():
        if field not in _FIELDS[sobject]:
            return error(400, "INVALID_FIELD", f"No such column '{field}' on sobject of type {sobject}")
        if field in _READ_ONLY:
            message = f"Unable to create/update fields: {field}. Please check the security settings."
            return error(400, "INVALID_FIELD_FOR_INSERT_UPDATE", message, [field])
        allowed = _PICKLISTS.get((sobject, field))
        if allowed is not None and value not in allowed:
            message = f"{field}: bad value for restricted picklist field: {value}"
            return error(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, [field])
    return body


def _insert(store: Records, sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    record: dict[str, Any] = {field: None for field in _FIELDS[sobject]}
    record.update(fields)
    record.update({"Id": _new_id(sobject), "CreatedDate": now, "LastModifiedDate": now})
    if sobject == "Case":
        record["Status"] = record["Status"] or "New"
        record["Priority"] = record["Priority"] or "Medium"
        record["IsClosed"] = record["Status"] == "Closed"
        with _case_number_lock:
            record["CaseNumber"] = f"{1000 + store.count(NAME, sobject) + 1:08d}"
            return store.insert(NAME, sobject, record, key=record["Id"])
    if sobject in ("Contact", "User"):
        record["Name"] = " ".join(filter(None, [record.get("FirstName"), record.get("LastName")]))
    if sobject == "User":
        record["IsActive"] = True if record.get("IsActive") is None else bool(record["IsActive"])
    return store.insert(NAME, sobject, record, key=record["Id"])


def _update(store: Records, sobject: str, record: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    record.update(fields)
    record["LastModifiedDate"] = _now()
    if sobject == "Case":
        record["IsClosed"] = record.get("Status") == "Closed"
    return store.put(NAME, sobject, record["Id"], record)


@api.post("/services/data/{version}/sobjects/{sobject}/")
@api.post("/services/data/{version}/sobjects/{sobject}")
async def create(version: str, sobject: str, request: Request, store: Store) -> Response:
    if (problem := _unknown(sobject)) is not None:
        return problem
    fields = await _changes(request, sobject)
    if isinstance(fields, Response):
        return fields
    missing = [field for field in _REQUIRED.get(sobject, ()) if not fields.get(field)]
    if missing:
        return error(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", missing)
    if sobject == "User" and store.find(NAME, "User", {"Username": fields["Username"]}):
        message = "Duplicate Username.The username already exists in this or another Salesforce organization."
        return error(400, "DUPLICATE_USERNAME", message, ["Username"])
    record = _insert(store, sobject, fields)
    return _answer(201, {"id": record["Id"], "success": True, "errors": []})


@api.get("/services/data/{version}/sobjects/{sobject}/{record_id}")
def read(version: str, sobject: str, record_id: str, store: Store) -> Response:
    if (problem := _unknown(sobject)) is not None:
        return problem
    record = store.get(NAME, sobject, record_id)
    if record is None:
        return error(404, "NOT_FOUND", "The requested resource does not exist")
    return _answer(200, _full(sobject, version, record))


@api.patch("/services/data/{version}/sobjects/{sobject}/{record_id}")
async def update(version: str, sobject: str, record_id: str, request: Request, store: Store) -> Response:
    if (problem := _unknown(sobject)) is not None:
        return problem
    record = store.get(NAME, sobject, record_id)
    if record is None:
        return error(404, "NOT_FOUND", "The requested resource does not exist")
    fields = await _changes(request, sobject)
    if isinstance(fields, Response):
        return fields
    _update(store, sobject, record, fields)
    return _answer(204)


def _by_external_id(store: Records, sobject: str, field: str, value: str) -> list[dict[str, Any]] | Response:
    if field not in _EXTERNAL_IDS.get(sobject, set()):
        message = f"Provided external ID field does not exist or is not accessible: {field}"
        return error(404, "NOT_FOUND", message)
    return [record for record in store.all(NAME, sobject) if record.get(field) == value]


@api.get("/services/data/{version}/sobjects/{sobject}/{field}/{value}")
def read_by_external_id(version: str, sobject: str, field: str, value: str, store: Store) -> Response:
    if (problem := _unknown(sobject)) is not None:
        return problem
    found = _by_external_id(store, sobject, field, value)
    if isinstance(found, Response):
        return found
    if not found:
        return error(404, "NOT_FOUND", "The requested resource does not exist")
    if len(found) > 1:
        return _answer(300, [f"/services/data/{version}/sobjects/{sobject}/{r['Id']}" for r in found])
    return _answer(200, _full(sobject, version, found[0]))


@api.patch("/services/data/{version}/sobjects/{sobject}/{field}/{value}")
async def upsert(
    version: str, sobject: str, field: str, value: str, request: Request, store: Store
) -> Response:
    if (problem := _unknown(sobject)) is not None:
        return problem
    found = _by_external_id(store, sobject, field, value)
    if isinstance(found, Response):
        return found
    fields = await _changes(request, sobject)
    if isinstance(fields, Response):
        return fields
    if fields.get(field, value) != value:
        return error(400, "INVALID_FIELD", f"{field} in the body does not match the URL", [field])
    fields[field] = value
    if len(found) > 1:
        return _answer(300, [f"/services/data/{version}/sobjects/{sobject}/{r['Id']}" for r in found])
    if found:
        record = _update(store, sobject, found[0], fields)
        return _answer(200, {"id": record["Id"], "success": True, "errors": [], "created": False})
    record = _insert(store, sobject, fields)
    return _answer(201, {"id": record["Id"], "success": True, "errors": [], "created": True})


# --- SOQL subset -----------------------------------------------------------------------------------

_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>\w+)\s*(?P<op>!=|=|LIKE\b)\s*"
    r"(?P<value>'(?:[^'\\]|\\.)*'|null\b|true\b|false\b|-?\d+(?:\.\d+)?)\s*(?P<rest>(?:AND\b.*)?)$",
    re.IGNORECASE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class _MalformedQuery(Exception):
    pass


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
    lowered = text.lower()
    if lowered in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[lowered]
    return float(text) if "." in text else int(text)


def _conditions(where: str) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    rest = where
    while rest.strip():
        match = _CONDITION.match(rest)
        if match is None:
            raise _MalformedQuery(f"unexpected token near '{rest.strip()[:40]}'")
        found.append((match["field"], match["op"].upper(), _literal(match["value"])))
        rest = re.sub(r"^AND\b", "", match["rest"], flags=re.IGNORECASE)
        if match["rest"] and not rest.strip():
            raise _MalformedQuery("unexpected end of query after AND")
    return found


def _matches(record: dict[str, Any], field: str, op: str, value: Any) -> bool:
    actual = record.get(field)
    if op == "LIKE":
        pattern = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(value))
        return (
            actual is not None and re.fullmatch(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
        )
    if isinstance(value, str) and isinstance(actual, str):  # SOQL compares text case-insensitively
        equal = actual.lower() == value.lower()
    else:
        equal = actual == value
    return equal if op == "=" else not equal


def _run(store: Records, soql: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The object, the selected fields and every matching record of a SOQL query."""
    parsed = _SOQL.match(soql)
    if parsed is None:
        raise _MalformedQuery("expecting SELECT ... FROM ...")
    sobject = next((name for name in _FIELDS if name.lower() == parsed["sobject"].lower()), None)
    if sobject is None:
        raise _InvalidType(parsed["sobject"])
    fields = [field.strip() for field in parsed["fields"].split(",")]
    conditions = _conditions(parsed["where"] or "")
    order = parsed["order"]
    for field in [*fields, *(c[0] for c in conditions), *([order] if order else [])]:
        if field not in _FIELDS[sobject]:
            raise _InvalidField(field, sobject)
    rows = [r for r in store.all(NAME, sobject) if all(_matches(r, *c) for c in conditions)]
    if order:
        rows.sort(key=lambda r: (r.get(order) is None, r.get(order) or ""))
        if (parsed["direction"] or "").upper() == "DESC":
            rows.reverse()
    if parsed["limit"] is not None:
        rows = rows[: int(parsed["limit"])]
    return sobject, fields, rows


class _InvalidType(Exception):
    pass


class _InvalidField(Exception):
    pass


def _locator(soql: str) -> str:
    return base64.urlsafe_b64encode(soql.encode()).decode().rstrip("=")


def _soql(locator: str) -> str:
    return base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()


def _query_page(store: Records, version: str, soql: str, offset: int) -> Response:
    try:
        sobject, fields, rows = _run(store, soql)
    except _MalformedQuery as exc:
        return error(400, "MALFORMED_QUERY", str(exc))
    except _InvalidType as exc:
        message = f"sObject type '{exc}' is not supported."
        return error(400, "INVALID_TYPE", message)
    except _InvalidField as exc:
        field, sobject = exc.args
        return error(400, "INVALID_FIELD", f"No such column '{field}' on entity '{sobject}'.")
    batch = rows[offset : offset + QUERY_BATCH_SIZE]
    done = offset + len(batch) >= len(rows)
    body: dict[str, Any] = {
        "totalSize": len(rows),
        "done": done,
        "records": [
            {"attributes": _attributes(sobject, version, r["Id"]), **{f: r.get(f) for f in fields}}
            for r in batch
        ],
    }
    if not done:
        body["nextRecordsUrl"] = f"/services/data/{version}/query/{_locator(soql)}-{offset + len(batch)}"
    return _answer(200, body)


@api.get("/services/data/{version}/query/")
@api.get("/services/data/{version}/query")
def query(version: str, store: Store, q: str = "") -> Response:
    return _query_page(store, version, q, 0)


@api.get("/services/data/{version}/query/{locator}")
def query_more(version: str, locator: str, store: Store) -> Response:
    cursor, _, offset = locator.rpartition("-")
    try:
        soql, start = _soql(cursor), int(offset)
    except ValueError:
        return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _query_page(store, version, soql, start)


router.include_router(api)

# --- vendor ----------------------------------------------------------------------------------------

ACCOUNTS = [
    {
        "Name": "Acme Corp",
        "Industry": "Manufacturing",
        "Website": "https://acme.example.com",
        "Phone": "555-0100",
    },
    {"Name": "Globex", "Industry": "Energy", "Website": "https://globex.example.com", "Phone": "555-0101"},
    {
        "Name": "Initech",
        "Industry": "Technology",
        "Website": "https://initech.example.com",
        "Phone": "555-0102",
    },
]
CONTACTS = [
    ("Acme Corp", {"FirstName": "Wile", "LastName": "Coyote", "Email": "wile.coyote@acme.example.com"}),
    ("Acme Corp", {"FirstName": "Road", "LastName": "Runner", "Email": "road.runner@acme.example.com"}),
    ("Globex", {"FirstName": "Hank", "LastName": "Scorpio", "Email": "hank.scorpio@globex.example.com"}),
    ("Initech", {"FirstName": "Peter", "LastName": "Gibbons", "Email": "peter.gibbons@initech.example.com"}),
]


def _seed(store: Records) -> None:
    accounts = {account["Name"]: _insert(store, "Account", dict(account)) for account in ACCOUNTS}
    for account, contact in CONTACTS:
        _insert(store, "Contact", {**contact, "AccountId": accounts[account]["Id"]})


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_SALESFORCE_URL": endpoints.vendor_url(NAME),
        "EAS_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "EAS_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
    }


def _refusal(status: int, code: str, message: str) -> Callable[[], Response]:
    return lambda: error(status, code, message)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    # Salesforce throttles with 403 REQUEST_LIMIT_EXCEEDED and no Retry-After, whatever the fault asks.
    throttled=lambda retry_after_s: error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    failed=lambda status: error(status, "SERVER_UNAVAILABLE", "Service temporarily unavailable (injected)"),
    unauthorized=_refusal(401, "INVALID_SESSION_ID", "Session expired or invalid"),
    seed=_seed,
)
