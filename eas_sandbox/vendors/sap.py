"""SAP S/4HANA Cloud OData V2 APIs: purchase orders, supplier invoices, suppliers.

Serves ``/sap/opu/odata/sap/<SERVICE>/`` for ``API_PURCHASEORDER_PROCESS_SRV`` (``A_PurchaseOrder``
with ``to_PurchaseOrderItem``, ``A_PurchaseOrderItem``), ``API_SUPPLIERINVOICE_PROCESS_SRV``
(``A_SupplierInvoice`` with ``to_SuplrInvcItemPurOrdRef``, ``A_SuplrInvcItemPurOrdRef``) and
``API_BUSINESS_PARTNER`` (``A_Supplier``), and, read-only, the logistics services the operations agent
reads: ``API_MATERIAL_STOCK_SRV`` (``A_MatlStkInAcctMod``), ``API_MATERIAL_DOCUMENT_SRV``
(``A_MaterialDocumentItem``), ``API_INFORECORD_PROCESS_SRV`` (``A_PurchasingInfoRecord`` with
``to_PurgInfoRecdOrgPlantData``), ``API_INBOUND_DELIVERY_SRV;v=0002`` (``A_InbDeliveryHeader`` with
``to_DeliveryDocumentItem``) and a plant master (``API_PLANT_SRV``, name unconfirmed); each with a
``$metadata`` EDMX document that ``pyodata`` parses. Only the properties EAS uses are declared.

What the real Gateway does and this emulator copies: Basic auth of a communication user; CSRF (a GET/HEAD with
``x-csrf-token: Fetch`` answers a token bound to the session cookie; a write without that token and cookie is
refused with 403 and ``x-csrf-token: Required``); JSON wrapped in ``{"d": ...}`` (collections in
``d.results``); ``$top``/``$skip``/``$inlinecount=allpages`` (``d.__count``); server-side paging with
``d.__next`` carrying ``$skiptoken`` after :data:`SERVER_PAGE_SIZE` rows; ``$filter`` with ``eq``, ``ne``,
``gt``, ``ge``, ``lt``, ``le`` on typed literals (``'text'``, numbers, ``datetime'...'``,
``datetimeoffset'...'``, ``true``/``false``) compared in each property's Edm type, joined by ``and`` and
``or`` (``and`` binds tighter; parentheses group), anything else answering 400 (:mod:`.odata_filter`);
``$expand`` of the declared navigation properties; deep
insert of purchase orders and supplier invoices; the SAP error body
``{"error": {"code", "message": {"lang", "value"}, "innererror": {"transactionid", "errordetails"}}}``.

Choices where the public sources are silent (unconfirmed, kept deliberately simple):

- A purchase order is *closed* when every item carries ``IsFinallyInvoiced = true`` (the "final invoice"
  indicator of ``A_PurchaseOrderItem``); the seed closes PO-10005 that way.
- The *invoiced amount* of a PO is not a field: it is the sum of ``SupplierInvoiceItemAmount`` of the
  ``A_SuplrInvcItemPurOrdRef`` rows (invoice items referencing the PO) of posted supplier invoices, which is
  what the connector reads. Nothing is invoiced in the seed.
- The duplicate-invoice check (configurable in a real system) is on: a second invoice with the same
  ``InvoicingParty`` and ``SupplierInvoiceIDByInvcgParty`` is refused with 400 and message ``M8/108``.
- ``CorrespncExternalReference`` is limited to 12 characters, as in the real API.
- Purchase orders created without a number get internal numbers 45000000nn (after the seeded ones, which use
  external numbers: PO-10001...). Supplier invoices are numbered 5105600001 upwards, fiscal year = the year of
  ``DocumentDate``. Message codes other than M8/108 are illustrative.
- Logistics (unconfirmed where noted): the carrier's tracking number of an inbound delivery is its
  ``BillOfLading``; an inbound delivery item names its PO in ``ReferenceSDDocument``; the plant master is
  served as ``API_PLANT_SRV``/``A_Plant``; material document items are a set of their own (SAP also reaches
  them through ``A_MaterialDocumentHeader``). Stock keys are a subset of SAP's (no special stocks are seeded).
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from eas_sandbox.state import Body, RecordExists, Records
from eas_sandbox.vendor import Endpoints, NotAuthenticated, Store, Vendor
from eas_sandbox.vendors.odata_filter import (
    Conjunction,
    Filter,
    Term,
    matches,
    parse_filter,
    string_equalities,
)
from eas_sandbox.vendors.sap_logistics import seed_logistics

NAME = "sap"
USER, PASSWORD = "EAS_COMM_USER", "sandbox-sap-password"
ODATA_ROOT = "/sap/opu/odata/sap"
SERVER_PAGE_SIZE = 100
"""Rows per response before the server pages with ``__next`` (tests lower it)."""
SESSION_COOKIE = "SAP_SESSIONID_EAS_100"
PO_SERVICE = "API_PURCHASEORDER_PROCESS_SRV"
INVOICE_SERVICE = "API_SUPPLIERINVOICE_PROCESS_SRV"
PARTNER_SERVICE = "API_BUSINESS_PARTNER"
STOCK_SERVICE = "API_MATERIAL_STOCK_SRV"
MATERIAL_DOCUMENT_SERVICE = "API_MATERIAL_DOCUMENT_SRV"
INFO_RECORD_SERVICE = "API_INFORECORD_PROCESS_SRV"
INBOUND_DELIVERY_SERVICE = "API_INBOUND_DELIVERY_SRV;v=0002"
PLANT_SERVICE = "API_PLANT_SRV"  # unconfirmed: the plant master's API name


@dataclass(frozen=True)
class EntityType:
    """One entity set of a service: keys, declared properties (name -> Edm type), 1:n navigations."""

    keys: tuple[str, ...]
    properties: dict[str, str]
    navigation: dict[str, str] = field(default_factory=dict)
    """navigation property -> target entity set (multiplicity ``*``)"""
    parent: tuple[str, str] | None = None
    """(parent entity set, navigation) when the rows are stored inside their parent (items)."""
    creatable: bool = False


S, D, T, B = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.Boolean"

SERVICES: dict[str, dict[str, EntityType]] = {
    PO_SERVICE: {
        "A_PurchaseOrder": EntityType(
            keys=("PurchaseOrder",),
            properties={
                "PurchaseOrder": S,
                "CompanyCode": S,
                "PurchaseOrderType": S,
                "Supplier": S,
                "PurchasingOrganization": S,
                "PurchasingGroup": S,
                "DocumentCurrency": S,
                "PurchaseOrderDate": T,
                "CorrespncExternalReference": S,
            },
            navigation={"to_PurchaseOrderItem": "A_PurchaseOrderItem"},
            creatable=True,
        ),
        "A_PurchaseOrderItem": EntityType(
            keys=("PurchaseOrder", "PurchaseOrderItem"),
            properties={
                "PurchaseOrder": S,
                "PurchaseOrderItem": S,
                "PurchaseOrderItemText": S,
                "Material": S,
                "Plant": S,
                "OrderQuantity": D,
                "PurchaseOrderQuantityUnit": S,
                "NetPriceAmount": D,
                "DocumentCurrency": S,
                "IsFinallyInvoiced": B,
            },
            parent=("A_PurchaseOrder", "to_PurchaseOrderItem"),
        ),
    },
    INVOICE_SERVICE: {
        "A_SupplierInvoice": EntityType(
            keys=("SupplierInvoice", "FiscalYear"),
            properties={
                "SupplierInvoice": S,
                "FiscalYear": S,
                "CompanyCode": S,
                "DocumentDate": T,
                "PostingDate": T,
                "SupplierInvoiceIDByInvcgParty": S,
                "InvoicingParty": S,
                "DocumentCurrency": S,
                "InvoiceGrossAmount": D,
                "DocumentHeaderText": S,
                "SupplierInvoiceStatus": S,
                "ReverseDocument": S,
                "ReverseDocumentFiscalYear": S,
            },
            navigation={"to_SuplrInvcItemPurOrdRef": "A_SuplrInvcItemPurOrdRef"},
            creatable=True,
        ),
        "A_SuplrInvcItemPurOrdRef": EntityType(
            keys=("SupplierInvoice", "FiscalYear", "SupplierInvoiceItem"),
            properties={
                "SupplierInvoice": S,
                "FiscalYear": S,
                "SupplierInvoiceItem": S,
                "PurchaseOrder": S,
                "PurchaseOrderItem": S,
                "DocumentCurrency": S,
                "SupplierInvoiceItemAmount": D,
                "QuantityInPurchaseOrderUnit": D,
                "PurchaseOrderQuantityUnit": S,
            },
            parent=("A_SupplierInvoice", "to_SuplrInvcItemPurOrdRef"),
        ),
    },
    PARTNER_SERVICE: {
        "A_Supplier": EntityType(keys=("Supplier",), properties={"Supplier": S, "SupplierName": S}),
    },
    # Stock per plant and storage location. SAP's key also holds Supplier, Customer, WBSElementInternalID,
    # SDDocument, SDDocumentItem and InventorySpecialStockType (special stocks); none is seeded here.
    STOCK_SERVICE: {
        "A_MatlStkInAcctMod": EntityType(
            keys=("Material", "Plant", "StorageLocation", "Batch", "InventoryStockType"),
            properties={
                "Material": S,
                "Plant": S,
                "StorageLocation": S,
                "Batch": S,
                "InventoryStockType": S,
                "MatlWrhsStkQtyInMatlBaseUnit": D,
                "MaterialBaseUnit": S,
            },
        ),
    },
    # Material document items (goods movements) read on their own, not through A_MaterialDocumentHeader.
    MATERIAL_DOCUMENT_SERVICE: {
        "A_MaterialDocumentItem": EntityType(
            keys=("MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"),
            properties={
                "MaterialDocumentYear": S,
                "MaterialDocument": S,
                "MaterialDocumentItem": S,
                "Material": S,
                "Plant": S,
                "StorageLocation": S,
                "GoodsMovementType": S,
                "PostingDate": T,
                "QuantityInEntryUnit": D,
                "EntryUnit": S,
                "DebitCreditCode": S,
            },
        ),
    },
    INFO_RECORD_SERVICE: {
        "A_PurchasingInfoRecord": EntityType(
            keys=("PurchasingInfoRecord",),
            properties={"PurchasingInfoRecord": S, "Supplier": S, "Material": S},
            navigation={"to_PurgInfoRecdOrgPlantData": "A_PurgInfoRecdOrgPlantData"},
        ),
        "A_PurgInfoRecdOrgPlantData": EntityType(
            keys=("PurchasingInfoRecord", "PurchasingInfoRecordCategory", "PurchasingOrganization", "Plant"),
            properties={
                "PurchasingInfoRecord": S,
                "PurchasingInfoRecordCategory": S,
                "PurchasingOrganization": S,
                "Plant": S,
                "NetPriceAmount": D,
                "Currency": S,
                "MaterialPlannedDeliveryDurn": D,
                "StandardPurchaseOrderQuantity": D,
                "MinimumPurchaseOrderQuantity": D,
            },
            parent=("A_PurchasingInfoRecord", "to_PurgInfoRecdOrgPlantData"),
        ),
    },
    INBOUND_DELIVERY_SERVICE: {
        "A_InbDeliveryHeader": EntityType(
            keys=("DeliveryDocument",),
            properties={
                "DeliveryDocument": S,
                "Supplier": S,
                "ReceivingPlant": S,
                "BillOfLading": S,  # unconfirmed: where the carrier's tracking number is kept
                "DeliveryDate": T,
                "ActualGoodsMovementDate": T,
                "OverallGoodsMovementStatus": S,
            },
            navigation={"to_DeliveryDocumentItem": "A_InbDeliveryItem"},
        ),
        "A_InbDeliveryItem": EntityType(
            keys=("DeliveryDocument", "DeliveryDocumentItem"),
            properties={
                "DeliveryDocument": S,
                "DeliveryDocumentItem": S,
                "Material": S,
                "Plant": S,
                "ActualDeliveryQuantity": D,
                "DeliveryQuantityUnit": S,
                "ReferenceSDDocument": S,  # the purchase order
                "ReferenceSDDocumentItem": S,
            },
            parent=("A_InbDeliveryHeader", "to_DeliveryDocumentItem"),
        ),
    },
    PLANT_SERVICE: {
        "A_Plant": EntityType(keys=("Plant",), properties={"Plant": S, "PlantName": S}),
    },
}

SUPPLIERS: dict[str, str] = {
    "17300001": "Acme Corp",
    "17300002": "Globex",
    "17300003": "Initech Ltd",
    "17300004": "Hooli",
    "17300005": "Umbrella Supplies",
    "17300006": "Stark Industries",
    "17300007": "Northwind Traders",
    "17300008": "Contoso Ltd",
    "17300009": "Fabrikam",
    "17300010": "Keystone Office Supply",
    "17300011": "Atlas Paper Co",
}
"""Supplier number -> SupplierName (``A_Supplier``)."""

PURCHASE_ORDERS: list[dict[str, Any]] = [
    {"po": "PO-10001", "supplier": "Acme Corp", "amount": "50000.00", "currency": "USD",
     "text": "Office hardware, FY framework order"},
    {"po": "PO-10002", "supplier": "Globex", "amount": "8000.00", "currency": "USD",
     "text": "Logistics services"},
    {"po": "PO-10003", "supplier": "Initech Ltd", "amount": "25000.00", "currency": "USD",
     "text": "Software licences"},
    {"po": "PO-10004", "supplier": "Hooli", "amount": "120000.00", "currency": "USD",
     "text": "Cloud infrastructure, annual"},
    {"po": "PO-10005", "supplier": "Umbrella Supplies", "amount": "5000.00", "currency": "USD",
     "text": "Safety equipment", "closed": True},
    {"po": "PO-10006", "supplier": "Stark Industries", "amount": "15000.00", "currency": "USD",
     "text": "Engineering components"},
    {"po": "PO-10007", "supplier": "Northwind Traders", "amount": "3500.00", "currency": "USD",
     "text": "Catering supplies"},
    {"po": "PO-10008", "supplier": "Contoso Ltd", "amount": "60000.00", "currency": "USD",
     "text": "IT consulting"},
    {"po": "PO-10009", "supplier": "Fabrikam", "amount": "20000.00", "currency": "EUR",
     "text": "Manufacturing parts"},
    {"po": "PO-10010", "supplier": "Acme Corp", "amount": "2000.00", "currency": "USD",
     "text": "Office hardware accessories"},
    {"po": "PO-10011", "supplier": "Keystone Office Supply", "amount": "4000.00", "currency": "USD",
     "text": "Office supplies"},
    {"po": "PO-10012", "supplier": "Atlas Paper Co", "amount": "1500.00", "currency": "USD",
     "text": "Copy paper"},
]  # fmt: skip
"""The seeded open purchase orders (one item each, quantity 1); ``closed``: every item finally invoiced."""


# --- wire helpers -----------------------------------------------------------------------------------------


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The Gateway's JSON error body."""
    transaction = uuid.uuid4().hex.upper()
    body = {
        "error": {
            "code": code,
            "message": {"lang": "en", "value": message},
            "innererror": {
                "transactionid": transaction,
                "timestamp": datetime.now(UTC).strftime("%Y%m%d%H%M%S.%f"),
                "errordetails": [
                    {"code": code, "message": message, "propertyref": "", "severity": "error", "target": ""}
                ],
            },
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def odata_date(value: datetime) -> str:
    """``/Date(<ms since epoch>)/``, the OData V2 JSON form of ``Edm.DateTime``."""
    return f"/Date({int(value.replace(tzinfo=UTC).timestamp() * 1000)})/"


def _date_year(value: Any) -> str | None:
    match = re.fullmatch(r"/Date\((-?\d+)(?:[+-]\d+)?\)/", str(value))
    if match is None:
        return None
    return str(datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).year)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"'{value}' is not a decimal") from exc


def authenticated(request: Request) -> None:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    if request.headers.get("authorization") != expected:
        raise NotAuthenticated()


router = APIRouter(dependencies=[Depends(authenticated)])


# --- $metadata --------------------------------------------------------------------------------------------


def namespace(service: str) -> str:
    """The schema namespace of ``service``: its name without a version (``API_INBOUND_DELIVERY_SRV;v=0002``
    is served under that path, its types are ``API_INBOUND_DELIVERY_SRV.*``)."""
    return service.split(";", 1)[0]


def metadata(service: str) -> str:
    """A minimal EDMX (OData V2) document of ``service``: types, associations, one container."""
    types = SERVICES[service]
    ns = namespace(service)
    schema: list[str] = []
    container: list[str] = []
    for set_name, entity in types.items():
        keys = "".join(f'<PropertyRef Name="{k}"/>' for k in entity.keys)
        props = []
        for prop, edm in entity.properties.items():
            extra = ' Precision="16" Scale="3"' if edm == D else ""
            extra += ' Precision="0" sap:display-format="Date"' if edm == T else ""
            nullable = "false" if prop in entity.keys else "true"
            props.append(f'<Property Name="{prop}" Type="{edm}" Nullable="{nullable}"{extra}/>')
        navs = []
        for nav, target in entity.navigation.items():
            assoc = f"assoc_{set_name}_{nav}"
            navs.append(
                f'<NavigationProperty Name="{nav}" Relationship="{ns}.{assoc}" '
                f'FromRole="FromRole_{assoc}" ToRole="ToRole_{assoc}"/>'
            )
            schema.append(
                f'<Association Name="{assoc}">'
                f'<End Type="{ns}.{set_name}Type" Multiplicity="1" Role="FromRole_{assoc}"/>'
                f'<End Type="{ns}.{target}Type" Multiplicity="*" Role="ToRole_{assoc}"/>'
                "</Association>"
            )
            container.append(
                f'<AssociationSet Name="{assoc}_set" Association="{ns}.{assoc}">'
                f'<End EntitySet="{set_name}" Role="FromRole_{assoc}"/>'
                f'<End EntitySet="{target}" Role="ToRole_{assoc}"/>'
                "</AssociationSet>"
            )
        schema.insert(
            0,
            f'<EntityType Name="{set_name}Type"><Key>{keys}</Key>'
            f"{''.join(props)}{''.join(navs)}</EntityType>",
        )
        creatable = "true" if entity.creatable else "false"
        container.insert(
            0,
            f'<EntitySet Name="{set_name}" EntityType="{ns}.{set_name}Type" sap:creatable="{creatable}" '
            'sap:updatable="false" sap:deletable="false"/>',
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'xmlns:sap="http://www.sap.com/Protocols/SAPData">'
        '<edmx:DataServices m:DataServiceVersion="2.0">'
        f'<Schema Namespace="{escape(ns)}" xml:lang="en" sap:schema-version="1" '
        'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
        + "".join(schema)
        + f'<EntityContainer Name="{ns}_Entities" m:IsDefaultEntityContainer="true">'
        + "".join(container)
        + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )


# --- CSRF -------------------------------------------------------------------------------------------------


def _fetch_token(request: Request, store: Records, response: Response) -> Response:
    """Answer a token (bound to the session cookie) when the GET/HEAD asked ``x-csrf-token: Fetch``."""
    if request.headers.get("x-csrf-token", "").lower() != "fetch":
        return response
    session = request.cookies.get(SESSION_COOKIE) or secrets.token_urlsafe(24)
    token = base64.b64encode(secrets.token_bytes(16)).decode()
    store.put(NAME, "csrf", session, {"token": token})
    response.headers["x-csrf-token"] = token
    response.set_cookie(SESSION_COOKIE, session, path="/", httponly=True, secure=True)
    return response


def _csrf_refused(request: Request, store: Records) -> Response | None:
    """The Gateway's answer to a write without the session's token (plain text, as SAP sends it)."""
    session = request.cookies.get(SESSION_COOKIE)
    stored = store.get(NAME, "csrf", session) if session else None
    token = request.headers.get("x-csrf-token")
    if stored is not None and token and secrets.compare_digest(stored["token"], token):
        return None
    return Response(
        "CSRF token validation failed",
        status_code=403,
        media_type="text/plain",
        headers={"x-csrf-token": "Required"},
    )


# --- reading ----------------------------------------------------------------------------------------------


_SEGMENT = re.compile(r"^(?P<set>\w+)(?:\((?P<key>.*)\))?$")
_KEY_PART = re.compile(r"(?:(\w+)=)?'((?:[^']|'')*)'")


def _parse_key(entity: EntityType, text: str) -> dict[str, str] | None:
    parts = [(name, value.replace("''", "'")) for name, value in _KEY_PART.findall(text)]
    if len(parts) != len(entity.keys):
        return None
    if len(parts) == 1 and not parts[0][0]:
        return {entity.keys[0]: parts[0][1]}
    found = dict(parts)
    return found if set(found) == set(entity.keys) else None


def _parse_filter(entity: EntityType, text: str) -> Filter:
    """``$filter`` over the entity type's declared properties (see :mod:`.odata_filter`)."""
    return parse_filter(entity.properties, text)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _containment(entity: EntityType, conjunction: Conjunction) -> Body:
    """What a stored document must contain to satisfy ``conjunction`` (``{}``: nothing can be said).

    Only the non-empty ``Edm.String eq`` terms go in (:func:`.odata_filter.string_equalities`): those
    properties are stored as JSON strings (see :func:`_with_strings`), so text equality is JSON equality;
    ranges, ``ne``, decimals, dates, booleans and '' are left to :func:`.odata_filter.matches`. Rows stored
    inside their parent are looked for as an element of the parent's navigation array.
    """
    wanted: Body = dict(string_equalities(conjunction))
    if not wanted or entity.parent is None:
        return wanted
    return {entity.parent[1]: [wanted]}


def _candidates(store: Records, service: str, set_name: str, conditions: Filter) -> list[dict[str, Any]]:
    """The rows of a set that may match, in creation order: PostgreSQL narrows, ``matches`` decides.

    One containment query (one alternative per conjunction) costs the rows it finds, where reading the
    whole set costs every invoice ever posted; the set is read whole only when some conjunction has no
    string term to narrow by.
    """
    entity = SERVICES[service][set_name]
    stored_set, nav = entity.parent or (set_name, "")
    documents = [_containment(entity, conjunction) for conjunction in conditions]
    if not all(documents):
        stored = store.all(NAME, stored_set)
    elif len(documents) == 1:
        stored = store.find(NAME, stored_set, documents[0])
    else:
        stored = store.find(NAME, stored_set, any_of=documents)
    if entity.parent is None:
        return stored
    return [child for parent in stored for child in parent.get(nav, [])]


def _selected(store: Records, service: str, set_name: str, conditions: Filter) -> list[dict[str, Any]]:
    return [row for row in _candidates(store, service, set_name, conditions) if matches(row, conditions)]


def _by_key(store: Records, service: str, set_name: str, key: dict[str, str]) -> dict[str, Any] | None:
    """The first row whose key properties read as ``key`` (each part also narrows the query)."""
    rows = _candidates(store, service, set_name, [tuple(Term(k, "eq", v, S) for k, v in key.items())])
    return next((r for r in rows if all(str(r.get(k)) == v for k, v in key.items())), None)


def _service_root(request: Request, service: str) -> str:
    prefix = str(request.url).split(f"{ODATA_ROOT}/{service}/", 1)[0]
    return f"{prefix}{ODATA_ROOT}/{service}/"


def _key_string(entity: EntityType, row: dict[str, Any]) -> str:
    if len(entity.keys) == 1:
        return "('{}')".format(str(row.get(entity.keys[0], "")).replace("'", "''"))
    return "({})".format(
        ",".join(f"{k}='{str(row.get(k, '')).replace(chr(39), chr(39) * 2)}'" for k in entity.keys)
    )


def _default(edm: str) -> Any:
    return {S: "", D: "0", B: False}.get(edm)


def _entity(root: str, service: str, set_name: str, row: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    entity = SERVICES[service][set_name]
    uri = f"{root}{set_name}{_key_string(entity, row)}"
    kind = f"{namespace(service)}.{set_name}Type"
    out: dict[str, Any] = {"__metadata": {"id": uri, "uri": uri, "type": kind}}
    for prop, edm in entity.properties.items():
        out[prop] = row.get(prop, _default(edm))
    for nav, target in entity.navigation.items():
        if nav in expand:
            out[nav] = {
                "results": [_entity(root, service, target, child, set()) for child in row.get(nav, [])]
            }
        else:
            out[nav] = {"__deferred": {"uri": f"{uri}/{nav}"}}
    return out


def _unknown_service(service: str) -> Response | None:
    if service in SERVICES:
        return None
    return error(
        404, "/IWFND/MED/170", f"No service found for namespace '', name '{service}', version '0001'"
    )


@router.api_route(ODATA_ROOT + "/{service}/", methods=["GET", "HEAD"])
def service_document(service: str, request: Request, store: Store) -> Response:
    if (problem := _unknown_service(service)) is not None:
        return problem
    body = {"d": {"EntitySets": list(SERVICES[service])}}
    return _fetch_token(request, store, JSONResponse(body))


@router.api_route(ODATA_ROOT + "/{service}/{segment}", methods=["GET", "HEAD"])
def read(service: str, segment: str, request: Request, store: Store) -> Response:
    if (problem := _unknown_service(service)) is not None:
        return problem
    if segment == "$metadata":
        return _fetch_token(request, store, Response(metadata(service), media_type="application/xml"))
    match = _SEGMENT.match(segment)
    entity = SERVICES[service].get(match.group("set")) if match else None
    if match is None or entity is None:
        return error(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{segment}'")
    set_name = match.group("set")
    params = request.query_params
    expand = set(filter(None, params.get("$expand", "").split(",")))
    if unknown := expand - set(entity.navigation):
        return error(400, "/IWBEP/CM_MGW_RT/005", f"Property '{sorted(unknown)[0]}' is invalid")
    root = _service_root(request, service)

    if match.group("key") is not None:
        key = _parse_key(entity, match.group("key"))
        if key is None:
            return error(400, "/IWBEP/CM_MGW_RT/004", f"Invalid key predicate in '{segment}'")
        row = _by_key(store, service, set_name, key)
        if row is None:
            return error(404, "/IWBEP/CM_MGW_RT/020", f"Resource not found for segment '{set_name}Type'")
        return _fetch_token(
            request, store, JSONResponse({"d": _entity(root, service, set_name, row, expand)})
        )

    try:
        conditions = _parse_filter(entity, params.get("$filter", ""))
        skip = int(params.get("$skip", 0))
        top = int(params["$top"]) if "$top" in params else None
        token = int(params.get("$skiptoken", 0))
    except ValueError as exc:
        return error(400, "/IWBEP/CM_MGW_RT/022", f"Invalid system query option or filter: {exc}")
    selected = _selected(store, service, set_name, conditions)
    window = selected[skip : None if top is None else skip + top]
    page = window[token : token + SERVER_PAGE_SIZE]
    d: dict[str, Any] = {"results": [_entity(root, service, set_name, r, expand) for r in page]}
    if params.get("$inlinecount") == "allpages":
        d["__count"] = str(len(selected))
    if token + SERVER_PAGE_SIZE < len(window):
        d["__next"] = str(request.url.include_query_params(**{"$skiptoken": token + SERVER_PAGE_SIZE}))
    return _fetch_token(request, store, JSONResponse({"d": d}))


# --- writing ----------------------------------------------------------------------------------------------


def _check_properties(service: str, set_name: str, body: dict[str, Any]) -> str | None:
    entity = SERVICES[service][set_name]
    for name, value in body.items():
        if name == "__metadata":
            continue
        if name in entity.navigation:
            if not isinstance(value, list):
                return f"Navigation property '{name}' must be an array in a deep insert"
            for child in value:
                if not isinstance(child, dict):
                    return f"Navigation property '{name}' must hold entities"
                if (problem := _check_properties(service, entity.navigation[name], child)) is not None:
                    return problem
        elif name not in entity.properties:
            return f"Property '{name}' is invalid"
    return None


def _with_strings(service: str, set_name: str, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (and the rows of its navigations) with each ``Edm.String`` value a JSON string.

    A client may send ``"CompanyCode": 1010``; stored as a number it would match ``CompanyCode eq '1010'``
    in ``matches`` but not the containment query that narrows the read (JSON types differ). The
    Gateway answers strings for such properties anyway.
    """
    entity = SERVICES[service][set_name]
    stored: dict[str, Any] = {}
    for name, value in row.items():
        if name in entity.navigation:
            value = [_with_strings(service, entity.navigation[name], child) for child in value]
        elif entity.properties.get(name) == S and value is not None:
            value = _literal(value)
        stored[name] = value
    return stored


def _create_purchase_order(root: str, body: dict[str, Any], store: Records) -> Response:
    supplier = str(body.get("Supplier", ""))
    if store.get(NAME, "A_Supplier", supplier) is None:
        return error(400, "06/307", f"Supplier {supplier} does not exist")
    if len(str(body.get("CorrespncExternalReference", ""))) > 12:
        return error(400, "/IWBEP/CM_MGW_RT/007", "CorrespncExternalReference exceeds 12 characters")
    items = body.get("to_PurchaseOrderItem") or []
    if not items:
        return error(400, "06/073", "Enter at least one item")
    number = str(body.get("PurchaseOrder") or 4500000000 + store.count(NAME, "A_PurchaseOrder") + 1)
    currency = str(body.get("DocumentCurrency") or "USD")
    order = {
        **{k: v for k, v in body.items() if k != "__metadata"},
        "PurchaseOrder": number,
        "DocumentCurrency": currency,
        "PurchaseOrderDate": body.get("PurchaseOrderDate") or odata_date(datetime.now(UTC)),
        "to_PurchaseOrderItem": [],
    }
    for n, item in enumerate(items, start=1):
        try:
            quantity, price = _decimal(item.get("OrderQuantity", "1")), _decimal(item.get("NetPriceAmount"))
        except ValueError as exc:
            return error(400, "/IWBEP/CM_MGW_RT/006", f"Invalid value: {exc}")
        order["to_PurchaseOrderItem"].append(
            {
                **{k: v for k, v in item.items() if k != "__metadata"},
                "PurchaseOrder": number,
                "PurchaseOrderItem": str(item.get("PurchaseOrderItem") or f"{10 * n:05d}"),
                "OrderQuantity": f"{quantity:.3f}",
                "NetPriceAmount": f"{price:.2f}",
                "DocumentCurrency": currency,
                "IsFinallyInvoiced": bool(item.get("IsFinallyInvoiced", False)),
            }
        )
    order = _with_strings(PO_SERVICE, "A_PurchaseOrder", order)
    try:
        store.insert(NAME, "A_PurchaseOrder", order, key=number)
    except RecordExists:
        return error(400, "06/018", f"Purchase order {number} already exists")
    return _created(root, PO_SERVICE, "A_PurchaseOrder", order)


def _create_supplier_invoice(root: str, body: dict[str, Any], store: Records) -> Response:
    party = str(body.get("InvoicingParty", ""))
    if store.get(NAME, "A_Supplier", party) is None:
        return error(400, "M8/152", f"Invoicing party {party} does not exist")
    reference = str(body.get("SupplierInvoiceIDByInvcgParty", ""))
    same = {"InvoicingParty": party, "SupplierInvoiceIDByInvcgParty": reference}
    if earlier := store.find(NAME, "A_SupplierInvoice", same, limit=1):
        existing = earlier[0]
        return error(
            400,
            "M8/108",
            "Check if invoice already entered under accounting doc. no. "
            f"{existing['SupplierInvoice']} {existing['FiscalYear']}",
        )
    year = _date_year(body.get("DocumentDate"))
    if year is None:
        return error(400, "/IWBEP/CM_MGW_RT/006", "DocumentDate must be an Edm.DateTime")
    try:
        gross = _decimal(body.get("InvoiceGrossAmount"))
    except ValueError as exc:
        return error(400, "/IWBEP/CM_MGW_RT/006", f"Invalid value: {exc}")
    number = str(5105600000 + store.count(NAME, "A_SupplierInvoice") + 1)
    currency = str(body.get("DocumentCurrency") or "")
    invoice = {
        **{k: v for k, v in body.items() if k != "__metadata"},
        "SupplierInvoice": number,
        "FiscalYear": year,
        "InvoiceGrossAmount": f"{gross:.2f}",
        "PostingDate": body.get("PostingDate") or odata_date(datetime.now(UTC)),
        "SupplierInvoiceStatus": "5",
        "to_SuplrInvcItemPurOrdRef": [],
    }
    for n, item in enumerate(body.get("to_SuplrInvcItemPurOrdRef") or [], start=1):
        po = store.get(NAME, "A_PurchaseOrder", str(item.get("PurchaseOrder", "")))
        if po is None:
            return error(400, "M8/011", f"Purchase order {item.get('PurchaseOrder')} does not exist")
        try:
            amount = _decimal(item.get("SupplierInvoiceItemAmount"))
        except ValueError as exc:
            return error(400, "/IWBEP/CM_MGW_RT/006", f"Invalid value: {exc}")
        invoice["to_SuplrInvcItemPurOrdRef"].append(
            {
                **{k: v for k, v in item.items() if k != "__metadata"},
                "SupplierInvoice": number,
                "FiscalYear": year,
                "SupplierInvoiceItem": str(item.get("SupplierInvoiceItem") or f"{n:06d}"),
                "PurchaseOrderItem": str(item.get("PurchaseOrderItem") or "00010"),
                "DocumentCurrency": currency,
                "SupplierInvoiceItemAmount": f"{amount:.2f}",
            }
        )
    invoice = _with_strings(INVOICE_SERVICE, "A_SupplierInvoice", invoice)
    store.insert(NAME, "A_SupplierInvoice", invoice, key=f"{number}/{year}")
    return _created(root, INVOICE_SERVICE, "A_SupplierInvoice", invoice)


def _created(root: str, service: str, set_name: str, row: dict[str, Any]) -> Response:
    entity = SERVICES[service][set_name]
    body = _entity(root, service, set_name, row, set(entity.navigation))
    return JSONResponse({"d": body}, status_code=201, headers={"Location": body["__metadata"]["uri"]})


def _function_parameter(request: Request, name: str) -> str:
    """A function import's parameter from the query string: ``'text'`` unquoted, ``datetime'..'`` kept."""
    raw = request.query_params.get(name, "")
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    return raw


def _cancel_supplier_invoice(request: Request, store: Records) -> Response:
    """Function import ``Cancel``: reverse a posted supplier invoice (a reversal document is posted).

    Answers ``d.Cancel`` with ``ReverseDocument`` and ``FiscalYear``; the original keeps its row and
    shows ``ReverseDocument``/``ReverseDocumentFiscalYear``. A second cancel is refused as SAP does.
    Parameter names, answer shape and message numbers: unconfirmed (SAP's public API names).
    """
    number = _function_parameter(request, "SupplierInvoice")
    year = _function_parameter(request, "FiscalYear")
    if not number or not year:
        return error(400, "/IWBEP/CM_MGW_RT/022", "Parameters SupplierInvoice and FiscalYear are required")
    invoice = store.get(NAME, "A_SupplierInvoice", f"{number}/{year}")
    if invoice is None:
        return error(404, "M8/012", f"Invoice document {number} {year} does not exist")
    if invoice.get("ReverseDocument"):
        return error(
            400,
            "M8/263",
            f"Invoice document {number} {year} was already reversed by {invoice['ReverseDocument']}",
        )
    reverse = str(5105700000 + store.count(NAME, "reversals") + 1)
    store.insert(
        NAME,
        "reversals",
        {
            "ReverseDocument": reverse,
            "FiscalYear": year,
            "SupplierInvoice": number,
            "ReversalReason": _function_parameter(request, "ReversalReason"),
            "PostingDate": _function_parameter(request, "PostingDate"),
        },
        key=f"{reverse}/{year}",
    )
    invoice.update(ReverseDocument=reverse, ReverseDocumentFiscalYear=year)
    store.put(NAME, "A_SupplierInvoice", f"{number}/{year}", invoice)
    return JSONResponse({"d": {"Cancel": {"ReverseDocument": reverse, "FiscalYear": year}}})


@router.post(ODATA_ROOT + "/{service}/{segment}")
async def create(service: str, segment: str, request: Request, store: Store) -> Response:
    if (problem := _unknown_service(service)) is not None:
        return problem
    if (refused := _csrf_refused(request, store)) is not None:
        return refused
    if service == INVOICE_SERVICE and segment == "Cancel":
        return _cancel_supplier_invoice(request, store)
    entity = SERVICES[service].get(segment)
    if entity is None:
        return error(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{segment}'")
    if not entity.creatable:
        return error(405, "/IWBEP/CM_MGW_RT/101", f"Method 'CREATE_ENTITY' not implemented for '{segment}'")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "/IWBEP/CX_MGW_TECH_EXCEPTION", "Malformed JSON request body")
    if not isinstance(body, dict):
        return error(400, "/IWBEP/CX_MGW_TECH_EXCEPTION", "The request body is not a JSON object")
    if (problem := _check_properties(service, segment, body)) is not None:
        return error(400, "/IWBEP/CM_MGW_RT/005", problem)
    root = _service_root(request, service)
    if segment == "A_PurchaseOrder":
        return _create_purchase_order(root, body, store)
    return _create_supplier_invoice(root, body, store)


# --- the vendor -------------------------------------------------------------------------------------------


def seed(records: Records) -> None:
    """The suppliers, the open purchase orders of :data:`PURCHASE_ORDERS` (closed: PO-10005) and the
    logistics data of :mod:`eas_sandbox.vendors.sap_logistics` (plants, stock, movements, deliveries)."""
    numbers = {name: number for number, name in SUPPLIERS.items()}
    for number, name in SUPPLIERS.items():
        records.put(NAME, "A_Supplier", number, {"Supplier": number, "SupplierName": name})
    for po in PURCHASE_ORDERS:
        order = {
            "PurchaseOrder": po["po"],
            "CompanyCode": "1010",
            "PurchaseOrderType": "NB",
            "Supplier": numbers[po["supplier"]],
            "PurchasingOrganization": "1010",
            "PurchasingGroup": "001",
            "DocumentCurrency": po["currency"],
            "PurchaseOrderDate": odata_date(datetime(2025, 1, 15)),
            "CorrespncExternalReference": "",
            "to_PurchaseOrderItem": [
                {
                    "PurchaseOrder": po["po"],
                    "PurchaseOrderItem": "00010",
                    "PurchaseOrderItemText": po["text"],
                    "Plant": "1010",
                    "OrderQuantity": "1.000",
                    "PurchaseOrderQuantityUnit": "EA",
                    "NetPriceAmount": po["amount"],
                    "DocumentCurrency": po["currency"],
                    "IsFinallyInvoiced": bool(po.get("closed", False)),
                }
            ],
        }
        records.put(NAME, "A_PurchaseOrder", po["po"], order)
    seed_logistics(lambda collection, key, row: records.put(NAME, collection, key, row))


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_SAP_URL": endpoints.vendor_url(NAME),
        "EAS_SAP_USER": USER,
        "EAS_SAP_PASSWORD": PASSWORD,
    }


def _throttled(retry_after_s: float | None) -> Response:
    # No published limits (unconfirmed): SAP's API Management in front of S/4HANA Cloud answers 429.
    headers = {} if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return error(429, "/IWFND/CM_CONSUMER/429", "Rate limit exceeded", headers)


def _unauthorized() -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="SAP NetWeaver Application Server [EAS/100]"'}
    return error(401, "/IWFND/CM_CONSUMER/401", "Logon failed", headers)


VENDOR = Vendor(
    name=NAME,
    router=router,
    env=_env,
    throttled=_throttled,
    failed=lambda status: error(status, "/IWFND/CM_BEC/026", "SAP system failure (injected)"),
    unauthorized=_unauthorized,
    seed=seed,
)
