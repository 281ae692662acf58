"""SAP's connector (pyodata) against the OData V2 emulator: CSRF, paging, errors, retries, idempotency."""

from __future__ import annotations

import base64
import json
import ssl
import time
from datetime import date
from decimal import Decimal

import httpx
import pybreaker
import pytest

from eas_pipelines.connectors import sap as sap_module
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.sap import DuplicateInvoice, NewPurchaseOrderLine, SapResource
from tests.support.vendor_clients import sap_resource

PO_PATH = "/sap/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV"
INVOICE_PATH = "/sap/sap/opu/odata/sap/API_SUPPLIERINVOICE_PROCESS_SRV"


@pytest.fixture
def sap(sandbox, connector_options) -> SapResource:
    return sap_resource(sandbox.env, **connector_options)


@pytest.fixture
def raw(sandbox) -> httpx.Client:
    """A plain HTTP client on the emulator, for what the connector never sends."""
    env = sandbox.env
    with httpx.Client(
        base_url=f"{env['EAS_SAP_URL']}/sap/opu/odata/sap/",
        auth=(env["EAS_SAP_USER"], env["EAS_SAP_PASSWORD"]),
        verify=ssl.create_default_context(cafile=sandbox.ca_bundle),
        headers={"Accept": "application/json"},
    ) as client:
        yield client


@pytest.fixture
def unread_metadata(monkeypatch):
    """A process that has read no service's ``$metadata`` yet."""
    monkeypatch.setattr(sap_module, "_schemas", {})


def test_purchase_order_reads_the_po_its_items_and_supplier(sap, sandbox, unread_metadata):
    po = sap.client().purchase_order("PO-10001")

    assert po is not None
    assert (po.po_number, po.supplier_name, po.currency) == ("PO-10001", "Acme Corp", "USD")
    assert po.net_amount == Decimal("50000.00") and po.open_amount == Decimal("50000.00")
    assert po.invoiced_amount == 0 and not po.closed
    assert po.description == "Office hardware, FY framework order"
    read = next(c for c in sandbox.calls("sap") if "A_PurchaseOrder(" in c["path"])
    assert read["method"] == "GET" and read["path"] == f"{PO_PATH}/A_PurchaseOrder('PO-10001')"
    assert (
        "%24expand=to_PurchaseOrderItem" in read["query"] or "$expand=to_PurchaseOrderItem" in read["query"]
    )
    env = sandbox.env
    token = base64.b64encode(f"{env['EAS_SAP_USER']}:{env['EAS_SAP_PASSWORD']}".encode()).decode()
    assert read["headers"]["authorization"] == f"Basic {token}"
    assert any(c["path"] == f"{PO_PATH}/$metadata" for c in sandbox.calls("sap"))


def test_metadata_is_read_once_per_process_and_suppliers_once_per_client(
    sap, sandbox, connector_options, unread_metadata
):
    client = sap.client()
    client.purchase_orders_of_supplier("Acme Corp")
    client.supplier_invoice("Acme Corp", "INV-NONE")
    another_run = SapResource(**{**sap.model_dump(), **connector_options}).client()
    another_run.purchase_order("PO-10001")

    paths = [c["path"] for c in sandbox.calls("sap")]
    assert paths.count(f"{PO_PATH}/$metadata") == 1
    assert sum(p.endswith("/A_Supplier") for p in paths) == 1  # by name, once; the second asks by number


def test_the_invoiced_amounts_of_a_suppliers_orders_come_in_one_request(sap, sandbox):
    orders = sap.client().purchase_orders_of_supplier("Acme Corp")

    reads = [c for c in sandbox.calls("sap") if c["path"].endswith("/A_SuplrInvcItemPurOrdRef")]
    assert len(orders) > 1 and len(reads) == 1
    assert " or " in reads[0]["query"].replace("%20", " ").replace("+", " ")


def test_closed_unknown_and_foreign_currency_orders(sap):
    client = sap.client()
    closed = client.purchase_order("PO-10005")
    assert closed is not None and closed.closed and closed.open_amount == 0
    assert closed.net_amount == Decimal("5000.00")
    assert client.purchase_order("PO-99999") is None
    euro = client.purchase_order("PO-10009")
    assert euro is not None and (euro.currency, euro.supplier_name) == ("EUR", "Fabrikam")


def test_purchase_orders_of_supplier_and_supplier_lookup(sap):
    client = sap.client()
    assert [po.po_number for po in client.purchase_orders_of_supplier("Acme Corp")] == [
        "PO-10001",
        "PO-10010",
    ]
    assert client.purchase_orders_of_supplier("Nobody Inc") == []
    supplier = client.supplier_by_name("Atlas Paper Co")
    assert supplier is not None and client.supplier(supplier.supplier_id) == supplier
    assert client.supplier_by_name("atlas paper co") is None  # SAP's eq is exact


def test_posting_an_invoice_fetches_a_csrf_token_and_reduces_the_open_amount(sap, sandbox):
    client = sap.client()
    invoice = client.post_supplier_invoice(
        "Acme Corp", "INV-7781", Decimal("12000"), "USD", "PO-10001", date(2025, 3, 1), "req-inv-1"
    )

    assert invoice.invoice_number.startswith("51056") and invoice.fiscal_year == "2025"
    assert (invoice.amount, invoice.po_numbers, invoice.document_date) == (
        Decimal("12000.00"),
        ["PO-10001"],
        date(2025, 3, 1),
    )
    calls = sandbox.calls("sap")
    fetch = next(c for c in calls if c["headers"].get("x-csrf-token") == "Fetch")
    post = next(c for c in calls if c["method"] == "POST")
    assert fetch["method"] == "HEAD" and post["path"] == f"{INVOICE_PATH}/A_SupplierInvoice"
    assert (
        post["headers"]["x-csrf-token"] not in ("", "Fetch") and "SAP_SESSIONID" in post["headers"]["cookie"]
    )
    body = json.loads(post["body"])
    assert (
        body["InvoicingParty"] == invoice.supplier_id and body["SupplierInvoiceIDByInvcgParty"] == "INV-7781"
    )
    assert body["DocumentDate"].startswith("/Date(") and body["InvoiceGrossAmount"] == "12000.00"
    assert body["to_SuplrInvcItemPurOrdRef"][0]["PurchaseOrder"] == "PO-10001"

    po = client.purchase_order("PO-10001")
    assert po is not None and (po.invoiced_amount, po.open_amount) == (
        Decimal("12000.00"),
        Decimal("38000.00"),
    )
    assert client.supplier_invoice("Acme Corp", "INV-7781") == invoice


def test_a_retried_post_returns_the_first_invoice_and_another_request_is_a_duplicate(sap, sandbox):
    client = sap.client()
    args = ("Globex", "G-100", "800.00", "USD", "PO-10002", date(2025, 4, 2))
    first = client.post_supplier_invoice(*args, "req-a")
    again = client.post_supplier_invoice(*args, "req-a")
    assert again == first

    with pytest.raises(DuplicateInvoice, match="already posted") as refused:
        client.post_supplier_invoice(*args, "req-b")
    assert isinstance(refused.value, VendorRejected) and refused.value.code == "M8/108"
    assert len([c for c in sandbox.calls("sap") if c["method"] == "POST"]) == 1


def test_an_expired_csrf_token_is_fetched_again(sap, sandbox):
    client = sap.client()
    client.post_supplier_invoice("Hooli", "H-1", "10", "USD", None, date(2025, 5, 5), "req-h1")
    sandbox.reset()  # the emulator forgets its sessions: the client's token is stale

    client.post_supplier_invoice("Hooli", "H-2", "20", "USD", None, date(2025, 5, 5), "req-h2")

    posts = [c for c in sandbox.calls("sap") if c["method"] in ("POST", "HEAD")]
    assert [c["method"] for c in posts] == ["POST", "HEAD", "POST"]  # refused, new token, accepted


def test_the_emulator_refuses_writes_without_the_token_in_sap_shape(raw):
    refused = raw.post("API_SUPPLIERINVOICE_PROCESS_SRV/A_SupplierInvoice", json={})
    assert refused.status_code == 403 and refused.headers["x-csrf-token"] == "Required"

    token = raw.get("API_BUSINESS_PARTNER/", headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
    bad = raw.post(
        "API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder", json={"Bogus": 1}, headers={"x-csrf-token": token}
    )
    error = bad.json()["error"]
    assert bad.status_code == 400 and error["message"]["value"] == "Property 'Bogus' is invalid"
    assert error["innererror"]["errordetails"][0]["severity"] == "error"

    page = raw.get(
        "API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder", params={"$top": 2, "$inlinecount": "allpages"}
    )
    assert page.json()["d"]["__count"] == "12" and len(page.json()["d"]["results"]) == 2


def test_create_purchase_order_deep_inserts_once_per_key(sap, sandbox):
    client = sap.client()
    lines = [NewPurchaseOrderLine(text="Toner", quantity=Decimal(4), net_price=Decimal("25.50"))]
    first = client.create_purchase_order("Keystone Office Supply", lines, "USD", idempotency_key="req-po-1")
    again = client.create_purchase_order("Keystone Office Supply", lines, "USD", idempotency_key="req-po-1")

    assert again.po_number == first.po_number and first.po_number.startswith("45")
    assert (first.net_amount, first.open_amount, first.supplier_name) == (
        Decimal("102.00"),
        Decimal("102.00"),
        "Keystone Office Supply",
    )
    posts = [c for c in sandbox.calls("sap") if c["method"] == "POST"]
    assert len(posts) == 1
    body = json.loads(posts[0]["body"])
    assert (
        body["CorrespncExternalReference"] == "req-po-1"
        and body["to_PurchaseOrderItem"][0]["Plant"] == "1010"
    )
    long_key = client.create_purchase_order("Hooli", lines, "USD", idempotency_key="x" * 40)
    assert len(long_key.external_reference) == 12


def test_listing_follows_top_skip_and_server_next_links(sap, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.sap.PAGE_SIZE", 3)
    monkeypatch.setattr("eas_sandbox.vendors.sap.SERVER_PAGE_SIZE", 2)
    client = sap.client()
    lines = [NewPurchaseOrderLine(net_price=Decimal(10))]
    made = [
        client.create_purchase_order("Acme Corp", lines, "USD", idempotency_key=f"page-{n}").po_number
        for n in range(3)
    ]

    orders = client.purchase_orders_of_supplier("Acme Corp")

    assert [po.po_number for po in orders] == ["PO-10001", "PO-10010", *made]
    queries = [c["query"] for c in sandbox.calls("sap") if c["path"].endswith("/A_PurchaseOrder")]
    assert any("skiptoken" in q for q in queries) and any("skip=3" in q for q in queries)


def test_throttling_is_retried_after_retry_after(sap, sandbox):
    sandbox.fault("throttle", "sap", count=1, retry_after_s=0.3)
    started = time.monotonic()

    assert sap.client().purchase_order("PO-10002") is not None
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(sap, sandbox):
    sandbox.fault("error", "sap", count=10, status=502)

    with pytest.raises(
        ConnectorUnavailable, match="sap: still failing after 3 attempts.*502.*system failure"
    ):
        sap.client().supplier("17300001")
    assert len(sandbox.calls("sap")) == 3


def test_refusals_are_final_and_name_the_vendor_message(sap, sandbox):
    sandbox.fault("unauthorized", "sap", count=1)

    with pytest.raises(VendorRejected, match="Logon failed") as refused:
        sap.client().supplier("17300001")
    assert refused.value.status == 401
    assert len(sandbox.calls("sap")) == 1


def test_the_breaker_opens_on_outages_and_closes_after_recovery(sandbox, connector_options):
    env = sandbox.env
    options = {**connector_options, "breaker_reset_timeout_s": 1.5}  # stays open while the test looks
    sap = SapResource(
        base_url=env["EAS_SAP_URL"], user=env["EAS_SAP_USER"], password=env["EAS_SAP_PASSWORD"], **options
    )
    sandbox.fault("error", "sap", count=6)
    client = sap.client()
    with pytest.raises(ConnectorUnavailable):
        client.supplier("17300001")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.supplier("17300001")
    calls = len(sandbox.calls("sap"))
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.supplier("17300001")
    assert len(sandbox.calls("sap")) == calls

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s
    assert client.supplier("17300001") is not None
    assert sap.breaker.current_state == "closed"
