"""The operations agent: its rules, and its four workflows end to end against the SAP emulator.

A request goes in as the gateway queues it (a sentence and the entities the NLP service extracts); what
the workflow did is read back from SAP through the connector's client (the PO created, its material and
quantity) and from the requester's mailbox. The emulator's logistics seed (stock, 60 days of goods
movements, info records, inbound deliveries: ``eas_sandbox.vendors.sap_logistics``) is read-only here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.operations import (
    operations_inventory_check,
    operations_purchase_order,
    operations_reorder,
    operations_shipment_tracking,
)
from eas_pipelines.agents.operations.inventory import (
    daily_consumption,
    inventory_position,
    plant_for_location,
    reorder_quantity,
)
from eas_pipelines.agents.operations.orders import requested_amount
from eas_pipelines.agents.operations.shipments import shipment_state
from eas_pipelines.connectors.sap import (
    GoodsMovement,
    InboundDelivery,
    PurchaseOrder,
    SapClient,
    StockLevel,
)
from eas_pipelines.routing import ApprovalPolicy, route_for
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import RequestStore, Status
from eas_sandbox.faults import Fault
from eas_sandbox.vendors.sap_logistics import MATERIALS, daily_quantity
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

TODAY = date(2026, 3, 2)  # a Monday

# --- rules --------------------------------------------------------------------------------


def issue(day: date, quantity: int, kind: str = "261", side: str = "H", plant: str = "1010") -> GoodsMovement:
    return GoodsMovement(
        document=f"49{day:%m%d}{quantity}",
        material="SKU-1",
        plant=plant,
        posting_date=day,
        movement_type=kind,
        quantity=Decimal(quantity),
        unit="EA",
        debit_credit=side,
    )


def stock(quantity: int, stock_type: str = "01") -> StockLevel:
    return StockLevel(
        material="SKU-1", plant="1010", stock_type=stock_type, quantity=Decimal(quantity), unit="EA"
    )


def test_daily_consumption_counts_every_day_and_only_goods_issues() -> None:
    movements = [
        issue(TODAY - timedelta(days=3), 10),
        issue(TODAY - timedelta(days=3), 5, "601"),
        issue(TODAY - timedelta(days=2), 100, "101", "S"),  # a receipt: not consumption
        issue(TODAY - timedelta(days=40), 99),  # outside the window
    ]
    usage = daily_consumption(movements, TODAY - timedelta(days=4), TODAY - timedelta(days=1))
    assert usage.tolist() == [0.0, 15.0, 0.0, 0.0]


def test_reorder_point_is_lead_time_usage_plus_safety_stock() -> None:
    steady = [issue(TODAY - timedelta(days=back), 10) for back in range(1, 31)]
    position = inventory_position("SKU-1", "1010", [stock(200), stock(50, "07")], steady, 7, TODAY)
    assert (position.on_hand, position.daily_usage, position.safety_stock) == (200.0, 10.0, 0.0)
    assert position.reorder_point == pytest.approx(70.0)
    assert not position.below_reorder_point and reorder_quantity(position) == 0
    uneven = [issue(TODAY - timedelta(days=back), 20 if back % 2 else 0) for back in range(1, 31)]
    low = inventory_position("SKU-1", "1010", [stock(60)], uneven, 4, TODAY)
    assert low.daily_usage == pytest.approx(10.0) and low.usage_std == pytest.approx(10.0)
    assert low.safety_stock == pytest.approx(1.65 * 10.0 * 2)
    assert low.reorder_point == pytest.approx(40 + 33)
    assert low.below_reorder_point
    assert reorder_quantity(low) == 73 + 300 - 60
    assert reorder_quantity(low, minimum=500) == 500


def test_plant_for_location_by_name_or_code() -> None:
    plants = {"1010": "Hamburg", "1720": "Dallas DC"}
    assert plant_for_location("the Dallas DC", plants) == "1720"
    assert plant_for_location("Hamburg warehouse", plants) == "1010"
    assert plant_for_location("1010", plants) == "1010"
    assert plant_for_location("Osaka", plants) is None


def test_shipment_state_and_requested_amount() -> None:
    due = InboundDelivery(delivery="1", supplier_id="1", delivery_date=TODAY, goods_movement_status="A")
    assert shipment_state(due, TODAY) == "in transit"
    assert shipment_state(due, TODAY + timedelta(days=1)) == "late"
    assert shipment_state(
        due.model_copy(update={"goods_movement_status": "C"}), TODAY + timedelta(days=9)
    ) == ("received")
    item = WorkItem("r", "operations", "operations.purchase_order", "t", "c", 1, (), 1, "run")
    with_amount = WorkItem(
        **{**item.__dict__, "entities": ({"type": "amount", "value": {"amount": 2500.0}},)}
    )
    assert requested_amount(with_amount, "USD") == (Decimal("2500.00"), "USD")
    assert requested_amount(item, "USD") is None


def test_orders_route_to_procurement_approval_over_the_threshold() -> None:
    for intent in ("operations.purchase_order", "operations.reorder"):
        route = route_for(intent)
        assert (route.approval, route.approver_role) == (
            ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
            "procurement_manager",
        )
    assert route_for("operations.inventory_check").job == operations_inventory_check.name
    assert route_for("operations.shipment_tracking").job == operations_shipment_tracking.name


# --- end to end --------------------------------------------------------------------------------


@pytest.fixture
def sap_down(sandbox_session) -> Iterator[None]:
    """The SAP emulator answers every call with a 503 until the test ends."""
    faults = sandbox_session.sandbox.faults
    faults.add(Fault(kind="error", vendor="sap", rate=1.0))
    try:
        yield
    finally:
        faults.clear()


def request(store: RequestStore, text: str, intent: str, *found: tuple[str, str]):
    """A queued request for ``text`` with the entities (type, snippet of ``text``) the NLP service finds."""
    return queued_request(store, text, intent, [entity(text, kind, snippet) for kind, snippet in found])


def audit_of(store: RequestStore, request_id: str, action: str) -> dict[str, Any]:
    (entry,) = [e for e in store.audit_trail(request_id) if e.action == action]
    return entry.detail


def mail(sandbox_session, redis_url: str, record) -> list[str]:
    return [m.text for m in received(sandbox_session, redis_url, record.client_id, request_id=record.id)]


def created_po(store: RequestStore, sap: SapClient, request_id: str) -> PurchaseOrder:
    po = sap.purchase_order(audit_of(store, request_id, "purchase_order.created")["po_number"])
    assert po is not None
    return po


def test_inventory_check_reports_usage_and_reorder_point(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    text = "how many SKU-1182 do we have in Hamburg"
    record = request(store, text, "operations.inventory_check", ("sku", "SKU-1182"), ("location", "Hamburg"))

    result = run_workflow(operations_inventory_check, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (position,) = audit_of(store, record.id, "inventory.checked")["positions"]
    today = store.get(record.id).created_at.date()
    material = next(m for m in MATERIALS if m.sku == "SKU-1182")
    usage = [daily_quantity(material, today - timedelta(days=back)) for back in range(1, 31)]
    assert position["plant"] == "1010" and position["on_hand"] == 140.0
    assert position["daily_usage"] == pytest.approx(sum(usage) / 30, abs=1e-3)
    assert position["lead_time_days"] == 14  # from Acme's info record
    assert position["reorder_point"] > position["daily_usage"] * 14  # plus a safety stock
    (message,) = mail(sandbox_session, redis_url, record)
    assert "SKU-1182 at plant 1010: 140 EA on hand" in message


def test_reorder_under_the_threshold_creates_the_po_in_sap(store, eas_resources, dagster_instance, sap):
    text = "reorder 20 units of SKU-3310"
    record = request(store, text, "operations.reorder", ("quantity", "20"), ("sku", "SKU-3310"))

    result = run_workflow(operations_reorder, record.id, dagster_instance, eas_resources, store)

    assert result.success and store.get(record.id).status is Status.SUCCEEDED
    po = created_po(store, sap, record.id)
    assert (po.supplier_name, po.net_amount, po.currency) == (
        "Keystone Office Supply",
        Decimal("490.00"),
        "USD",
    )
    assert [(line.material, line.quantity) for line in po.lines] == [("SKU-3310", Decimal(20))]
    assert "approval.not_required" in [e.action for e in store.audit_trail(record.id)]


def test_computed_reorder_over_the_threshold_waits_for_procurement_then_orders(
    store, eas_resources, dagster_instance, sap, sandbox_session, redis_url
):
    text = "SKU-1182 is running low, reorder it"
    record = request(store, text, "operations.reorder", ("sku", "SKU-1182"))

    first = run_workflow(operations_reorder, record.id, dagster_instance, eas_resources, store)

    assert first.success and store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "procurement_manager"
    plan = audit_of(store, record.id, "reorder.planned")
    assert plan["plant"] == "1010" and plan["below_reorder_point"]
    assert plan["quantity"] >= 50 and plan["on_hand"] + plan["quantity"] > plan["reorder_point"]
    assert plan["total"] == plan["quantity"] * 85 > 10_000

    store.decide(record.id, "approved", "pat.procurement", "stock is low")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    second = run_workflow(operations_reorder, record.id, dagster_instance, eas_resources, store)

    assert second.success and store.get(record.id).status is Status.SUCCEEDED
    po = created_po(store, sap, record.id)
    assert po.supplier_name == "Acme Corp"
    assert [(line.material, line.quantity) for line in po.lines] == [("SKU-1182", Decimal(plan["quantity"]))]
    assert any(po.po_number in text for text in mail(sandbox_session, redis_url, record))


def test_purchase_order_for_an_amount_is_created_and_over_the_threshold_waits(
    store, eas_resources, dagster_instance, sap, sandbox_session, redis_url
):
    small = request(
        store,
        "raise a PO to Globex for $2,500",
        "operations.purchase_order",
        ("vendor", "Globex"),
        ("amount", "$2,500"),
    )
    assert run_workflow(operations_purchase_order, small.id, dagster_instance, eas_resources, store).success
    assert store.get(small.id).status is Status.SUCCEEDED
    po = created_po(store, sap, small.id)
    assert (po.supplier_name, po.net_amount) == ("Globex", Decimal("2500.00"))

    text = "create a purchase order for 5 SKU-4500 from Hooli"
    big = request(
        store, text, "operations.purchase_order", ("quantity", "5"), ("sku", "SKU-4500"), ("vendor", "Hooli")
    )
    assert run_workflow(operations_purchase_order, big.id, dagster_instance, eas_resources, store).success
    assert store.get(big.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=big.id)
    assert approval.approver == "procurement_manager"
    (asked,) = received(sandbox_session, redis_url, "procurement_manager", request_id=big.id)
    assert "21,000.00 USD" in asked.text
    assert "purchase_order.created" not in [e.action for e in store.audit_trail(big.id)]


def test_status_of_an_existing_po_creates_nothing(store, eas_resources, dagster_instance):
    record = request(store, "status of PO-10003", "operations.purchase_order", ("po_number", "PO-10003"))
    result = run_workflow(operations_purchase_order, record.id, dagster_instance, eas_resources, store)
    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    summary = audit_of(store, record.id, "workflow.completed")["summary"]
    assert summary == "purchase order PO-10003 to Initech Ltd is open, not yet invoiced"
    actions = [e.action for e in store.audit_trail(record.id)]
    assert "purchase_order.found" in actions and "purchase_order.created" not in actions


def test_shipment_tracked_by_tracking_number_and_by_po(store, eas_resources, dagster_instance):
    text = "track package 1Z999AA10123456784"
    by_tracking = request(
        store, text, "operations.shipment_tracking", ("tracking_number", "1Z999AA10123456784")
    )
    assert run_workflow(
        operations_shipment_tracking, by_tracking.id, dagster_instance, eas_resources, store
    ).success
    assert audit_of(store, by_tracking.id, "shipment.tracked")["states"] == {"180000001": "in transit"}

    text = "did the goods for PO-10002 ship yet"
    by_po = request(store, text, "operations.shipment_tracking", ("po_number", "PO-10002"))
    assert run_workflow(
        operations_shipment_tracking, by_po.id, dagster_instance, eas_resources, store
    ).success
    assert audit_of(store, by_po.id, "shipment.tracked")["states"] == {"180000002": "received"}


@pytest.mark.parametrize(
    ("job", "text", "intent", "found", "reason"),
    [
        (operations_inventory_check, "stock check: SKU-99999", "operations.inventory_check",
         [("sku", "SKU-99999")], "SAP holds no stock or goods movements of SKU-99999"),
        (operations_inventory_check, "is SKU-1182 in stock at Osaka", "operations.inventory_check",
         [("sku", "SKU-1182"), ("location", "Osaka")], "no SAP plant matches the location 'Osaka'"),
        (operations_reorder, "place a reorder for SKU-1182 with Globex", "operations.reorder",
         [("sku", "SKU-1182"), ("vendor", "Globex")], "Globex has no purchasing info record for SKU-1182"),
        (operations_shipment_tracking, "where is 1Z000000000000000", "operations.shipment_tracking",
         [("tracking_number", "1Z000000000000000")], "SAP has no inbound delivery for tracking number"),
        (operations_purchase_order, "open a purchase order with Globex", "operations.purchase_order",
         [("vendor", "Globex")], "missing what to order: amount"),
    ],
)  # fmt: skip
def test_refusals_fail_the_request_with_the_reason(
    store, eas_resources, dagster_instance, job, text, intent, found, reason
):
    record = request(store, text, intent, *found)
    result = run_workflow(job, record.id, dagster_instance, eas_resources, store)
    assert result.success  # a business refusal is not a run failure
    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert reason in (failed.last_error or "")


def test_sap_down_fails_the_run_and_creates_nothing(store, eas_resources, dagster_instance, sap_down):
    record = request(
        store, "reorder 20 units of SKU-3310", "operations.reorder", ("quantity", "20"), ("sku", "SKU-3310")
    )
    result = run_workflow(operations_reorder, record.id, dagster_instance, eas_resources, store)
    assert not result.success
    assert (
        store.get(record.id).status is Status.RUNNING
    )  # left to the failure sensor, which retries or fails it
    assert "purchase_order.created" not in [e.action for e in store.audit_trail(record.id)]
