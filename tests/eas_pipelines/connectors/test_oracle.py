"""Oracle Fusion's connector against the Financials REST emulator: shapes, paging, retries, idempotency."""

from __future__ import annotations

import base64
import json
import time
from datetime import date
from decimal import Decimal

import pytest

from eas_pipelines.connectors.oracle import OracleResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.sap import DuplicateInvoice

API = "/oracle/fscmRestApi/resources/11.13.18.05"


@pytest.fixture
def oracle(sandbox, connector_options) -> OracleResource:
    env = sandbox.env
    return OracleResource(
        base_url=env["EAS_ORACLE_URL"],
        user=env["EAS_ORACLE_USER"],
        password=env["EAS_ORACLE_PASSWORD"],
        **connector_options,
    )


def test_create_invoice_sends_the_documented_request(oracle, sandbox):
    invoice = oracle.client().create_invoice(
        "INV-501", "Acme Corp", Decimal("1250.50"), "USD", date(2025, 2, 3), po_number="PO-10001"
    )

    assert invoice.invoice_id > 0 and invoice.invoice_number == "INV-501"
    assert (invoice.amount, invoice.currency, invoice.invoice_date) == (
        Decimal("1250.50"),
        "USD",
        date(2025, 2, 3),
    )
    assert invoice.lines[0].po_number == "PO-10001" and invoice.supplier_number == "1001"
    calls = sandbox.calls("oracle")
    lookup, post = calls[0], calls[-1]
    assert lookup["method"] == "GET" and lookup["path"] == f"{API}/invoices"
    assert "InvoiceNumber" in lookup["query"] and "totalResults=true" in lookup["query"]
    assert post["method"] == "POST" and post["path"] == f"{API}/invoices"
    assert post["headers"]["content-type"] == "application/vnd.oracle.adf.resourceitem+json"
    assert post["headers"]["rest-framework-version"] == "4"
    env = sandbox.env
    token = base64.b64encode(f"{env['EAS_ORACLE_USER']}:{env['EAS_ORACLE_PASSWORD']}".encode()).decode()
    assert post["headers"]["authorization"] == f"Basic {token}"
    body = json.loads(post["body"])
    assert body["Supplier"] == "Acme Corp" and body["invoiceLines"][0]["LineAmount"] == 1250.5

    assert oracle.client().invoice(invoice.invoice_id) == invoice
    assert oracle.client().invoice(42) is None


def test_a_retried_create_returns_the_first_invoice_and_a_different_one_is_a_duplicate(oracle, sandbox):
    client = oracle.client()
    first = client.create_invoice("INV-9", "Globex", "300", "USD", date(2025, 1, 1))
    again = client.create_invoice("INV-9", "Globex", "300.00", "USD", date(2025, 1, 1))
    assert again.invoice_id == first.invoice_id

    with pytest.raises(DuplicateInvoice, match="already exists"):
        client.create_invoice("INV-9", "Globex", "999", "USD", date(2025, 1, 1))
    assert len([c for c in sandbox.calls("oracle") if c["method"] == "POST"]) == 1
    assert [i.invoice_id for i in client.invoices("Supplier = 'Globex'")] == [first.invoice_id]


def test_listing_follows_has_more(oracle, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.oracle.PAGE_SIZE", 2)
    client = oracle.client()
    made = [
        client.create_invoice(f"P-{n}", "Hooli", 10 + n, "USD", date(2025, 1, 1)).invoice_id for n in range(5)
    ]

    assert [invoice.invoice_id for invoice in client.invoices("Supplier = 'Hooli'")] == made
    assert len(client.invoices(limit=3)) == 3
    offsets = [
        c["query"] for c in sandbox.calls("oracle") if c["method"] == "GET" and "offset=4" in c["query"]
    ]
    assert offsets


def test_suppliers_are_seeded_and_created_once(oracle, sandbox):
    client = oracle.client()
    assert len(client.suppliers()) == 11
    [acme] = client.suppliers("Acme Corp")
    assert acme.supplier_number == "1001" and acme.status == "ACTIVE"

    made = client.create_supplier("Wayne Enterprises")
    assert client.create_supplier("Wayne Enterprises") == made
    assert client.suppliers("Wayne Enterprises") == [made]
    assert len([c for c in sandbox.calls("oracle") if c["method"] == "POST"]) == 1


def test_refusals_carry_oracles_error_details(oracle, sandbox):
    with pytest.raises(VendorRejected, match="Supplier isn't valid") as refused:
        oracle.client().create_invoice("X-1", "Nobody Inc", "1", "USD", date(2025, 1, 1))
    assert refused.value.status == 400

    sandbox.fault("unauthorized", "oracle", count=1)
    with pytest.raises(VendorRejected, match="401") as unauthorized:
        oracle.client().suppliers("Acme Corp")
    assert unauthorized.value.status == 401


def test_throttling_is_retried_after_retry_after(oracle, sandbox):
    sandbox.fault("throttle", "oracle", count=1, retry_after_s=0.3)
    started = time.monotonic()

    assert oracle.client().create_invoice("T-1", "Fabrikam", "5", "EUR", date(2025, 1, 1)).invoice_id
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(oracle, sandbox):
    sandbox.fault("error", "oracle", count=10, status=503)

    with pytest.raises(
        ConnectorUnavailable, match="oracle: still failing after 3 attempts.*503.*unavailable"
    ):
        oracle.client().suppliers("Acme Corp")
    assert len(sandbox.calls("oracle")) == 3
