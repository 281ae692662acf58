"""SAP S/4HANA Cloud through its OData V2 APIs (``pyodata``): purchase orders, supplier invoices, suppliers.

The finance agent matches invoices against purchase orders and posts supplier invoices; this module gives it
typed answers. Each service (``API_PURCHASEORDER_PROCESS_SRV``, ``API_SUPPLIERINVOICE_PROCESS_SRV``,
``API_BUSINESS_PARTNER``) lives under ``<host>/sap/opu/odata/sap/<SERVICE>/``; its ``$metadata`` is read and
parsed once per process (:func:`_schema`: parsing it cost more CPU than the calls of a whole workflow) and
``pyodata`` builds the requests from it. Auth is a communication user with Basic auth on a
``requests.Session``, which also keeps the CSRF token and the session cookie the Gateway binds it to: writes
send the token fetched with ``x-csrf-token: Fetch``, and a 403 ``x-csrf-token: Required`` (token expired)
fetches a new one and tries once more.

pyodata raises ``HttpError`` (with ``.response``) for any unexpected status; it is translated here: 429 and
5xx are :class:`Transient` (honouring ``Retry-After``), the rest :class:`VendorRejected` with the Gateway's
own message; transport errors are transient too. Lists page with ``$top``/``$skip`` and follow the server's
``__next`` links.

SAP has no idempotency key, so creates look up before they create, inside the same attempt (a retry after a
lost answer finds the first attempt's record): purchase orders by ``CorrespncExternalReference`` (the key, or
a 12-character digest of a longer one: the field holds 12), supplier invoices by supplier and the supplier's
invoice reference, with a digest of the key in ``DocumentHeaderText`` telling a retry (same key: the existing
invoice is returned) from a second invoice with the same reference (:class:`DuplicateInvoice`).

A PO's invoiced amount is the sum of the invoice items referencing it (``A_SuplrInvcItemPurOrdRef``); its open
amount is the net amount less that, and zero once the PO is closed (every item flagged ``IsFinallyInvoiced``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import dagster as dg
import requests
from pydantic import BaseModel, Field
from pyodata.exceptions import HttpError
from pyodata.v2.model import MetadataBuilder, Schema
from pyodata.v2.service import Service

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import RETRYABLE_STATUSES, shared_adapter
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

T = TypeVar("T")

PAGE_SIZE = 100
"""``$top`` of one list request (the server may page further with ``__next``)."""
SUPPLIER_CACHE_SIZE = 4096
"""Suppliers a client remembers at most (the cache starts over when full)."""
POS_PER_QUERY = 20
"""Purchase orders whose invoiced amounts one request asks for (the ``$filter`` stays a short URL)."""
PO_SERVICE = "API_PURCHASEORDER_PROCESS_SRV"
INVOICE_SERVICE = "API_SUPPLIERINVOICE_PROCESS_SRV"
PARTNER_SERVICE = "API_BUSINESS_PARTNER"
STOCK_SERVICE = "API_MATERIAL_STOCK_SRV"
MATERIAL_DOCUMENT_SERVICE = "API_MATERIAL_DOCUMENT_SRV"
INFO_RECORD_SERVICE = "API_INFORECORD_PROCESS_SRV"
INBOUND_DELIVERY_SERVICE = "API_INBOUND_DELIVERY_SRV;v=0002"
PLANT_SERVICE = "API_PLANT_SRV"
"""Unconfirmed: the plant master's API name (VENDOR_APIS.md names none); plants are read for their names."""
GOODS_ISSUE_MOVEMENTS = frozenset({"201", "221", "261", "601"})
"""Movement types that consume stock: to a cost center, a project, a production order, a delivery."""
DUPLICATE_INVOICE_CODE = "M8/108"
"""SAP's "invoice already entered" message, answered when the duplicate-invoice check is an error."""


class DuplicateInvoice(VendorRejected):
    """The supplier's invoice reference is already posted by another request: refused, not retried."""


class Supplier(BaseModel):
    supplier_id: str
    name: str


class PurchaseOrderLine(BaseModel):
    item: str
    text: str = ""
    material: str = ""
    quantity: Decimal
    unit: str = ""
    net_price: Decimal
    amount: Decimal
    finally_invoiced: bool = False


class PurchaseOrder(BaseModel):
    """A purchase order with its supplier's name and what is left to invoice."""

    po_number: str
    supplier_id: str
    supplier_name: str
    currency: str
    net_amount: Decimal = Field(description="sum of the items' quantity times net price")
    invoiced_amount: Decimal = Field(description="sum of the posted invoice items referencing this PO")
    open_amount: Decimal = Field(description="net less invoiced, never below zero; zero once closed")
    closed: bool = Field(description="every item is flagged finally invoiced")
    company_code: str = ""
    description: str = Field(default="", description="the first item's text")
    external_reference: str = ""
    order_date: date | None = None
    lines: list[PurchaseOrderLine] = Field(default_factory=list)


class NewPurchaseOrderLine(BaseModel):
    """One item of a purchase order to create."""

    text: str = ""
    quantity: Decimal = Decimal(1)
    unit: str = "EA"
    net_price: Decimal
    material: str | None = None
    """The material (SKU) ordered; None for a text item (a service, a one-off purchase)."""


class SupplierInvoice(BaseModel):
    invoice_number: str = Field(description="SupplierInvoice, assigned by SAP")
    fiscal_year: str
    company_code: str = ""
    supplier_id: str
    invoice_reference: str = Field(
        description="the supplier's own invoice number (SupplierInvoiceIDByInvcgParty)"
    )
    amount: Decimal
    currency: str
    document_date: date | None = None
    posting_date: date | None = None
    po_numbers: list[str] = Field(default_factory=list)
    status: str = ""
    header_text: str = ""
    reverse_document: str = Field(
        default="", description="ReverseDocument: the reversal's number once the invoice is cancelled"
    )


class InvoiceReversal(BaseModel):
    """A supplier invoice reversed by the ``Cancel`` function import: the original and its reversal."""

    invoice_number: str
    fiscal_year: str
    reverse_document: str
    reverse_fiscal_year: str


class Plant(BaseModel):
    plant: str
    name: str


class StockLevel(BaseModel):
    """Stock of a material in one storage location of a plant (``A_MatlStkInAcctMod``)."""

    material: str
    plant: str
    storage_location: str = ""
    stock_type: str = Field(default="", description="InventoryStockType: 01 unrestricted, 02 QI, 07 blocked")
    quantity: Decimal
    unit: str = ""


class GoodsMovement(BaseModel):
    """One material document item: a quantity moved in (receipt) or out (issue) on a day."""

    document: str
    material: str
    plant: str
    posting_date: date | None
    movement_type: str
    quantity: Decimal = Field(description="positive, as SAP states it; ``debit_credit`` says which way")
    unit: str = ""
    debit_credit: str = Field(default="", description="S: into stock (debit), H: out of stock (credit)")

    @property
    def is_consumption(self) -> bool:
        """A goods issue out of stock (reversals, receipts and transfers are not consumption)."""
        return self.debit_credit == "H" and self.movement_type in GOODS_ISSUE_MOVEMENTS


class PurchasingTerms(BaseModel):
    """What a supplier's purchasing info record says for a material at a plant: price, lead time, lot."""

    info_record: str
    supplier_id: str
    material: str
    plant: str
    purchasing_organization: str = ""
    net_price: Decimal
    currency: str
    lead_time_days: int = Field(description="MaterialPlannedDeliveryDurn: planned delivery time in days")
    standard_quantity: Decimal = Decimal(0)
    minimum_quantity: Decimal = Decimal(0)


class InboundDeliveryItem(BaseModel):
    item: str
    material: str = ""
    quantity: Decimal
    unit: str = ""
    po_number: str = Field(default="", description="ReferenceSDDocument: the purchase order delivered")


class InboundDelivery(BaseModel):
    """A supplier's shipment announced against purchase orders (``A_InbDeliveryHeader``)."""

    delivery: str
    supplier_id: str
    plant: str = ""
    tracking_number: str = Field(default="", description="BillOfLading (unconfirmed as SAP's carrier field)")
    delivery_date: date | None = Field(default=None, description="planned arrival")
    goods_receipt_date: date | None = Field(default=None, description="ActualGoodsMovementDate")
    goods_movement_status: str = Field(default="", description="A: not yet received, B: partly, C: fully")
    items: list[InboundDeliveryItem] = Field(default_factory=list)

    @property
    def po_numbers(self) -> list[str]:
        return list(dict.fromkeys(item.po_number for item in self.items if item.po_number))


def idempotency_reference(key: str, length: int = 12) -> str:
    """``key`` when it fits ``length`` characters, else a digest of it that does."""
    return key if len(key) <= length else hashlib.sha256(key.encode()).hexdigest()[:length]


def invoice_marker(key: str) -> str:
    """What ``DocumentHeaderText`` (25 characters) carries to recognise a retry of the same request."""
    return "EAS " + hashlib.sha256(key.encode()).hexdigest()[:21]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _datetime_literal(day: date) -> str:
    """Midnight of ``day`` as an OData V2 ``Edm.DateTime`` literal for ``$filter``."""
    return f"datetime'{day.isoformat()}T00:00:00'"


def posting_window(posted_from: date | None, posted_to: date | None, field: str = "PostingDate") -> list[str]:
    """``$filter`` terms keeping ``field`` within the days ``posted_from`` to ``posted_to`` (both included).

    The end is sent as ``lt`` the next midnight, so that a date carrying a time of day is still inside.
    """
    terms = []
    if posted_from is not None:
        terms.append(f"{field} ge {_datetime_literal(posted_from)}")
    if posted_to is not None:
        terms.append(f"{field} lt {_datetime_literal(posted_to + timedelta(days=1))}")
    return terms


def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def _optional_day(value: Any) -> date | None:
    """An ``Edm.DateTime`` that may be empty: pyodata reads a null one as its minimum, 1753-01-01."""
    day = _day(value)
    return None if day is None or day.year <= 1753 else day


def _midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _sap_message(response: Any) -> tuple[str, str | None]:
    """The Gateway's message and code from its error body (or the body's start)."""
    try:
        error = response.json()["error"]
        message = error["message"]
        return (message["value"] if isinstance(message, dict) else str(message)), error.get("code")
    except (ValueError, KeyError, TypeError):
        text = getattr(response, "text", "") or ""
        return text[:200], None


def _classify(response: Any) -> Exception:
    """A pyodata ``HttpError``'s response as :class:`Transient` or :class:`VendorRejected`."""
    status = response.status_code
    request = getattr(response, "request", None)
    where = f" on {request.method} {request.path_url.split('?')[0]}" if request is not None else ""
    detail, code = _sap_message(response)
    message = f"sap: HTTP {status}{where}" + (f": {detail}" if detail else "")
    if status in RETRYABLE_STATUSES:
        return Transient(
            message, status=status, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    if code == DUPLICATE_INVOICE_CODE:
        return DuplicateInvoice(message, status=status, code=code)
    return VendorRejected(message, status=status, code=code)


def _csrf_required(response: Any) -> bool:
    return response.status_code == 403 and response.headers.get("x-csrf-token", "").lower() == "required"


class _TimeoutSession(requests.Session):
    """A session whose every request has a timeout (pyodata passes none) and the session's ``verify``.

    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``Session.verify`` unless the request
    names it, which would drop the emulators' CA; so every request names it.
    """

    def __init__(self, timeout_s: float):
        super().__init__()
        self._timeout_s = timeout_s

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout_s)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


_schemas: dict[str, Schema] = {}
_schemas_lock = threading.Lock()


def _schema(service_url: str, session: requests.Session) -> Schema:
    """The service's parsed ``$metadata``, read once per process (it changes only with a transport of the
    service's definition, which restarts nothing on our side: restart the workers after one)."""
    schema = _schemas.get(service_url)
    if schema is None:
        response = session.get(f"{service_url}$metadata")
        if response.status_code != 200:
            raise HttpError(f"$metadata answered HTTP {response.status_code}", response)
        schema = MetadataBuilder(response.content).build()
        with _schemas_lock:
            schema = _schemas.setdefault(service_url, schema)
    return schema


class SapClient:
    """Typed calls on one S/4HANA system; each is retried and guarded by the resource."""

    def __init__(self, resource: SapResource):
        self._resource = resource
        self._root = f"{resource.base_url.rstrip('/')}/sap/opu/odata/sap/"
        self._session = _TimeoutSession(resource.timeout_s)
        self._session.auth = (resource.user, resource.password)
        self._session.verify = resource.trusted_ca or True
        self._session.mount("https://", shared_adapter(resource.verify()))
        self._services: dict[str, Any] = {}
        self._suppliers: dict[str, tuple[float, Supplier]] = {}
        """Suppliers found by this client, by number and by name (a run asks for the same one often;
        a warm worker's client lives long, so a supplier's change is seen within ``lookup_cache_s``)."""

    # --- plumbing -----------------------------------------------------------------------------------------

    def _call(self, attempt: Callable[[], T]) -> T:
        """One logical call: pyodata's and requests' failures translated, retried, counted by the breaker."""

        def translated() -> T:
            try:
                return attempt()
            except HttpError as exc:
                raise _classify(exc.response) from None
            except requests.RequestException as exc:
                raise Transient(f"sap: {type(exc).__name__}: {exc}") from None

        return self._resource.guarded(translated)

    def _service(self, name: str) -> Any:
        """The pyodata service (its ``$metadata`` read on first use, inside the caller's attempt)."""
        if name not in self._services:
            url = f"{self._root}{name}/"
            self._services[name] = Service(url, _schema(url, self._session), self._session)
        return self._services[name]

    def _entity_set(self, service: str, name: str) -> Any:
        return getattr(self._service(service).entity_sets, name)

    def _fetch_csrf_token(self, service: str) -> None:
        response = self._session.head(f"{self._root}{service}/", headers={"x-csrf-token": "Fetch"})
        if response.status_code >= 400:
            raise _classify(response)
        self._session.headers["x-csrf-token"] = response.headers.get("x-csrf-token", "")

    def _create(self, service: str, entity_set: str, values: dict[str, Any]) -> Any:
        """POST one entity (deep insert allowed) with the CSRF token; one new token when it expired."""
        if "x-csrf-token" not in self._session.headers:
            self._fetch_csrf_token(service)
        request = self._entity_set(service, entity_set).create_entity().set(**values)
        try:
            return request.execute()
        except HttpError as exc:
            if not _csrf_required(exc.response):
                raise
        self._fetch_csrf_token(service)
        return request.execute()

    def _page(
        self,
        service: str,
        entity_set: str,
        *,
        filter: str | None,
        expand: str | None,
        skip: int,
        next_url: str | None,
    ) -> tuple[list[Any], str | None, int | None]:
        request = self._entity_set(service, entity_set).get_entities()
        if next_url is not None:
            request = request.next_url(next_url)
        else:
            if filter:
                request = request.filter(filter)
            if expand:
                request = request.expand(expand)
            request = request.top(PAGE_SIZE).skip(skip).count(inline=True)
        page = request.execute()
        total = page._total_count  # noqa: SLF001 (None when the server sent no __count)
        return list(page), page.next_url, total

    def _query(
        self,
        service: str,
        entity_set: str,
        convert: Callable[[Any], T],
        *,
        filter: str | None = None,
        expand: str | None = None,
    ) -> Iterator[T]:
        """Every matching entity, converted: ``$top``/``$skip`` windows, each followed through ``__next``."""
        skip = 0
        while True:
            window, next_url, total = 0, None, None
            while True:

                def attempt(
                    next_url: str | None = next_url, skip: int = skip
                ) -> tuple[list[T], str | None, int | None]:
                    rows, following, count = self._page(
                        service, entity_set, filter=filter, expand=expand, skip=skip, next_url=next_url
                    )
                    return [convert(row) for row in rows], following, count

                rows, next_url, count = self._call(attempt)
                total = count if count is not None else total
                window += len(rows)
                yield from rows
                if not next_url:
                    break
            skip += window
            if window < PAGE_SIZE or (total is not None and skip >= total):
                return

    def _first(self, service: str, entity_set: str, filter: str, expand: str | None = None) -> Any | None:
        """The first match, in one request (for use inside an attempt)."""
        rows, _, _ = self._page(service, entity_set, filter=filter, expand=expand, skip=0, next_url=None)
        return rows[0] if rows else None

    def _get(self, service: str, entity_set: str, key: Any, expand: str | None = None) -> Any | None:
        """One entity by key, None when the Gateway answers 404 (for use inside an attempt)."""
        request = self._entity_set(service, entity_set).get_entity(key)
        if expand:
            request = request.expand(expand)
        try:
            return request.execute()
        except HttpError as exc:
            if exc.response.status_code == 404:
                return None
            raise

    # --- suppliers ----------------------------------------------------------------------------------------

    def _supplier(self, entity: Any) -> Supplier:
        found = Supplier(supplier_id=entity.Supplier, name=entity.SupplierName)
        if len(self._suppliers) >= SUPPLIER_CACHE_SIZE:
            self._suppliers.clear()
        kept = (time.monotonic() + self._resource.lookup_cache_s, found)
        self._suppliers[f"id:{found.supplier_id}"] = self._suppliers[f"name:{found.name}"] = kept
        return found

    def _known_supplier(self, key: str) -> Supplier | None:
        kept = self._suppliers.get(key)
        return kept[1] if kept is not None and kept[0] > time.monotonic() else None

    def supplier_by_name(self, name: str) -> Supplier | None:
        """The supplier whose ``SupplierName`` is exactly ``name``."""
        if (known := self._known_supplier(f"name:{name}")) is not None:
            return known
        filter = f"SupplierName eq {_quote(name)}"
        return next(self._query(PARTNER_SERVICE, "A_Supplier", self._supplier, filter=filter), None)

    def supplier(self, supplier_id: str) -> Supplier | None:
        if (known := self._known_supplier(f"id:{supplier_id}")) is not None:
            return known

        def attempt() -> Supplier | None:
            found = self._get(PARTNER_SERVICE, "A_Supplier", supplier_id)
            return None if found is None else self._supplier(found)

        return self._call(attempt)

    def _find_supplier(self, supplier: str) -> Supplier | None:
        """A supplier given by name or by number (one this client already knows costs no call)."""
        known = self._known_supplier(f"id:{supplier}") or self._known_supplier(f"name:{supplier}")
        return known or self.supplier_by_name(supplier) or self.supplier(supplier)

    def _resolve_supplier(self, supplier: str) -> Supplier:
        """A supplier given by name or by number; an unknown one is refused."""
        found = self._find_supplier(supplier)
        if found is None:
            raise VendorRejected(
                f"sap: no supplier named or numbered {supplier!r}", status=404, code="NOT_FOUND"
            )
        return found

    # --- purchase orders ----------------------------------------------------------------------------------

    @staticmethod
    def _po_fields(entity: Any) -> dict[str, Any]:
        lines = [
            PurchaseOrderLine(
                item=item.PurchaseOrderItem,
                text=item.PurchaseOrderItemText,
                material=item.Material or "",
                quantity=Decimal(str(item.OrderQuantity)),
                unit=item.PurchaseOrderQuantityUnit,
                net_price=Decimal(str(item.NetPriceAmount)),
                amount=Decimal(str(item.OrderQuantity)) * Decimal(str(item.NetPriceAmount)),
                finally_invoiced=bool(item.IsFinallyInvoiced),
            )
            for item in entity.to_PurchaseOrderItem
        ]
        return {
            "po_number": entity.PurchaseOrder,
            "supplier_id": entity.Supplier,
            "currency": entity.DocumentCurrency,
            "company_code": entity.CompanyCode,
            "external_reference": entity.CorrespncExternalReference,
            "order_date": _day(entity.PurchaseOrderDate),
            "lines": lines,
        }

    def _invoiced_amounts(self, po_numbers: Sequence[str]) -> dict[str, Decimal]:
        """Each PO's invoiced amount, in one request per :data:`POS_PER_QUERY` POs (``or`` of ``eq``)."""
        invoiced = dict.fromkeys(po_numbers, Decimal(0))
        unique = list(invoiced)
        for start in range(0, len(unique), POS_PER_QUERY):
            chunk = unique[start : start + POS_PER_QUERY]
            rows = self._query(
                INVOICE_SERVICE,
                "A_SuplrInvcItemPurOrdRef",
                lambda row: (row.PurchaseOrder, Decimal(str(row.SupplierInvoiceItemAmount))),
                filter=" or ".join(f"PurchaseOrder eq {_quote(po)}" for po in chunk),
            )
            for po_number, amount in rows:
                invoiced[po_number] += amount
        return invoiced

    def _complete(
        self, fields: dict[str, Any], supplier_name: str | None = None, invoiced: Decimal | None = None
    ) -> PurchaseOrder:
        lines: list[PurchaseOrderLine] = fields["lines"]
        net = sum((line.amount for line in lines), Decimal(0)).quantize(Decimal("0.01"))
        if invoiced is None:
            invoiced = self._invoiced_amounts([fields["po_number"]])[fields["po_number"]]
        closed = bool(lines) and all(line.finally_invoiced for line in lines)
        if supplier_name is None:
            supplier = self.supplier(fields["supplier_id"])
            supplier_name = supplier.name if supplier is not None else ""
        return PurchaseOrder(
            **fields,
            supplier_name=supplier_name,
            net_amount=net,
            invoiced_amount=invoiced,
            open_amount=Decimal(0) if closed else max(net - invoiced, Decimal(0)),
            closed=closed,
            description=lines[0].text if lines else "",
        )

    def purchase_order(self, po_number: str) -> PurchaseOrder | None:
        """The PO with its items, supplier name, invoiced and open amounts; None when there is none."""

        def attempt() -> dict[str, Any] | None:
            found = self._get(PO_SERVICE, "A_PurchaseOrder", po_number, expand="to_PurchaseOrderItem")
            return None if found is None else self._po_fields(found)

        fields = self._call(attempt)
        return None if fields is None else self._complete(fields)

    def purchase_orders_of_supplier(self, name: str) -> list[PurchaseOrder]:
        """Every PO of the supplier named ``name`` (open and closed), oldest first; [] for an unknown name."""
        supplier = self.supplier_by_name(name)
        if supplier is None:
            return []
        orders = list(
            self._query(
                PO_SERVICE,
                "A_PurchaseOrder",
                self._po_fields,
                filter=f"Supplier eq {_quote(supplier.supplier_id)}",
                expand="to_PurchaseOrderItem",
            )
        )
        invoiced = self._invoiced_amounts([fields["po_number"] for fields in orders])
        return [self._complete(fields, supplier.name, invoiced[fields["po_number"]]) for fields in orders]

    def create_purchase_order(
        self,
        supplier: str,
        lines: Sequence[NewPurchaseOrderLine],
        currency: str,
        *,
        idempotency_key: str,
        po_number: str | None = None,
        company_code: str = "1010",
        purchase_order_type: str = "NB",
        purchasing_organization: str = "1010",
        purchasing_group: str = "001",
        plant: str = "1010",
    ) -> PurchaseOrder:
        """Create a PO (deep insert of its items) once per ``idempotency_key``; ``supplier``: name or number.

        ``po_number`` only where the number range is external; SAP numbers it otherwise.
        """
        found = self._resolve_supplier(supplier)
        reference = idempotency_reference(idempotency_key)
        values: dict[str, Any] = {
            "CompanyCode": company_code,
            "PurchaseOrderType": purchase_order_type,
            "Supplier": found.supplier_id,
            "PurchasingOrganization": purchasing_organization,
            "PurchasingGroup": purchasing_group,
            "DocumentCurrency": currency,
            "CorrespncExternalReference": reference,
            "to_PurchaseOrderItem": [
                {
                    "PurchaseOrderItem": f"{10 * n:05d}",
                    "PurchaseOrderItemText": line.text,
                    "Plant": plant,
                    "OrderQuantity": str(line.quantity),
                    "PurchaseOrderQuantityUnit": line.unit,
                    "NetPriceAmount": str(line.net_price),
                    **({"Material": line.material} if line.material else {}),
                }
                for n, line in enumerate(lines, start=1)
            ],
        }
        if po_number is not None:
            values["PurchaseOrder"] = po_number

        def attempt() -> dict[str, Any]:
            existing = self._first(
                PO_SERVICE,
                "A_PurchaseOrder",
                f"CorrespncExternalReference eq {_quote(reference)}",
                expand="to_PurchaseOrderItem",
            )
            if existing is not None:
                return self._po_fields(existing)
            return self._po_fields(self._create(PO_SERVICE, "A_PurchaseOrder", values))

        return self._complete(self._call(attempt), found.name)

    # --- supplier invoices --------------------------------------------------------------------------------

    @staticmethod
    def _invoice(entity: Any) -> SupplierInvoice:
        return SupplierInvoice(
            invoice_number=entity.SupplierInvoice,
            fiscal_year=entity.FiscalYear,
            company_code=entity.CompanyCode,
            supplier_id=entity.InvoicingParty,
            invoice_reference=entity.SupplierInvoiceIDByInvcgParty,
            amount=Decimal(str(entity.InvoiceGrossAmount)),
            currency=entity.DocumentCurrency,
            document_date=_day(entity.DocumentDate),
            posting_date=_day(entity.PostingDate),
            po_numbers=list(dict.fromkeys(item.PurchaseOrder for item in entity.to_SuplrInvcItemPurOrdRef)),
            status=entity.SupplierInvoiceStatus,
            header_text=entity.DocumentHeaderText,
            reverse_document=getattr(entity, "ReverseDocument", "") or "",
        )

    def _invoice_filter(self, supplier_id: str, invoice_reference: str) -> str:
        party, reference = _quote(supplier_id), _quote(invoice_reference)
        return f"InvoicingParty eq {party} and SupplierInvoiceIDByInvcgParty eq {reference}"

    def supplier_invoice(self, supplier: str, invoice_reference: str) -> SupplierInvoice | None:
        """The posted invoice of ``supplier`` (name or number) with the supplier's reference, if any."""
        found = self._find_supplier(supplier)
        if found is None:
            return None
        filter = self._invoice_filter(found.supplier_id, invoice_reference)

        def attempt() -> SupplierInvoice | None:
            entity = self._first(
                INVOICE_SERVICE, "A_SupplierInvoice", filter, expand="to_SuplrInvcItemPurOrdRef"
            )
            return None if entity is None else self._invoice(entity)

        return self._call(attempt)

    def supplier_invoices(
        self,
        *,
        posted_from: date | None = None,
        posted_to: date | None = None,
        reference: str | None = None,
        supplier_id: str | None = None,
    ) -> list[SupplierInvoice]:
        """The supplier invoices matching every criterion given, oldest posting first.

        Filtered by the Gateway (``$filter``: ``PostingDate ge``/``lt`` the days ``posted_from`` to
        ``posted_to``, both included; ``SupplierInvoiceIDByInvcgParty eq`` the supplier's own
        ``reference``; ``InvoicingParty eq`` the supplier number) and read page by page, so a report over
        one month or a look-up by reference costs the invoices it finds, not every invoice ever posted.
        None given: every invoice.
        """
        terms = posting_window(posted_from, posted_to)
        if reference is not None:
            terms.append(f"SupplierInvoiceIDByInvcgParty eq {_quote(reference)}")
        if supplier_id is not None:
            terms.append(f"InvoicingParty eq {_quote(supplier_id)}")
        found = self._query(
            INVOICE_SERVICE,
            "A_SupplierInvoice",
            self._invoice,
            filter=" and ".join(terms) or None,
            expand="to_SuplrInvcItemPurOrdRef",
        )
        return sorted(found, key=lambda i: (i.posting_date or date.min, i.fiscal_year, i.invoice_number))

    def post_supplier_invoice(
        self,
        supplier: str,
        invoice_reference: str,
        amount: Decimal | str | float,
        currency: str,
        po_number: str | None,
        document_date: date,
        idempotency_key: str,
        *,
        company_code: str = "1010",
        posting_date: date | None = None,
    ) -> SupplierInvoice:
        """Post a supplier invoice (against ``po_number``'s first item when given), once per request.

        A retry with the same ``idempotency_key`` returns the invoice already posted; another request with the
        same supplier and ``invoice_reference`` is refused with :class:`DuplicateInvoice`.
        """
        found = self._resolve_supplier(supplier)
        gross = Decimal(str(amount)).quantize(Decimal("0.01"))
        marker = invoice_marker(idempotency_key)
        filter = self._invoice_filter(found.supplier_id, invoice_reference)
        values: dict[str, Any] = {
            "CompanyCode": company_code,
            "DocumentDate": _midnight_utc(document_date),
            "PostingDate": _midnight_utc(posting_date or datetime.now(UTC).date()),
            "SupplierInvoiceIDByInvcgParty": invoice_reference,
            "InvoicingParty": found.supplier_id,
            "DocumentCurrency": currency,
            "InvoiceGrossAmount": str(gross),
            "DocumentHeaderText": marker,
        }

        def attempt() -> SupplierInvoice:
            existing = self._first(
                INVOICE_SERVICE, "A_SupplierInvoice", filter, expand="to_SuplrInvcItemPurOrdRef"
            )
            if existing is not None:
                invoice = self._invoice(existing)
                if invoice.header_text == marker:
                    return invoice
                raise DuplicateInvoice(
                    f"sap: invoice {invoice_reference!r} of supplier {found.supplier_id} is already "
                    f"posted as {invoice.invoice_number}/{invoice.fiscal_year}",
                    status=400,
                    code=DUPLICATE_INVOICE_CODE,
                )
            if po_number is not None:
                po = self._get(PO_SERVICE, "A_PurchaseOrder", po_number, expand="to_PurchaseOrderItem")
                if po is None:
                    raise VendorRejected(f"sap: purchase order {po_number!r} does not exist", status=404)
                item = po.to_PurchaseOrderItem[0] if po.to_PurchaseOrderItem else None
                values["to_SuplrInvcItemPurOrdRef"] = [
                    {
                        "SupplierInvoiceItem": "000001",
                        "PurchaseOrder": po_number,
                        "PurchaseOrderItem": item.PurchaseOrderItem if item is not None else "00010",
                        "DocumentCurrency": currency,
                        "SupplierInvoiceItemAmount": str(gross),
                        "QuantityInPurchaseOrderUnit": "1",
                        "PurchaseOrderQuantityUnit": item.PurchaseOrderQuantityUnit
                        if item is not None
                        else "EA",
                    }
                ]
            return self._invoice(self._create(INVOICE_SERVICE, "A_SupplierInvoice", values))

        return self._call(attempt)

    def cancel_supplier_invoice(
        self,
        invoice_number: str,
        fiscal_year: str,
        *,
        reversal_reason: str = "01",
        posting_date: date | None = None,
    ) -> InvoiceReversal:
        """Reverse a posted supplier invoice, once: the compensation of posting it.

        SAP's function import ``Cancel`` of API_SUPPLIERINVOICE_PROCESS_SRV (``POST .../Cancel?
        SupplierInvoice='..'&FiscalYear='..'&ReversalReason='..'&PostingDate=datetime'..'``, CSRF token
        as for any write) posts a reversal document; its answer ``d.Cancel`` carries ``ReverseDocument``
        and ``FiscalYear`` (parameter and answer names unconfirmed beyond VENDOR_APIS.md's "function
        imports Post, Release, Cancel"). Called through the session rather than pyodata, which needs
        the function import in ``$metadata``. An invoice already reversed answers its reversal (a
        retried compensation reverses nothing twice); an unknown one is a :class:`VendorRejected` 404.
        """
        number, year = _quote(invoice_number), _quote(fiscal_year)
        filter = f"SupplierInvoice eq {number} and FiscalYear eq {year}"
        when = _midnight_utc(posting_date or datetime.now(UTC).date()).strftime("%Y-%m-%dT%H:%M:%S")
        params = {
            "SupplierInvoice": number,
            "FiscalYear": year,
            "ReversalReason": _quote(reversal_reason),
            "PostingDate": f"datetime'{when}'",
        }

        def attempt() -> InvoiceReversal:
            found = self._first(INVOICE_SERVICE, "A_SupplierInvoice", filter)
            if found is None:
                raise VendorRejected(f"sap: no supplier invoice {invoice_number}/{fiscal_year}", status=404)
            done = getattr(found, "ReverseDocument", "") or ""
            if done:
                return InvoiceReversal(
                    invoice_number=invoice_number,
                    fiscal_year=fiscal_year,
                    reverse_document=done,
                    reverse_fiscal_year=getattr(found, "ReverseDocumentFiscalYear", "") or fiscal_year,
                )
            if "x-csrf-token" not in self._session.headers:
                self._fetch_csrf_token(INVOICE_SERVICE)
            url = f"{self._root}{INVOICE_SERVICE}/Cancel"
            headers = {"Accept": "application/json"}
            response = self._session.post(url, params=params, headers=headers)
            if _csrf_required(response):
                self._fetch_csrf_token(INVOICE_SERVICE)
                response = self._session.post(url, params=params, headers=headers)
            if response.status_code >= 400:
                raise _classify(response)
            answer = response.json()["d"]["Cancel"]
            return InvoiceReversal(
                invoice_number=invoice_number,
                fiscal_year=fiscal_year,
                reverse_document=str(answer["ReverseDocument"]),
                reverse_fiscal_year=str(answer.get("FiscalYear") or fiscal_year),
            )

        return self._call(attempt)

    # --- logistics: plants, stock, goods movements, purchasing terms, inbound deliveries ------------------

    def plants(self) -> list[Plant]:
        """Every plant with its name (few: a company has a handful)."""
        return list(
            self._query(PLANT_SERVICE, "A_Plant", lambda row: Plant(plant=row.Plant, name=row.PlantName))
        )

    def material_stock(self, material: str, plant: str | None = None) -> list[StockLevel]:
        """The material's stock per plant and storage location ([] for a material SAP holds none of)."""
        filter = f"Material eq {_quote(material)}" + (f" and Plant eq {_quote(plant)}" if plant else "")

        def convert(row: Any) -> StockLevel:
            return StockLevel(
                material=row.Material,
                plant=row.Plant,
                storage_location=row.StorageLocation,
                stock_type=row.InventoryStockType,
                quantity=Decimal(str(row.MatlWrhsStkQtyInMatlBaseUnit)),
                unit=row.MaterialBaseUnit,
            )

        return list(self._query(STOCK_SERVICE, "A_MatlStkInAcctMod", convert, filter=filter))

    def goods_movements(
        self,
        material: str,
        plant: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[GoodsMovement]:
        """The material's goods movements (material document items), oldest first, posted on the days
        ``since`` to ``until`` (both included; either open).

        The window is part of the ``$filter`` (``PostingDate ge``/``lt``), so a long history is cut by the
        Gateway rather than read whole.
        """
        terms = [f"Material eq {_quote(material)}", *([f"Plant eq {_quote(plant)}"] if plant else [])]
        filter = " and ".join(terms + posting_window(since, until))

        def convert(row: Any) -> GoodsMovement:
            return GoodsMovement(
                document=f"{row.MaterialDocument}/{row.MaterialDocumentYear}",
                material=row.Material,
                plant=row.Plant,
                posting_date=_day(row.PostingDate),
                movement_type=row.GoodsMovementType,
                quantity=Decimal(str(row.QuantityInEntryUnit)),
                unit=row.EntryUnit,
                debit_credit=row.DebitCreditCode,
            )

        rows = self._query(MATERIAL_DOCUMENT_SERVICE, "A_MaterialDocumentItem", convert, filter=filter)
        return sorted(rows, key=lambda m: (m.posting_date or date.min, m.document))

    def purchasing_terms(self, material: str, plant: str | None = None) -> list[PurchasingTerms]:
        """Each supplier's terms for the material (at ``plant`` when given), from the info records."""

        def convert(record: Any) -> list[PurchasingTerms]:
            return [
                PurchasingTerms(
                    info_record=record.PurchasingInfoRecord,
                    supplier_id=record.Supplier,
                    material=record.Material,
                    plant=row.Plant,
                    purchasing_organization=row.PurchasingOrganization,
                    net_price=Decimal(str(row.NetPriceAmount)),
                    currency=row.Currency,
                    lead_time_days=int(Decimal(str(row.MaterialPlannedDeliveryDurn or 0))),
                    standard_quantity=Decimal(str(row.StandardPurchaseOrderQuantity or 0)),
                    minimum_quantity=Decimal(str(row.MinimumPurchaseOrderQuantity or 0)),
                )
                for row in record.to_PurgInfoRecdOrgPlantData
                if plant is None or row.Plant == plant
            ]

        records = self._query(
            INFO_RECORD_SERVICE,
            "A_PurchasingInfoRecord",
            convert,
            filter=f"Material eq {_quote(material)}",
            expand="to_PurgInfoRecdOrgPlantData",
        )
        return [terms for record in records for terms in record]

    @staticmethod
    def _delivery(entity: Any) -> InboundDelivery:
        return InboundDelivery(
            delivery=entity.DeliveryDocument,
            supplier_id=entity.Supplier,
            plant=entity.ReceivingPlant,
            tracking_number=entity.BillOfLading,
            delivery_date=_optional_day(entity.DeliveryDate),
            goods_receipt_date=_optional_day(entity.ActualGoodsMovementDate),
            goods_movement_status=entity.OverallGoodsMovementStatus,
            items=[
                InboundDeliveryItem(
                    item=item.DeliveryDocumentItem,
                    material=item.Material,
                    quantity=Decimal(str(item.ActualDeliveryQuantity)),
                    unit=item.DeliveryQuantityUnit,
                    po_number=item.ReferenceSDDocument,
                )
                for item in entity.to_DeliveryDocumentItem
            ],
        )

    def inbound_deliveries_by_tracking(self, tracking_number: str) -> list[InboundDelivery]:
        """The inbound deliveries whose bill of lading is ``tracking_number``."""
        return list(
            self._query(
                INBOUND_DELIVERY_SERVICE,
                "A_InbDeliveryHeader",
                self._delivery,
                filter=f"BillOfLading eq {_quote(tracking_number)}",
                expand="to_DeliveryDocumentItem",
            )
        )

    def inbound_deliveries_of_po(self, po_number: str) -> list[InboundDelivery]:
        """The inbound deliveries with an item referencing ``po_number``: items first, then their headers."""
        numbers = list(
            dict.fromkeys(
                self._query(
                    INBOUND_DELIVERY_SERVICE,
                    "A_InbDeliveryItem",
                    lambda row: row.DeliveryDocument,
                    filter=f"ReferenceSDDocument eq {_quote(po_number)}",
                )
            )
        )

        def attempt(number: str) -> InboundDelivery | None:
            found = self._get(
                INBOUND_DELIVERY_SERVICE, "A_InbDeliveryHeader", number, expand="to_DeliveryDocumentItem"
            )
            return None if found is None else self._delivery(found)

        found = [self._call(lambda number=number: attempt(number)) for number in numbers]
        return [delivery for delivery in found if delivery is not None]

    def close(self) -> None:
        self._session.close()


class SapResource(ConnectorResource):
    """SAP S/4HANA Cloud: the API host and a communication user (``EAS_SAP_*``)."""

    system = "sap"

    base_url: str = Field(description="https://<api-host> without /sap/opu/odata/... (EAS_SAP_URL)")
    user: str = Field(description="communication user (EAS_SAP_USER)")
    password: str = Field(description="its password (EAS_SAP_PASSWORD)")
    lookup_cache_s: float = Field(
        default=300.0, description="how long a client reuses a supplier it looked up (0: never)"
    )

    def client(self) -> SapClient:
        return self.reused_client(SapClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> SapResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_SAP_URL"),
            user=dg.EnvVar("EAS_SAP_USER"),
            password=dg.EnvVar("EAS_SAP_PASSWORD"),
        )
