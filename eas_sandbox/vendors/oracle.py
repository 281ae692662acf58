"""Oracle Fusion Cloud Financials REST (``/fscmRestApi/resources/11.13.18.05/``): invoices, suppliers.

Basic auth; the collection envelope ``{items, count, hasMore, limit, offset, links}`` (``totalResults`` with
``totalResults=true``), ``limit`` (default 25, at most 500) and ``offset``; ``POST`` only with
``Content-Type: application/vnd.oracle.adf.resourceitem+json`` (else 415); errors in the framework-version-4
shape ``{"title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}``.

Choices where the public sources are silent (unconfirmed):

- ``q`` accepts both the version-1 query-by-example form (``InvoiceNumber=INV-1;Supplier=Acme Corp``) and the
  version-2+ rowmatch form restricted to equality (``InvoiceNumber = 'INV-1' and Supplier = 'Acme Corp'``);
  the emulator answers in framework-version-4 shapes whatever ``REST-Framework-Version`` says.
- ``invoicesUniqID`` is the ``InvoiceId`` itself; ``expand=invoiceLines`` nests the lines as a collection
  (``{"items": [...], "count", "hasMore", ...}``, the version-3+ form).
- A second invoice with the same ``InvoiceNumber`` for the same supplier is refused with 400 and error code
  ``AP-810159`` (the code is illustrative); throttling is 429 + ``Retry-After`` (no published limits).
- A 401 has an empty body and ``WWW-Authenticate: Basic``, as Fusion's gateway answers.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor

NAME = "oracle"
USER, PASSWORD = "eas.integration", "sandbox-oracle-password"
BASE = "/fscmRestApi/resources/11.13.18.05"
DEFAULT_LIMIT, MAX_LIMIT = 25, 500
ITEM_TYPE = "application/vnd.oracle.adf.resourceitem+json"
ERROR_TYPE = "application/vnd.oracle.adf.error+json"
DUPLICATE_INVOICE_CODE = "AP-810159"
FIRST_ID = 300100000000000

SUPPLIERS = [
    ("Acme Corp", "1001"),
    ("Globex", "1002"),
    ("Initech Ltd", "1003"),
    ("Hooli", "1004"),
    ("Umbrella Supplies", "1005"),
    ("Stark Industries", "1006"),
    ("Northwind Traders", "1007"),
    ("Contoso Ltd", "1008"),
    ("Fabrikam", "1009"),
    ("Keystone Office Supply", "1010"),
    ("Atlas Paper Co", "1011"),
]
"""The seeded suppliers (name, SupplierNumber): the same vendors as the SAP emulator's."""

QUERYABLE = {
    "invoices": {
        "InvoiceId", "InvoiceNumber", "InvoiceCurrency", "InvoiceAmount", "InvoiceDate", "BusinessUnit",
        "Supplier", "SupplierNumber", "SupplierSite", "InvoiceGroup", "ValidationStatus", "ApprovalStatus",
    },
    "suppliers": {"SupplierId", "Supplier", "SupplierNumber", "Status", "BusinessRelationship"},
}  # fmt: skip
"""Attributes ``q`` may name, per resource."""

TITLES = {400: "Bad Request", 404: "Not Found", 415: "Unsupported Media Type", 429: "Too Many Requests"}


def error(status: int, detail: str, code: str = "", headers: dict[str, str] | None = None) -> Response:
    """A framework-version-4 error body."""
    body = {
        "title": TITLES.get(status, "Internal Server Error" if status < 503 else "Service Unavailable"),
        "status": str(status),
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=ERROR_TYPE)


def authenticated(request: Request) -> None:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    if request.headers.get("authorization") != expected:
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])

_TERM = re.compile(r"\s*(\w+)\s*=\s*(?:'((?:[^']|'')*)'|([^;']*?))\s*(?=;|\s+and\s+|$)", re.IGNORECASE)
_JOIN = re.compile(r";|\s+and\s+", re.IGNORECASE)


def parse_q(text: str) -> list[tuple[str, str]]:
    """Equality terms of ``q`` (version-1 ``A=x;B=y`` or rowmatch ``A = 'x' and B = 'y'``)."""
    terms: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TERM.match(text, pos)
        if match is None:
            raise ValueError(text)
        value = match.group(2).replace("''", "'") if match.group(2) is not None else match.group(3)
        terms.append((match.group(1), value))
        pos = match.end()
        if pos < len(text):
            joined = _JOIN.match(text, pos)
            if joined is None:
                raise ValueError(text)
            pos = joined.end()
    return terms


def _self_url(request: Request, resource: str, key: Any) -> str:
    return f"{str(request.base_url).rstrip('/')}/{NAME}{BASE}/{resource}/{key}"


def _item(request: Request, resource: str, row: dict[str, Any], key: str, expand: bool) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "invoiceLines"}
    href = _self_url(request, resource, row[key])
    if "invoiceLines" in row:
        lines = row["invoiceLines"]
        if expand:
            out["invoiceLines"] = {
                "items": lines,
                "count": len(lines),
                "hasMore": False,
                "limit": 25,
                "offset": 0,
            }
        out["links"] = [
            {"rel": "self", "href": href, "name": resource, "kind": "item"},
            {
                "rel": "child",
                "href": f"{href}/child/invoiceLines",
                "name": "invoiceLines",
                "kind": "collection",
            },
        ]
    else:
        out["links"] = [{"rel": "self", "href": href, "name": resource, "kind": "item"}]
    return out


def _list(request: Request, store: Records, resource: str, key: str) -> Response:
    params = request.query_params
    try:
        terms = parse_q(params.get("q", ""))
        limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        offset = int(params.get("offset", 0))
    except ValueError:
        return error(400, f"URL request parameter q with value {params.get('q', '')} isn't valid.", "q")
    rows = store.all(NAME, resource)
    if unknown := {attr for attr, _ in terms} - QUERYABLE[resource]:
        return error(400, f"The attribute {sorted(unknown)[0]} in the q parameter isn't queryable.", "q")
    selected = [row for row in rows if all(str(row.get(attr, "")) == value for attr, value in terms)]
    page = selected[offset : offset + limit]
    expand = "invoiceLines" in params.get("expand", "") or params.get("expand") == "all"
    body: dict[str, Any] = {
        "items": [_item(request, resource, row, key, expand) for row in page],
        "count": len(page),
        "hasMore": offset + len(page) < len(selected),
        "limit": limit,
        "offset": offset,
        "links": [{"rel": "self", "href": str(request.url), "name": resource, "kind": "collection"}],
    }
    if params.get("totalResults", "").lower() == "true":
        body["totalResults"] = len(selected)
    return JSONResponse(body)


async def _payload(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != ITEM_TYPE:
        return error(415, f"The request media type must be {ITEM_TYPE}.", "415")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "The request payload isn't valid JSON.", "payload")
    return (
        body if isinstance(body, dict) else error(400, "The request payload isn't a JSON object.", "payload")
    )


def _amount(value: Any) -> float:
    try:
        return float(Decimal(str(value)))
    except InvalidOperation as exc:
        raise ValueError(f"The value {value} isn't a number.") from exc


@router.get(f"{BASE}/invoices")
def list_invoices(request: Request, store: Store) -> Response:
    return _list(request, store, "invoices", "InvoiceId")


@router.get(f"{BASE}/invoices/{{invoice_id}}")
def get_invoice(invoice_id: str, request: Request, store: Store) -> Response:
    row = store.get(NAME, "invoices", invoice_id)
    if row is None:
        return error(404, f"The requested resource invoices/{invoice_id} doesn't exist.", "404")
    expand = "invoiceLines" in request.query_params.get("expand", "")
    return JSONResponse(_item(request, "invoices", row, "InvoiceId", expand))


@router.post(f"{BASE}/invoices")
async def create_invoice(request: Request, store: Store) -> Response:
    body = await _payload(request)
    if isinstance(body, Response):
        return body
    for required in ("InvoiceNumber", "InvoiceCurrency", "InvoiceAmount", "BusinessUnit", "Supplier"):
        if not body.get(required):
            return error(400, f"The attribute {required} is required.", "required")
    supplier = next((s for s in store.all(NAME, "suppliers") if s["Supplier"] == body["Supplier"]), None)
    if supplier is None:
        return error(400, f"The value of the attribute Supplier isn't valid: {body['Supplier']}.", "Supplier")
    for existing in store.all(NAME, "invoices"):
        if existing["Supplier"] == body["Supplier"] and existing["InvoiceNumber"] == body["InvoiceNumber"]:
            detail = f"The invoice number {body['InvoiceNumber']} already exists for this supplier."
            return error(400, detail, DUPLICATE_INVOICE_CODE)
    invoice_id = FIRST_ID + store.count(NAME, "invoices") + 1
    try:
        lines = [
            {
                "LineNumber": int(line.get("LineNumber") or n),
                "LineType": line.get("LineType", "Item"),
                "LineAmount": _amount(line.get("LineAmount")),
                "Description": line.get("Description"),
                "PurchaseOrderNumber": line.get("PurchaseOrderNumber"),
            }
            for n, line in enumerate(body.get("invoiceLines") or [], start=1)
        ]
        amount = _amount(body["InvoiceAmount"])
    except (ValueError, AttributeError) as exc:
        return error(400, str(exc), "number")
    invoice = {
        "InvoiceId": invoice_id,
        "InvoiceNumber": body["InvoiceNumber"],
        "InvoiceCurrency": body["InvoiceCurrency"],
        "InvoiceAmount": amount,
        "InvoiceDate": body.get("InvoiceDate") or datetime.now(UTC).date().isoformat(),
        "BusinessUnit": body["BusinessUnit"],
        "Supplier": body["Supplier"],
        "SupplierNumber": supplier["SupplierNumber"],
        "SupplierSite": body.get("SupplierSite"),
        "InvoiceGroup": body.get("InvoiceGroup"),
        "Description": body.get("Description"),
        "InvoiceType": body.get("InvoiceType", "Standard"),
        "ValidationStatus": "Not validated",
        "ApprovalStatus": "Required",
        "PaidStatus": "Unpaid",
        "CreationDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "invoiceLines": lines,
    }
    store.insert(NAME, "invoices", invoice, key=str(invoice_id))
    return JSONResponse(_item(request, "invoices", invoice, "InvoiceId", True), status_code=201)


@router.get(f"{BASE}/suppliers")
def list_suppliers(request: Request, store: Store) -> Response:
    return _list(request, store, "suppliers", "SupplierId")


@router.get(f"{BASE}/suppliers/{{supplier_id}}")
def get_supplier(supplier_id: str, request: Request, store: Store) -> Response:
    row = store.get(NAME, "suppliers", supplier_id)
    if row is None:
        return error(404, f"The requested resource suppliers/{supplier_id} doesn't exist.", "404")
    return JSONResponse(_item(request, "suppliers", row, "SupplierId", False))


def _supplier_record(supplier_id: int, name: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "SupplierId": supplier_id,
        "SupplierPartyId": supplier_id + 1,
        "Supplier": name,
        "SupplierNumber": number,
        "TaxOrganizationType": body.get("TaxOrganizationType", "Corporation"),
        "SupplierType": body.get("SupplierType", "Supplier"),
        "BusinessRelationship": body.get("BusinessRelationship", "SPEND_AUTHORIZED"),
        "Status": "ACTIVE",
    }


@router.post(f"{BASE}/suppliers")
async def create_supplier(request: Request, store: Store) -> Response:
    body = await _payload(request)
    if isinstance(body, Response):
        return body
    for required in ("Supplier", "TaxOrganizationType", "BusinessRelationship"):
        if not body.get(required):
            return error(400, f"The attribute {required} is required.", "required")
    existing = store.all(NAME, "suppliers")
    if any(s["Supplier"] == body["Supplier"] for s in existing):
        return error(400, f"The supplier {body['Supplier']} already exists.", "POZ-2130119")
    supplier_id = FIRST_ID + 50000 + 2 * len(existing)
    number = str(1001 + len(existing))
    record = _supplier_record(supplier_id, body["Supplier"], number, body)
    store.insert(NAME, "suppliers", record, key=str(supplier_id))
    return JSONResponse(_item(request, "suppliers", record, "SupplierId", False), status_code=201)


def seed(records: Records) -> None:
    """The suppliers of :data:`SUPPLIERS`; no invoices."""
    for n, (name, number) in enumerate(SUPPLIERS):
        supplier_id = FIRST_ID + 50000 + 2 * n
        records.put(NAME, "suppliers", str(supplier_id), _supplier_record(supplier_id, name, number, {}))


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_ORACLE_URL": endpoints.vendor_url(NAME),
        "EAS_ORACLE_USER": USER,
        "EAS_ORACLE_PASSWORD": PASSWORD,
    }


def _throttled(retry_after_s: float | None) -> Response:
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "The number of requests exceeds the allowed limit.", "429", headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "The service is temporarily unavailable (injected).", str(status)),
    unauthorized=lambda: Response(
        status_code=401, headers={"WWW-Authenticate": 'Basic realm="Oracle Fusion"'}
    ),
    seed=seed,
)
