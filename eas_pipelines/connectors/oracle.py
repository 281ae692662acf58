"""Oracle Fusion Cloud Financials through its REST API (``/fscmRestApi/resources/11.13.18.05/``): payables
invoices and suppliers, for the finance agent.

Basic auth of an integration user and ``REST-Framework-Version: 4`` on every call (version 2+ reads ``q`` as a
rowmatch expression, version 3+ nests child collections, version 4 shapes the errors); creates send
``Content-Type: application/vnd.oracle.adf.resourceitem+json``. Lists page with ``limit``/``offset`` until
``hasMore`` is false. Throttling (429) and 5xx are retried through :class:`VendorHTTP`; other refusals carry
the ``o:errorDetails`` of the framework's error body.

The invoices resource has no idempotency key (``Upsert-Mode`` support there is unconfirmed), so a create first
queries ``InvoiceNumber`` and ``Supplier`` in the same attempt: the same invoice again (same amount and
currency) is a retry and returns the one already there; a different one under that number is
:class:`~eas_pipelines.connectors.sap.DuplicateInvoice`. Suppliers are looked up by name before one is
created.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, default_error_message
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.sap import DuplicateInvoice

PAGE_SIZE = 100
"""``limit`` of one list request (Oracle's default is 25, its maximum 500)."""
API_PATH = "/fscmRestApi/resources/11.13.18.05/"
ITEM_TYPE = "application/vnd.oracle.adf.resourceitem+json"


class InvoiceLine(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    line_number: int = Field(alias="LineNumber")
    line_type: str = Field(default="Item", alias="LineType")
    amount: Decimal = Field(alias="LineAmount")
    description: str | None = Field(default=None, alias="Description")
    po_number: str | None = Field(default=None, alias="PurchaseOrderNumber")


class Invoice(BaseModel):
    """A payables invoice (``InvoiceId`` assigned by Oracle)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    invoice_id: int = Field(alias="InvoiceId")
    invoice_number: str = Field(alias="InvoiceNumber")
    supplier: str = Field(alias="Supplier")
    supplier_number: str | None = Field(default=None, alias="SupplierNumber")
    supplier_site: str | None = Field(default=None, alias="SupplierSite")
    business_unit: str | None = Field(default=None, alias="BusinessUnit")
    amount: Decimal = Field(alias="InvoiceAmount")
    currency: str = Field(alias="InvoiceCurrency")
    invoice_date: date | None = Field(default=None, alias="InvoiceDate")
    description: str | None = Field(default=None, alias="Description")
    validation_status: str | None = Field(default=None, alias="ValidationStatus")
    approval_status: str | None = Field(default=None, alias="ApprovalStatus")
    lines: list[InvoiceLine] = Field(default_factory=list)


class Supplier(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    supplier_id: int = Field(alias="SupplierId")
    name: str = Field(alias="Supplier")
    supplier_number: str | None = Field(default=None, alias="SupplierNumber")
    status: str | None = Field(default=None, alias="Status")
    business_relationship: str | None = Field(default=None, alias="BusinessRelationship")
    tax_organization_type: str | None = Field(default=None, alias="TaxOrganizationType")


def oracle_error_message(response: httpx.Response) -> str:
    """The ``detail`` (and ``o:errorCode``) of each ``o:errorDetails`` entry, else the usual guess."""
    try:
        body = response.json()
    except ValueError:
        return default_error_message(response)
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    if isinstance(details, list) and details:
        parts = []
        for entry in details:
            if isinstance(entry, dict) and entry.get("detail"):
                code = entry.get("o:errorCode")
                parts.append(f"{entry['detail']} ({code})" if code else str(entry["detail"]))
        if parts:
            return "; ".join(parts)
    return default_error_message(response)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _invoice(row: dict[str, Any]) -> Invoice:
    lines = row.get("invoiceLines")
    items = lines.get("items", []) if isinstance(lines, dict) else (lines or [])
    return Invoice.model_validate({**row, "lines": [InvoiceLine.model_validate(line) for line in items]})


class OracleClient:
    """Typed calls on one Fusion pod; each is retried and guarded by the resource."""

    def __init__(self, resource: OracleResource):
        self._resource = resource
        self._http = VendorHTTP(
            "oracle",
            f"{resource.base_url.rstrip('/')}{API_PATH}",
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            auth=httpx.BasicAuth(resource.user, resource.password),
            headers={"Accept": "application/json", "REST-Framework-Version": "4"},
            error_message=oracle_error_message,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._http.json(method, path, **kwargs))

    def _page(self, resource: str, query: str | None, offset: int, limit: int, expand: str | None) -> Any:
        params: dict[str, Any] = {
            "limit": limit,
            "offset": offset,
            "totalResults": "true",
            "onlyData": "true",
        }
        if query:
            params["q"] = query
        if expand:
            params["expand"] = expand
        return self._http.json("GET", resource, params=params)

    def _list(
        self, resource: str, query: str | None, *, limit: int | None = None, expand: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of ``resource`` matching ``query``, page by page until ``hasMore`` is false."""
        offset = 0
        while limit is None or offset < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - offset)
            page = self._resource.guarded(
                lambda offset=offset, size=size: self._page(resource, query, offset, size, expand)
            )
            yield from page["items"]
            offset += len(page["items"])
            if not page.get("hasMore") or not page["items"]:
                return

    def _post(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._http.json("POST", resource, json=body, headers={"Content-Type": ITEM_TYPE})

    # --- invoices -----------------------------------------------------------------------------------------

    def invoices(self, query: str | None = None, *, limit: int | None = None) -> list[Invoice]:
        """Invoices matching a ``q`` rowmatch expression (``Supplier = 'Acme Corp'``), with their lines."""
        return [_invoice(row) for row in self._list("invoices", query, limit=limit, expand="invoiceLines")]

    def invoice(self, invoice_id: int | str) -> Invoice | None:
        def attempt() -> Invoice | None:
            try:
                row = self._http.json("GET", f"invoices/{invoice_id}", params={"expand": "invoiceLines"})
            except VendorRejected as exc:
                if exc.status == 404:
                    return None
                raise
            return _invoice(row)

        return self._resource.guarded(attempt)

    def find_invoice(self, invoice_number: str, supplier: str) -> Invoice | None:
        """The invoice of ``supplier`` (name) numbered ``invoice_number``, if any."""
        query = f"InvoiceNumber = {_quote(invoice_number)} and Supplier = {_quote(supplier)}"
        return next(iter(self.invoices(query, limit=1)), None)

    def create_invoice(
        self,
        invoice_number: str,
        supplier: str,
        amount: Decimal | str | float,
        currency: str,
        invoice_date: date,
        *,
        business_unit: str = "US1 Business Unit",
        supplier_site: str | None = None,
        invoice_group: str | None = None,
        description: str | None = None,
        po_number: str | None = None,
    ) -> Invoice:
        """Create a payables invoice (one item line) once per supplier and invoice number.

        The same invoice again returns the one already there; another amount or currency under that number
        is refused with :class:`DuplicateInvoice`.
        """
        gross = Decimal(str(amount)).quantize(Decimal("0.01"))
        query = f"InvoiceNumber = {_quote(invoice_number)} and Supplier = {_quote(supplier)}"
        body: dict[str, Any] = {
            "InvoiceNumber": invoice_number,
            "InvoiceCurrency": currency,
            "InvoiceAmount": float(gross),
            "InvoiceDate": invoice_date.isoformat(),
            "BusinessUnit": business_unit,
            "Supplier": supplier,
            "invoiceLines": [
                {
                    "LineNumber": 1,
                    "LineType": "Item",
                    "LineAmount": float(gross),
                    "Description": description,
                    "PurchaseOrderNumber": po_number,
                }
            ],
        }
        optional = {"SupplierSite": supplier_site, "InvoiceGroup": invoice_group, "Description": description}
        body.update({key: value for key, value in optional.items() if value is not None})

        def attempt() -> Invoice:
            found = self._page("invoices", query, 0, 1, "invoiceLines")["items"]
            if found:
                existing = _invoice(found[0])
                if existing.amount == gross and existing.currency == currency:
                    return existing
                raise DuplicateInvoice(
                    f"oracle: invoice {invoice_number!r} of {supplier!r} already exists as "
                    f"{existing.invoice_id} ({existing.amount} {existing.currency})",
                    status=400,
                )
            return _invoice(self._post("invoices", body))

        return self._resource.guarded(attempt)

    # --- suppliers ----------------------------------------------------------------------------------------

    def suppliers(self, name: str | None = None) -> list[Supplier]:
        """Suppliers, all or those named exactly ``name``."""
        query = None if name is None else f"Supplier = {_quote(name)}"
        return [Supplier.model_validate(row) for row in self._list("suppliers", query)]

    def create_supplier(
        self,
        name: str,
        *,
        tax_organization_type: str = "Corporation",
        supplier_type: str = "Supplier",
        business_relationship: str = "SPEND_AUTHORIZED",
    ) -> Supplier:
        """Create a supplier unless one with this name exists (then return it)."""
        body = {
            "Supplier": name,
            "TaxOrganizationType": tax_organization_type,
            "SupplierType": supplier_type,
            "BusinessRelationship": business_relationship,
        }

        def attempt() -> Supplier:
            found = self._page("suppliers", f"Supplier = {_quote(name)}", 0, 1, None)["items"]
            return Supplier.model_validate(found[0] if found else self._post("suppliers", body))

        return self._resource.guarded(attempt)

    def close(self) -> None:
        self._http.close()


class OracleResource(ConnectorResource):
    """Oracle Fusion Cloud Financials: the pod URL and an integration user (``EAS_ORACLE_*``)."""

    system = "oracle"

    base_url: str = Field(description="https://<pod> without /fscmRestApi/... (EAS_ORACLE_URL)")
    user: str = Field(description="integration user (EAS_ORACLE_USER)")
    password: str = Field(description="its password (EAS_ORACLE_PASSWORD)")

    def client(self) -> OracleClient:
        return self.reused_client(OracleClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> OracleResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_ORACLE_URL"),
            user=dg.EnvVar("EAS_ORACLE_USER"),
            password=dg.EnvVar("EAS_ORACLE_PASSWORD"),
        )
