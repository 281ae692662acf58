"""The SAP emulator's logistics services, read through the connector's client as the operations agent does.

Stock (``API_MATERIAL_STOCK_SRV``), goods movements (``API_MATERIAL_DOCUMENT_SRV``), purchasing info
records, inbound deliveries (``API_INBOUND_DELIVERY_SRV;v=0002``, a versioned service path) and plants.
Read-only against the session's seed, except the PO created with a material.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from eas_pipelines.connectors.sap import NewPurchaseOrderLine, SapClient
from eas_pipelines.runs import now_utc
from eas_sandbox.vendors.sap_logistics import HISTORY_DAYS, MATERIALS, daily_quantity
from tests.support.vendor_clients import reader, reader_options, sap_resource


@pytest.fixture
def client(sandbox_session, redis_url: str, redis_key_prefix: str) -> Iterator[SapClient]:
    options = reader_options(sandbox_session.env, redis_url, f"{redis_key_prefix}circuit")
    with reader(sap_resource(sandbox_session.env, **options)) as sap:
        yield sap


def test_stock_per_plant_and_storage_location(client: SapClient) -> None:
    levels = client.material_stock("SKU-1182")
    assert {(s.plant, s.storage_location, s.quantity, s.unit) for s in levels} == {
        ("1010", "101A", Decimal("140"), "EA"),
        ("1710", "171A", Decimal("60"), "EA"),
    }
    assert [s.plant for s in client.material_stock("SKU-1182", "1710")] == ["1710"]
    assert client.material_stock("SKU-0000") == []


def test_goods_movements_split_issues_from_receipts(client: SapClient) -> None:
    material = next(m for m in MATERIALS if m.sku == "SKU-2040")
    today = now_utc().date()
    movements = client.goods_movements("SKU-2040", "1010")
    assert len(movements) > 60  # a day's issue each, and the receipts
    issues = [m for m in movements if m.is_consumption]
    receipts = [m for m in movements if m.debit_credit == "S"]
    assert receipts and all(not m.is_consumption for m in receipts)
    expected = sum(
        daily_quantity(material, today - timedelta(days=back)) for back in range(1, HISTORY_DAYS + 1)
    )
    assert sum(m.quantity for m in issues) == expected
    assert movements == sorted(movements, key=lambda m: (m.posting_date, m.document))
    since = today - timedelta(days=7)
    assert all(m.posting_date >= since for m in client.goods_movements("SKU-2040", "1010", since))


def test_purchasing_terms_come_from_the_info_record(client: SapClient) -> None:
    (terms,) = client.purchasing_terms("SKU-1182", "1010")
    assert (terms.supplier_id, terms.net_price, terms.currency, terms.lead_time_days) == (
        "17300001",
        Decimal("85.00"),
        "USD",
        14,
    )
    assert (terms.minimum_quantity, terms.standard_quantity) == (Decimal(50), Decimal(200))
    assert len(client.purchasing_terms("SKU-1182")) == 2  # one per plant


def test_inbound_deliveries_by_tracking_number_and_by_po(client: SapClient) -> None:
    (delivery,) = client.inbound_deliveries_by_tracking("1Z999AA10123456784")
    assert (delivery.delivery, delivery.goods_movement_status, delivery.po_numbers) == (
        "180000001",
        "A",
        ["PO-10001"],
    )
    assert delivery.goods_receipt_date is None and delivery.delivery_date is not None
    (received,) = client.inbound_deliveries_of_po("PO-10002")
    assert received.goods_movement_status == "C" and received.goods_receipt_date is not None
    assert (
        client.inbound_deliveries_by_tracking("NOPE") == [] and client.inbound_deliveries_of_po("PO-0") == []
    )


def test_plants_and_a_po_item_carrying_its_material(client: SapClient) -> None:
    assert {p.plant: p.name for p in client.plants()}["1010"] == "Hamburg"
    line = NewPurchaseOrderLine(
        text="scanners", quantity=Decimal(3), net_price=Decimal("85"), material="SKU-1182"
    )
    po = client.create_purchase_order("Acme Corp", [line], "USD", idempotency_key=f"t:{uuid.uuid4().hex}")
    assert [(item.material, item.quantity) for item in po.lines] == [("SKU-1182", Decimal(3))]
    assert po.net_amount == Decimal("255.00")
