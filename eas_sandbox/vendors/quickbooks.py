"""QuickBooks Online Accounting API v3 (``/v3/company/{realmId}/...``): bills, vendors, expenses, queries.

The subset EAS's connector uses, shaped as Intuit documents it: OAuth 2.0 refresh-token grant at
``/oauth2/v1/tokens/bearer`` (form body, client id and secret as Basic), then ``Authorization: Bearer``
on every call; ``minorversion`` accepted on each call; ``POST /bill|vendor|purchase`` (``?requestid=``:
a resend returns the original response, Intuit's idempotency); ``GET /{entity}/{id}``; the query
language (``SELECT * FROM Bill WHERE ... ORDERBY ... STARTPOSITION n MAXRESULTS m``, ``COUNT(*)``) by
``GET /query?query=`` or ``POST /query`` with ``Content-Type: application/text``.

Errors are ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}, "time"}``; like
the real service, one validation answer (a bill's duplicate ``DocNumber``, code 6210) comes as a Fault
inside an HTTP **200**, so a client must look for ``Fault`` in every body. Throttling is 429 **without**
``Retry-After`` (Intuit says: wait 60 s). Only the successful answers of ``requestid`` calls are kept
for resends (unconfirmed what Intuit keeps for failures).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import RecordExists, Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "quickbooks"
REALM_ID = "9341453050000001"
CLIENT_ID = "ABsandboxQuickBooksClientId0001"
CLIENT_SECRET = "sandbox-quickbooks-client-secret"
REFRESH_TOKEN = "AB11sandbox-quickbooks-refresh-token"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
ACCESS_TOKEN_TTL_S = 3600
MAX_RESULTS = 1000

SEED_VENDORS = ["Acme Corp", "Globex", "Initech Ltd", "Hooli", "Stark Industries", "Contoso Ltd", "Fabrikam"]
SEED_ACCOUNTS = [
    ("Checking", "Bank", "Checking"),
    ("Mastercard", "Credit Card", "CreditCard"),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("Office Supplies", "Expense", "SuppliesMaterials"),
    ("Professional Fees", "Expense", "LegalProfessionalFees"),
    ("Software Subscriptions", "Expense", "OtherMiscellaneousServiceCost"),
    ("Travel", "Expense", "Travel"),
    ("Meals and Entertainment", "Expense", "EntertainmentMeals"),
]
ENTITIES = {"bill": "Bill", "vendor": "Vendor", "purchase": "Purchase", "account": "Account"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000-00:00")


def fault(
    status: int,
    code: str,
    message: str,
    detail: str = "",
    *,
    kind: str = "ValidationFault",
    element: str = "",
) -> Response:
    error = {"Message": message, "Detail": detail or message, "code": code}
    if element:
        error["element"] = element
    return JSONResponse({"Fault": {"Error": [error], "type": kind}, "time": _now()}, status_code=status)


def _unauthorized() -> Response:
    # Intuit's 401 uses lower-case keys, unlike its other faults.
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired or invalid",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": _now(),
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="Intuit"'})


def _throttled(retry_after_s: float | None) -> Response:
    # No Retry-After header, whatever the injected fault asks: QuickBooks never sends one.
    return fault(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.",
        kind="ValidationFault",
    )


def _failed(status: int) -> Response:
    return fault(
        status,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: injected fault",
        kind="SystemFault",
    )


def authenticated(request: Request, store: Store) -> None:
    header = request.headers.get("authorization", "")
    token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    grant = store.get(NAME, "tokens", token) if token else None
    if grant is None or grant["expires_at"] < datetime.now(UTC).timestamp():
        raise NotAuthenticated()


router = APIRouter()
api = APIRouter(dependencies=[Depends(authenticated)])


@router.post(TOKEN_PATH)
async def token(request: Request, store: Store) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))  # no python-multipart here
    grant_type = (form.get("grant_type") or [""])[0]
    refresh_token = (form.get("refresh_token") or [""])[0]
    expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if request.headers.get("authorization") != expected:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    if grant_type != "refresh_token":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if refresh_token != REFRESH_TOKEN:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    access_token = "eyJsandbox." + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC).timestamp() + ACCESS_TOKEN_TTL_S
    store.put(NAME, "tokens", access_token, {"expires_at": expires_at})
    return JSONResponse(
        {
            "token_type": "bearer",
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_TTL_S,
            "refresh_token": REFRESH_TOKEN,
            "x_refresh_token_expires_in": 8726400,
        }
    )


def _realm_problem(realm: str) -> Response | None:
    if realm == REALM_ID:
        return None
    return fault(
        403,
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        f"The application is not authorized for company {realm}",
        kind="AuthorizationFault",
    )


def _ref_value(body: dict[str, Any], field: str) -> str:
    ref = body.get(field)
    return str(ref.get("value", "")) if isinstance(ref, dict) else ""


def _store_new(store: Records, entity: str, record: dict[str, Any]) -> dict[str, Any]:
    """Insert with an Id the emulator numbers (QuickBooks Ids are decimal strings)."""

    def numbered(seq: int) -> str:
        record["Id"] = str(seq)
        return record["Id"]

    return store.insert(NAME, entity, record, key=numbered)


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    return {**record, "SyncToken": "0", "domain": "QBO", "sparse": False, "MetaData": {"CreateTime": now}}


def _lines(store: Records, body: dict[str, Any]) -> tuple[list[dict[str, Any]], float] | Response:
    lines = body.get("Line")
    if not isinstance(lines, list) or not lines:
        return fault(
            400,
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter Line is missing in the request",
            element="Line",
        )
    total = 0.0
    out = []
    for number, line in enumerate(lines, start=1):
        detail = line.get("AccountBasedExpenseLineDetail") or {}
        account = _ref_value(detail, "AccountRef")
        if line.get("DetailType") != "AccountBasedExpenseLineDetail" or not account:
            return fault(
                400,
                "2020",
                "Required param missing, need to supply the required value for the API",
                "Required parameter Line.AccountBasedExpenseLineDetail.AccountRef is missing",
                element="Line",
            )
        if store.get(NAME, "Account", account) is None:
            return fault(
                400,
                "2500",
                "Invalid Reference Id",
                f"Invalid Reference Id : Accounts element id {account} not found",
                element="AccountRef",
            )
        try:
            amount = round(float(line.get("Amount")), 2)
        except (TypeError, ValueError):
            return fault(400, "2090", "Invalid Number", "Line.Amount is not a number", element="Amount")
        total += amount
        out.append({**line, "Id": str(number), "Amount": amount})
    return out, round(total, 2)


def _today_if_blank(value: Any) -> str:
    return str(value) if value else date.today().isoformat()


def _create_bill(store: Records, body: dict[str, Any]) -> Response:
    vendor_id = _ref_value(body, "VendorRef")
    vendor = store.get(NAME, "Vendor", vendor_id) if vendor_id else None
    if vendor is None:
        return fault(
            400,
            "2500",
            "Invalid Reference Id",
            f"Invalid Reference Id : Vendor assigned to this transaction has been deleted or does "
            f"not exist: {vendor_id or '(none)'}",
            element="VendorRef",
        )
    lines = _lines(store, body)
    if isinstance(lines, Response):
        return lines
    doc_number = str(body.get("DocNumber") or "")
    if doc_number and any(
        bill.get("DocNumber") == doc_number and _ref_value(bill, "VendorRef") == vendor_id
        for bill in store.all(NAME, "Bill")
    ):
        # Documented: some validation faults arrive with HTTP 200.
        return fault(
            200,
            "6210",
            "Duplicate Document Number Error",
            f"Duplicate Document Number Error : You must specify a different number. This number "
            f"has already been used. DocNumber={doc_number} is assigned to TxnType=Bill",
            element="DocNumber",
        )
    items, total = lines
    txn_date = _today_if_blank(body.get("TxnDate"))
    bill = _meta(
        {
            "VendorRef": {"value": vendor_id, "name": vendor["DisplayName"]},
            "APAccountRef": {"value": _ap_account(store), "name": "Accounts Payable (A/P)"},
            "Line": items,
            "TxnDate": txn_date,
            "DueDate": str(body.get("DueDate") or txn_date),
            "DocNumber": doc_number,
            "PrivateNote": str(body.get("PrivateNote") or ""),
            "TotalAmt": total,
            "Balance": total,
            "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        }
    )
    return JSONResponse({"Bill": _store_new(store, "Bill", bill), "time": _now()})


def _ap_account(store: Records) -> str:
    return next((a["Id"] for a in store.all(NAME, "Account") if a["AccountType"] == "Accounts Payable"), "")


def _create_vendor(store: Records, body: dict[str, Any]) -> Response:
    name = str(body.get("DisplayName") or body.get("CompanyName") or "").strip()
    if not name:
        return fault(
            400,
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter DisplayName is missing in the request",
            element="DisplayName",
        )
    existing = next((v for v in store.all(NAME, "Vendor") if v["DisplayName"].lower() == name.lower()), None)
    if existing is not None:
        return fault(
            400,
            "6240",
            "Duplicate Name Exists Error",
            f"The name supplied already exists. : Id={existing['Id']}",
            element="DisplayName",
        )
    keep = ("GivenName", "FamilyName", "CompanyName", "PrimaryEmailAddr", "AcctNum", "PrintOnCheckName")
    vendor = _meta(
        {
            **{key: body[key] for key in keep if body.get(key)},
            "DisplayName": name,
            "Active": True,
            "Balance": 0,
            "Vendor1099": bool(body.get("Vendor1099")),
        }
    )
    return JSONResponse({"Vendor": _store_new(store, "Vendor", vendor), "time": _now()})


def _create_purchase(store: Records, body: dict[str, Any]) -> Response:
    payment_type = body.get("PaymentType")
    if payment_type not in ("Cash", "Check", "CreditCard"):
        return fault(
            400,
            "2020",
            "Required param missing, need to supply the required value for the API",
            "PaymentType must be Cash, Check or CreditCard",
            element="PaymentType",
        )
    account = _ref_value(body, "AccountRef")
    if not account or store.get(NAME, "Account", account) is None:
        return fault(
            400,
            "2500",
            "Invalid Reference Id",
            f"Invalid Reference Id : Accounts element id {account or '(none)'} not found",
            element="AccountRef",
        )
    entity = body.get("EntityRef") if isinstance(body.get("EntityRef"), dict) else None
    if entity is not None and store.get(NAME, "Vendor", str(entity.get("value"))) is None:
        return fault(
            400,
            "2500",
            "Invalid Reference Id",
            "Invalid Reference Id : Entity not found",
            element="EntityRef",
        )
    lines = _lines(store, body)
    if isinstance(lines, Response):
        return lines
    items, total = lines
    purchase = _meta(
        {
            "PaymentType": payment_type,
            "AccountRef": {"value": account, "name": store.get(NAME, "Account", account)["Name"]},
            **({"EntityRef": {**entity, "type": "Vendor"}} if entity else {}),
            "Line": items,
            "TxnDate": _today_if_blank(body.get("TxnDate")),
            "DocNumber": str(body.get("DocNumber") or ""),
            "PrivateNote": str(body.get("PrivateNote") or ""),
            "TotalAmt": total,
            "Credit": False,
        }
    )
    return JSONResponse({"Purchase": _store_new(store, "Purchase", purchase), "time": _now()})


CREATORS = {"bill": _create_bill, "vendor": _create_vendor, "purchase": _create_purchase}


@api.post("/v3/company/{realm}/{entity}")
async def create(realm: str, entity: str, request: Request, store: Store, requestid: str = "") -> Response:
    if (problem := _realm_problem(realm)) is not None:
        return problem
    if entity == "query":
        return _query(store, (await request.body()).decode("utf-8", errors="replace"))
    creator = CREATORS.get(entity)
    if creator is None:
        return fault(400, "4000", "Unsupported Operation", f"Operation create {entity} is not supported")
    if len(requestid) > 50:
        return fault(400, "2010", "Request has invalid or unsupported property", "requestid is over 50 chars")
    if requestid:
        earlier = store.get(NAME, "requests", requestid)
        if earlier is not None:
            return JSONResponse(earlier)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return fault(400, "2010", "Request has invalid or unsupported property", "The body is not JSON")
    if body.get("Id"):
        return fault(
            400,
            "2010",
            "Request has invalid or unsupported property",
            "Updates are not emulated by the EAS sandbox",
        )
    response = creator(store, body)
    if requestid and response.status_code == 200 and b'"Fault"' not in response.body:
        with contextlib.suppress(RecordExists):  # a concurrent resend stored it first
            store.insert(NAME, "requests", _json_body(response), key=requestid)
    return response


def _json_body(response: Response) -> dict[str, Any]:
    return json.loads(bytes(response.body))


@api.get("/v3/company/{realm}/query")
def query_get(realm: str, store: Store, query: str = "") -> Response:
    if (problem := _realm_problem(realm)) is not None:
        return problem
    return _query(store, query)


@api.get("/v3/company/{realm}/{entity}/{entity_id}")
def read(realm: str, entity: str, entity_id: str, store: Store) -> Response:
    if (problem := _realm_problem(realm)) is not None:
        return problem
    name = ENTITIES.get(entity)
    record = store.get(NAME, name, entity_id) if name else None
    if record is None:
        return fault(
            400,
            "610",
            "Object Not Found",
            f"Object Not Found : Something you're trying to use has been made inactive. Check the "
            f"fields with accounts, customers, items, vendors or employees. {entity} {entity_id}",
        )
    return JSONResponse({name: record, "time": _now()})


_QUERY = re.compile(
    r"^\s*select\s+(?P<what>.+?)\s+from\s+(?P<entity>\w+)\s*(?P<rest>.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL
)
_CLAUSES = re.compile(
    r"^(?:where\s+(?P<where>.+?))?\s*(?:order\s*by\s+(?P<order>\w+(?:\.\w+)?)(?:\s+(?P<dir>asc|desc))?)?\s*"
    r"(?:startposition\s+(?P<start>\d+))?\s*(?:maxresults\s+(?P<max>\d+))?$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"(?P<field>\w+(?:\.\w+)?)\s*(?P<op><=|>=|!=|=|<|>|\blike\b|\bin\b)\s*"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\([^)]*\)|[\w.\-]+)",
    re.IGNORECASE,
)


def _literal(token: str) -> str:
    token = token.strip()
    if token.startswith("'") and token.endswith("'"):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "value" in value:  # VendorRef = '3' compares the reference's value
        value = value["value"]
    return value


def _compare(actual: Any, op: str, expected: str) -> bool:
    op = op.lower()
    if op == "in":
        return str(actual) in {_literal(v) for v in expected.strip("()").split(",")}
    if op == "like":
        pattern = "^" + re.escape(expected).replace("%", ".*") + "$"
        return re.match(pattern, str(actual or ""), re.IGNORECASE) is not None
    try:
        left: Any = float(actual)
        right: Any = float(expected)
    except (TypeError, ValueError):
        left, right = str(actual if actual is not None else ""), expected
        if op in ("=", "!="):
            left, right = left.lower(), right.lower()
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
    }[op]


def _sort_key(value: Any) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value or ""))


def _query(store: Records, text: str) -> Response:
    parsed = _QUERY.match(text or "")
    clauses = _CLAUSES.match(parsed.group("rest")) if parsed else None
    entity = next(
        (e for e in ENTITIES.values() if parsed and e.lower() == parsed.group("entity").lower()), None
    )
    if parsed is None or clauses is None or entity is None:
        return fault(
            400, "4000", "Error parsing query", f"QueryParserError: Encountered an error in {text!r}"
        )
    rows = store.all(NAME, entity)
    where = clauses.group("where")
    if where:
        conditions = _CONDITION.findall(where)
        if not conditions:
            return fault(400, "4000", "Error parsing query", f"QueryParserError: bad WHERE clause {where!r}")
        rows = [
            row
            for row in rows
            if all(
                _compare(_field(row, f), op, _literal(v) if op.lower() != "in" else v)
                for f, op, v in conditions
            )
        ]
    if parsed.group("what").strip().lower() == "count(*)":
        return JSONResponse({"QueryResponse": {"totalCount": len(rows)}, "time": _now()})
    if clauses.group("order"):
        descending = (clauses.group("dir") or "").lower() == "desc"
        rows.sort(key=lambda row: _sort_key(_field(row, clauses.group("order"))), reverse=descending)
    start = max(1, int(clauses.group("start") or 1))
    size = min(MAX_RESULTS, int(clauses.group("max") or 100))
    page = rows[start - 1 : start - 1 + size]
    answer: dict[str, Any] = {}
    if page:
        answer = {entity: page, "startPosition": start, "maxResults": len(page)}
    return JSONResponse({"QueryResponse": answer, "time": _now()})


router.include_router(api)


def _env(endpoints: Endpoints) -> dict[str, str]:
    base = endpoints.vendor_url(NAME)
    return {
        "EAS_QUICKBOOKS_URL": base,
        "EAS_QUICKBOOKS_TOKEN_URL": base + TOKEN_PATH,
        "EAS_QUICKBOOKS_CLIENT_ID": CLIENT_ID,
        "EAS_QUICKBOOKS_CLIENT_SECRET": CLIENT_SECRET,
        "EAS_QUICKBOOKS_REFRESH_TOKEN": REFRESH_TOKEN,
        "EAS_QUICKBOOKS_REALM_ID": REALM_ID,
    }


def _seed(store: Records) -> None:
    if store.count(NAME, "Vendor"):
        return
    for name, account_type, subtype in SEED_ACCOUNTS:
        account = _meta(
            {
                "Name": name,
                "FullyQualifiedName": name,
                "AccountType": account_type,
                "AccountSubType": subtype,
                "Active": True,
                "Classification": "Expense"
                if account_type == "Expense"
                else ("Liability" if account_type in ("Accounts Payable", "Credit Card") else "Asset"),
            }
        )
        _store_new(store, "Account", account)
    for name in SEED_VENDORS:
        _store_new(
            store,
            "Vendor",
            _meta(
                {
                    "DisplayName": name,
                    "CompanyName": name,
                    "PrintOnCheckName": name,
                    "Active": True,
                    "Balance": 0,
                    "Vendor1099": False,
                    "PrimaryEmailAddr": {
                        "Address": "ap@" + re.sub(r"[^a-z]", "", name.lower()) + ".example.com"
                    },
                }
            ),
        )


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=_failed,
    unauthorized=_unauthorized,
    seed=_seed,
)
