"""ADP Workforce Now APIs (``/hr/v2/workers``, ``/payroll/v1/.../pay-statements``) and ADP's token
endpoint (``/auth/oauth/v2/token``), behind mutual TLS.

ADP requires its client certificate on every call, the token call included, so every route here
refuses a call that did not arrive on the sandbox's mTLS port (the plain port serves the other
vendors): the connector's settings point at ``endpoints.vendor_url("adp", mtls=True)``. The token
call is OAuth 2.0 client credentials (id/secret as Basic or form fields) answering
``access_token``/``token_type``/``expires_in``; APIs want ``Authorization: Bearer``. Workers page
with OData ``$top``/``$skip`` and an empty page is 204 (what third-party clients stop on; ADP's own
end-of-list signal is unconfirmed). Pay statements need the ``roleCode`` header (400 without it).
API errors use ADP's ``confirmMessage`` shape, the token endpoint OAuth's ``{"error",
"error_description"}``. The workers are the demo company of :mod:`eas_sandbox.vendors.bamboohr`.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor
from eas_sandbox.vendors.bamboohr import PEOPLE, work_email

NAME = "adp"
CLIENT_ID = "sandbox-adp-client-7d1e0c4b"
CLIENT_SECRET = "sandbox-adp-secret-52a9f3e8b6c1"
TOKEN_TTL_S = 3600
MAX_TOP = 100
"""Unconfirmed: ADP's largest ``$top``; the emulator caps a page at this and defaults to it."""

SALARIES = {
    "VP Operations": 210000,
    "Director of Engineering": 195000,
    "Director of Finance": 185000,
    "Engineering Manager": 165000,
    "Finance Manager": 140000,
    "Software Engineer": 130000,
    "Data Analyst": 105000,
    "Support Engineer": 85000,
    "Accountant": 82000,
    "AP Specialist": 62000,
}
PAY_DATES = ("2026-01-02", "2026-01-16", "2026-01-30", "2026-02-13")
"""Biweekly pay dates seeded for everyone (newest last)."""


def associate_oid(first: str, last: str) -> str:
    """A stable ADP-like associate OID (16 characters, ``G3A1`` + 12 of a hash)."""
    return "G3A1" + hashlib.sha1(f"{first} {last}".encode()).hexdigest()[:12].upper()


def confirm_message(status: int, message: str, method: str = "GET") -> dict[str, Any]:
    """ADP's API error body."""
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "confirmMessage": {
            "confirmMessageID": {"idValue": str(uuid.uuid4())},
            "createDateTime": now,
            "requestReceiptDateTime": now,
            "protocolStatusCode": {"codeValue": str(status)},
            "requestMethodCode": {"codeValue": method},
            "requestStatusCode": {"codeValue": "failed"},
            "resourceMessages": [
                {
                    "resourceStatusCode": {"codeValue": "failed"},
                    "processMessages": [
                        {
                            "processMessageID": {"idValue": str(uuid.uuid4())},
                            "messageTypeCode": {"codeValue": "error"},
                            "userMessage": {"messageTxt": message},
                        }
                    ],
                }
            ],
        }
    }


def error(status: int, message: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    return JSONResponse(confirm_message(status, message, method), status_code=status, headers=headers)


def oauth_error(status: int, code: str, description: str) -> Response:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


def over_mtls(request: Request) -> bool:
    """Whether the call arrived on the sandbox's mutual-TLS port (so it carried a client certificate)."""
    server = request.scope.get("server") or (None, None)
    return request.app.state.mtls_port is not None and server[1] == request.app.state.mtls_port


class MutualTLSRoute(APIRoute):
    """Every ADP route: a call that did not come over mutual TLS is refused before anything else."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            if not over_mtls(request):
                # Unconfirmed: what ADP's gateway answers a call without its certificate (the TLS
                # handshake itself may fail there). The emulator answers 403 in the confirmMessage shape.
                message = "A client certificate issued by ADP is required on every call."
                return error(403, message, method=request.method)
            return await handler(request)

        return guarded


def bearer(request: Request, store: Store) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    stored = store.get(NAME, "tokens", token)
    if stored is None or stored["expires_at"] < time.time():
        raise NotAuthenticated()


router = APIRouter(route_class=MutualTLSRoute)
AUTH = [Depends(bearer)]


@router.post("/auth/oauth/v2/token")
async def token(request: Request, store: Store) -> Response:
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
        except ValueError:
            return oauth_error(401, "invalid_client", "Malformed Basic credentials")
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
        return oauth_error(401, "invalid_client", "The given client credentials were not valid")
    access_token = str(uuid.uuid4())
    store.put(NAME, "tokens", access_token, {"expires_at": time.time() + TOKEN_TTL_S})
    return JSONResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S, "scope": "api"},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/hr/v2/workers", dependencies=AUTH)
def workers(request: Request, store: Store) -> Response:
    try:
        top = min(int(request.query_params.get("$top", MAX_TOP)), MAX_TOP)
        skip = int(request.query_params.get("$skip", 0))
    except ValueError:
        return error(400, "$top and $skip must be integers")
    if top < 1 or skip < 0:
        return error(400, "$top must be positive and $skip not negative")
    page = [row["worker"] for row in store.all(NAME, "workers")][skip : skip + top]
    if not page:
        return Response(status_code=204)
    return JSONResponse({"workers": page})


@router.get("/hr/v2/workers/{aoid}", dependencies=AUTH)
def worker(aoid: str, store: Store) -> Response:
    row = store.get(NAME, "workers", aoid)
    if row is None:
        return error(404, f"Worker {aoid} was not found.")
    return JSONResponse({"workers": [row["worker"]]})


def _role_code(request: Request) -> Response | None:
    if not request.headers.get("roleCode"):
        return error(400, "The roleCode header is required (for example practitioner).")
    return None


@router.get("/payroll/v1/workers/{aoid}/pay-statements", dependencies=AUTH)
def pay_statements(aoid: str, request: Request, store: Store, numberoflastpaydates: int = 5) -> Response:
    if (missing := _role_code(request)) is not None:
        return missing
    row = store.get(NAME, "workers", aoid)
    if row is None:
        return error(404, f"Worker {aoid} was not found.")
    statements = sorted(row["payStatements"], key=lambda s: s["payDate"], reverse=True)
    summaries = [
        {key: value for key, value in s.items() if key not in ("earnings", "deductions")}
        for s in statements[: max(numberoflastpaydates, 0)]
    ]
    if not summaries:
        return Response(status_code=204)
    return JSONResponse({"payStatements": summaries})


@router.get("/payroll/v1/workers/{aoid}/pay-statements/{statement_id}", dependencies=AUTH)
def pay_statement(aoid: str, statement_id: str, request: Request, store: Store) -> Response:
    if (missing := _role_code(request)) is not None:
        return missing
    row = store.get(NAME, "workers", aoid)
    found = None if row is None else next((s for s in row["payStatements"] if s["id"] == statement_id), None)
    if found is None:
        return error(404, f"Pay statement {statement_id} was not found for worker {aoid}.")
    return JSONResponse({"payStatement": found})


def _money(value: float) -> dict[str, Any]:
    return {"amountValue": round(value, 2), "currencyCode": "USD"}


def _statements(aoid: str, title: str) -> list[dict[str, Any]]:
    gross = SALARIES.get(title, 75000) / 26
    statements = []
    for n, pay_date in enumerate(PAY_DATES):
        statement_id = f"{aoid[-6:]}{n + 1:04d}"
        tax, benefits = gross * 0.22, gross * 0.06
        statements.append(
            {
                "id": statement_id,
                "payDate": pay_date,
                "payPeriod": {
                    "startDate": (date.fromisoformat(pay_date) - timedelta(days=18)).isoformat(),
                    "endDate": (date.fromisoformat(pay_date) - timedelta(days=5)).isoformat(),
                },
                "grossPayAmount": _money(gross),
                "netPayAmount": _money(gross - tax - benefits),
                "totalHours": 80,
                "payDetailUri": {"href": f"/payroll/v1/workers/{aoid}/pay-statements/{statement_id}"},
                "statementImageUri": {"href": f"/l2/v1/workers/{aoid}/pay-statements/{statement_id}/images"},
                "earnings": [{"earningCodeName": "Regular", "earningAmount": _money(gross), "payRate": None}],
                "deductions": [
                    {"deductionCodeName": "Federal Income Tax", "deductionAmount": _money(tax)},
                    {"deductionCodeName": "Medical Pre-Tax", "deductionAmount": _money(benefits)},
                ],
            }
        )
    return statements


def seed(records: Records) -> None:
    """The demo company as ADP workers, each with four biweekly pay statements."""
    for n, person in enumerate(PEOPLE):
        first, last = person["first"], person["last"]
        aoid = associate_oid(first, last)
        boss = person["supervisor"]
        reports_to = []
        if boss is not None:
            boss_first, boss_last = boss.split()
            reports_to = [
                {
                    "associateOID": associate_oid(boss_first, boss_last),
                    "reportsToWorkerName": {"formattedName": f"{boss_last}, {boss_first}"},
                }
            ]
        worker_body = {
            "associateOID": aoid,
            "workerID": {"idValue": f"E{1001 + n}"},
            "person": {
                "legalName": {"givenName": first, "familyName1": last, "formattedName": f"{last}, {first}"},
                "communication": {"emails": [{"emailUri": f"{first.lower()}{n}@personal.example.net"}]},
            },
            "businessCommunication": {
                "emails": [{"nameCode": {"codeValue": "Work E-mail"}, "emailUri": work_email(first, last)}]
            },
            "workerDates": {"originalHireDate": person["hired"]},
            "workerStatus": {"statusCode": {"codeValue": "Active"}},
            "workAssignments": [
                {
                    "itemID": f"{aoid[-8:]}A1",
                    "primaryIndicator": True,
                    "jobTitle": person["title"],
                    "homeOrganizationalUnits": [
                        {
                            "nameCode": {"codeValue": person["department"]},
                            "typeCode": {"codeValue": "Department"},
                        }
                    ],
                    "reportsTo": reports_to,
                    "payCycleCode": {"codeValue": "04", "shortName": "Biweekly"},
                }
            ],
        }
        records.put(
            NAME,
            "workers",
            aoid,
            {"worker": worker_body, "payStatements": _statements(aoid, person["title"])},
        )


def _env(endpoints: Endpoints) -> dict[str, str]:
    base = endpoints.vendor_url(NAME, mtls=True)
    return {
        "EAS_ADP_URL": base,
        "EAS_ADP_TOKEN_URL": f"{base}/auth/oauth/v2/token",
        "EAS_ADP_CLIENT_ID": CLIENT_ID,
        "EAS_ADP_CLIENT_SECRET": CLIENT_SECRET,
        "EAS_ADP_CLIENT_CERT": str(endpoints.client_cert_path),
        "EAS_ADP_CLIENT_KEY": str(endpoints.client_key_path),
    }


def _throttled(retry_after_s: float | None) -> Response:
    # ADP publishes no limits; the emulator throttles with 429 (+ Retry-After) in its error shape.
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "Too many requests; slow down.", headers)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def not_found(rest: str, request: Request) -> Response:
    return error(404, f"No resource at /{rest}", method=request.method)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "The service is temporarily unavailable."),
    unauthorized=lambda: error(401, "Invalid or expired access token."),
    seed=seed,
)
