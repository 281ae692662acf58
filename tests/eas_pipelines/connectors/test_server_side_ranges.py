"""Reads whose ranges the vendor cuts: SAP's ``$filter`` with ``ge``/``lt`` on dates, ServiceNow's encoded
query with ``IN`` and ``>=``/``<`` on ``sys_created_on``, through the connectors' clients.

Each test checks the answer and that the range travelled in the request (not applied after a full read).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.sap import SapResource, posting_window
from eas_pipelines.connectors.servicenow import ServiceNowResource, servicenow_datetime
from tests.support.vendor_clients import sap_resource, servicenow_resource

ACME, GLOBEX = "Acme Corp", "Globex"


@pytest.fixture
def sap(sandbox, connector_options) -> SapResource:
    return sap_resource(sandbox.env, **connector_options)


@pytest.fixture
def servicenow(sandbox, connector_options) -> ServiceNowResource:
    return servicenow_resource(sandbox.env, **connector_options)


def _filters(sandbox, path_end: str) -> list[str]:
    """The ``$filter`` of each read of a set, as the emulator received it."""
    return [
        parse_qs(call["query"]).get("$filter", [""])[0]
        for call in sandbox.calls("sap")
        if call["method"] == "GET" and call["path"].endswith(path_end)
    ]


def test_posting_window_sends_both_ends_as_datetime_literals():
    assert posting_window(date(2025, 7, 1), date(2025, 7, 31)) == [
        "PostingDate ge datetime'2025-07-01T00:00:00'",
        "PostingDate lt datetime'2025-08-01T00:00:00'",
    ]
    assert posting_window(None, date(2025, 12, 31), "DeliveryDate") == [
        "DeliveryDate lt datetime'2026-01-01T00:00:00'"
    ]
    assert posting_window(None, None) == []


def test_supplier_invoices_are_cut_by_posting_date_reference_and_supplier(sap, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.sap.PAGE_SIZE", 2)
    monkeypatch.setattr("eas_sandbox.vendors.sap.SERVER_PAGE_SIZE", 1)
    client = sap.client()
    posted = {
        "R-JUN30": (ACME, date(2025, 6, 30)),
        "R-JUL01": (ACME, date(2025, 7, 1)),
        "R-JUL15": (GLOBEX, date(2025, 7, 15)),
        "R-JUL31": (ACME, date(2025, 7, 31)),
        "R-AUG01": (GLOBEX, date(2025, 8, 1)),
    }
    for reference, (supplier, day) in posted.items():
        client.post_supplier_invoice(
            supplier, reference, Decimal("10.00"), "USD", None, day, f"key:{reference}", posting_date=day
        )
    second = date(2025, 7, 2)  # Globex uses the same reference: another supplier, another invoice
    client.post_supplier_invoice(
        GLOBEX, "R-JUL01", Decimal("5.00"), "USD", None, second, "key:g", posting_date=second
    )

    july = client.supplier_invoices(posted_from=date(2025, 7, 1), posted_to=date(2025, 7, 31))
    by_reference = client.supplier_invoices(reference="R-JUL01")
    acme_july = client.supplier_invoices(
        posted_from=date(2025, 7, 1), posted_to=date(2025, 7, 31), supplier_id="17300001"
    )

    assert [i.invoice_reference for i in july] == ["R-JUL01", "R-JUL01", "R-JUL15", "R-JUL31"]
    assert all(date(2025, 7, 1) <= i.posting_date <= date(2025, 7, 31) for i in july)
    assert {(i.invoice_reference, i.supplier_id) for i in by_reference} == {
        ("R-JUL01", "17300001"),
        ("R-JUL01", "17300002"),
    }
    assert [i.invoice_reference for i in acme_july] == ["R-JUL01", "R-JUL31"]
    assert client.supplier_invoices(posted_from=date(2025, 9, 1)) == []
    assert len(client.supplier_invoices()) == 6
    sent = _filters(sandbox, "/A_SupplierInvoice")
    assert (
        "PostingDate ge datetime'2025-07-01T00:00:00' and PostingDate lt datetime'2025-08-01T00:00:00'"
        in sent
    )
    assert "SupplierInvoiceIDByInvcgParty eq 'R-JUL01'" in sent


def test_goods_movements_send_their_window_to_sap(sap, sandbox):
    client = sap.client()
    everything = client.goods_movements("SKU-2040", "1010")
    days = sorted({m.posting_date for m in everything})
    since, until = days[len(days) // 2], days[-3]

    window = client.goods_movements("SKU-2040", "1010", since=since, until=until)

    assert window == [m for m in everything if since <= m.posting_date <= until]
    assert window and window[0].posting_date == since
    assert (
        f"PostingDate ge datetime'{since.isoformat()}T00:00:00'"
        in _filters(sandbox, "/A_MaterialDocumentItem")[-1]
    )


def _incident(sandbox, created: str, state: str, requester: str = "") -> str:
    sys_id, number = uuid.uuid4().hex, f"INC8{uuid.uuid4().int % 10**6:06d}"
    record = {
        "sys_id": sys_id,
        "number": number,
        "state": state,
        "sys_created_on": created,
        "u_requester": requester,
    }
    sandbox.sandbox.records.put("servicenow", "incident", sys_id, record)
    return number


def test_incidents_by_state_list_and_creation_window(servicenow, sandbox):
    june = _incident(sandbox, "2025-06-30 23:59:59", "1", "kim@example.com")
    july_open = _incident(sandbox, servicenow_datetime(datetime(2025, 7, 1)), "2", "kim@example.com")
    july_closed = _incident(sandbox, "2025-07-20 08:00:00", "7", "kim@example.com")
    client = servicenow.client()

    in_july = client.incidents(
        "sys_created_on>=2025-07-01 00:00:00^sys_created_on<2025-08-01 00:00:00^ORDERBYnumber"
    )
    open_ones = client.incidents("u_requester=kim@example.com^stateIN1,2,3^ORDERBYnumber")

    assert [i.number for i in in_july] == sorted([july_open, july_closed])
    assert [i.number for i in open_ones] == sorted([june, july_open])
    queries = [c["query"] for c in sandbox.calls("servicenow") if c["method"] == "GET"]
    assert any("stateIN1%2C2%2C3" in q or "stateIN1,2,3" in q for q in queries)


def test_a_query_the_instance_cannot_read_is_refused_not_retried(servicenow, sandbox):
    with pytest.raises(VendorRejected) as refused:
        servicenow.client().incidents("numberSTARTSWITHINC")

    assert refused.value.status == 400
    assert len([c for c in sandbox.calls("servicenow") if c["method"] == "GET"]) == 1
