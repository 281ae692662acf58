"""The operations agent's workflows, on SAP S/4HANA: inventory check, reorder, purchase order, shipments.

- ``operations_inventory_check``: stock (``API_MATERIAL_STOCK_SRV``) and consumption history (material
  documents) of the SKU per plant -> on hand, daily usage, safety stock and reorder point (pandas, see
  :mod:`.inventory`) -> the answer to the requester.
- ``operations_reorder``: the same position at the plant -> the reorder quantity (or the one asked for)
  from the cheapest supplier's info record (or the named supplier's) -> approval over the amount
  threshold by ``procurement_manager`` -> the PO created in SAP -> the requester told.
- ``operations_purchase_order``: a PO for a SKU and quantity (priced from the info record) or for an
  amount, with the same approval and creation steps; a question about an existing PO ("status of
  PO-10001") reads it instead and creates nothing.
- ``operations_shipment_tracking``: inbound deliveries by tracking number or PO -> their state.

SAP has no idempotency key: the PO carries a digest of ``<request id>:sap_po`` in
``CorrespncExternalReference`` (the connector looks it up before creating), so a re-run after an
approval or a retry creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.finance.invoice import supplier_name_candidates
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.operations.inventory import (
    DEFAULT_LEAD_TIME_DAYS,
    USAGE_WINDOW_DAYS,
    InventoryPosition,
    inventory_position,
    plant_for_location,
    reorder_quantity,
)
from eas_pipelines.agents.operations.orders import (
    Order,
    OrderLine,
    cheapest,
    material_line,
    money,
    po_status,
    requested_amount,
    requested_quantity,
)
from eas_pipelines.agents.operations.shipments import describe, shipment_state
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.sap import PurchasingTerms, SapClient, SapResource, Supplier
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.runs import now_utc

AGENT = "operations"
APPROVER_ROLE = ROUTES["operations.purchase_order"].approver_role or "procurement_manager"
ORDER_STEP = "sap_po"
"""The step name in a PO's idempotency key (``<request id>:sap_po``)."""


def _job_name(intent: str) -> str:
    job = ROUTES[intent].job
    assert job is not None, f"{intent} has no job in the routing table"
    return job


def order_key(item: WorkItem) -> str:
    """The idempotency key of the request's one purchase order in SAP."""
    return item.key(ORDER_STEP)


def _today(item: WorkItem) -> date:
    return item.requested_on or now_utc().date()


def _requested_plant(item: WorkItem, client: SapClient) -> tuple[str | None, str | None]:
    """The plant the request's location names (None: every plant), or a refusal naming the location."""
    location = item.value("location")
    if not location:
        return None, None
    plants = {p.plant: p.name for p in client.plants()}
    plant = plant_for_location(str(location), plants)
    if plant is None:
        known = ", ".join(f"{name} ({code})" for code, name in sorted(plants.items()))
        return None, f"no SAP plant matches the location {location!r} (plants: {known})"
    return plant, None


def _find_supplier(client: SapClient, vendor: str) -> Supplier | None:
    """The supplier a request names, trying the usual spellings of the name (SAP matches exactly)."""
    for name in supplier_name_candidates(vendor):
        if (found := client.supplier_by_name(name)) is not None:
            return found
    return None


def _lead_time(terms: list[PurchasingTerms], plant: str) -> int | None:
    best = cheapest([t for t in terms if t.plant == plant])
    return best.lead_time_days if best is not None else None


def positions_of(
    client: SapClient, material: str, plant: str | None, today: date, lead_time: int | None = None
) -> tuple[list[InventoryPosition], list[str]]:
    """The material's position at each plant that stocks or used it (or at ``plant``), and notes on
    what was assumed. The lead time is ``lead_time`` when given (the chosen supplier's), else the
    cheapest info record's at the plant, else :data:`DEFAULT_LEAD_TIME_DAYS` (noted)."""
    stock = client.material_stock(material, plant)
    # The usage window (the USAGE_WINDOW_DAYS days ending yesterday) is cut by SAP's $filter on PostingDate.
    yesterday = today - timedelta(days=1)
    window_start = today - timedelta(days=USAGE_WINDOW_DAYS)
    movements = client.goods_movements(material, plant, since=window_start, until=yesterday)
    plants = sorted({s.plant for s in stock} | {m.plant for m in movements})
    terms = client.purchasing_terms(material, plant)
    positions, notes = [], []
    for each in plants:
        lead = lead_time if lead_time is not None else _lead_time(terms, each)
        if lead is None:
            lead = DEFAULT_LEAD_TIME_DAYS
            notes.append(f"no info record for {material} at plant {each}: lead time of {lead} days assumed")
        positions.append(
            inventory_position(
                material,
                each,
                [s for s in stock if s.plant == each],
                [m for m in movements if m.plant == each],
                lead,
                today,
            )
        )
    return positions, notes


# --- inventory check ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryReport:
    item: WorkItem
    material: str
    positions: tuple[InventoryPosition, ...]
    notes: tuple[str, ...] = ()


@workflow_step(InventoryReport)
def check_inventory(item: WorkItem, *, sap: SapResource) -> Step:
    """Read the SKU's stock and consumption from SAP and compute its position per plant."""
    material = item.value("sku")
    if not material:
        return Step.refused("the request names no SKU to check")
    client = sap.client()
    plant, problem = _requested_plant(item, client)
    if problem:
        return Step.refused(problem)
    positions, notes = positions_of(client, str(material), plant, _today(item))
    if not positions:
        where = f" at plant {plant}" if plant else ""
        return Step.refused(f"SAP holds no stock or goods movements of {material}{where}", material=material)
    report = InventoryReport(item, str(material), tuple(positions), tuple(notes))
    return Step.passed(
        report, "inventory.checked", material=material, positions=[p.audit() for p in positions], notes=notes
    )


@workflow_step(WorkResult, optional=False)
def report_inventory(report: InventoryReport, *, notifications: NotificationsResource) -> Step:
    """Tell the requester the position (and whether the quantity they asked about is there)."""
    item = report.item
    total = sum(p.on_hand for p in report.positions)
    lines = [p.summary() for p in report.positions]
    wanted = item.value("quantity")
    if isinstance(wanted, int | float) and wanted > 0:
        lines.append(
            f"At least {wanted:g} asked for: {'yes' if total >= wanted else 'no'} ({total:g} on hand)."
        )
    lines += [f"Note: {note}." for note in report.notes]
    low = [p.plant for p in report.positions if p.below_reorder_point]
    summary = f"{report.material}: {total:g} on hand" + (
        f", reorder advised at plant(s) {', '.join(low)}" if low else ""
    )
    recipients = notify_all(
        notifications,
        item,
        [item.requester],
        f"Inventory of {report.material}",
        "\n".join(lines),
        key="inventory",
    )
    detail = {"material": report.material, "on_hand": total, "below_reorder_point": low}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


# --- orders: reorder and purchase order ------------------------------------------------------------


def _terms_of(client: SapClient, item: WorkItem, material: str, plant: str | None) -> PurchasingTerms | str:
    """The terms to order ``material`` on: the named vendor's, else the cheapest; or why there are none."""
    terms = client.purchasing_terms(material, plant)
    where = f" at plant {plant}" if plant else ""
    vendor = item.value("vendor")
    if vendor:
        supplier = _find_supplier(client, str(vendor))
        if supplier is None:
            return f"{vendor} is not a supplier in SAP"
        terms = [t for t in terms if t.supplier_id == supplier.supplier_id]
        if not terms:
            return f"{supplier.name} has no purchasing info record for {material}{where}"
    best = cheapest(terms)
    if best is None:
        return (
            f"no supplier has a purchasing info record for {material}{where}: whom to order from is unknown"
        )
    return best


def _supplier_name(client: SapClient, supplier_id: str) -> str:
    found = client.supplier(supplier_id)
    return found.name if found is not None else supplier_id


@workflow_step(Order)
def plan_reorder(item: WorkItem, *, sap: SapResource) -> Step:
    """Work out what to reorder: the SKU's position at the plant, the supplier's terms, the quantity
    (the one asked for, else what brings the stock to its reorder point plus a month of usage)."""
    material = item.value("sku")
    if not material:
        return Step.refused("the request names no SKU to reorder")
    material = str(material)
    client = sap.client()
    plant, problem = _requested_plant(item, client)
    if problem:
        return Step.refused(problem)
    positions, _ = positions_of(client, material, plant, _today(item))
    if not positions:
        return Step.refused(f"SAP holds no stock or goods movements of {material}: nothing to reorder from")
    # the plant asked for, else the one furthest below its reorder point
    position = min(positions, key=lambda p: p.on_hand - p.reorder_point)
    terms = _terms_of(client, item, material, position.plant)
    if isinstance(terms, str):
        return Step.refused(terms, material=material, plant=position.plant)
    if terms.lead_time_days != position.lead_time_days:  # the named supplier's lead time, not the cheapest's
        (position,), _ = positions_of(client, material, position.plant, _today(item), terms.lead_time_days)
    asked = requested_quantity(item)
    quantity = asked if asked is not None else reorder_quantity(position, float(terms.minimum_quantity))
    if quantity == 0:
        return Step.refused(f"nothing to reorder: {position.summary()}", **position.audit())
    why = f"asked for {asked}" if asked is not None else f"computed: {position.summary()}"
    if quantity < terms.minimum_quantity:
        quantity = int(terms.minimum_quantity)
        why += f"; raised to the supplier's minimum order quantity of {quantity}"
    order = Order(
        item=item,
        supplier_id=terms.supplier_id,
        supplier_name=_supplier_name(client, terms.supplier_id),
        currency=terms.currency,
        lines=(material_line(terms, quantity, position.unit),),
        plant=position.plant,
        why=why,
    )
    detail = {
        "material": material,
        "quantity": quantity,
        "info_record": terms.info_record,
        **position.audit(),
    }
    return Step.passed(
        order, "reorder.planned", supplier_id=order.supplier_id, total=float(order.total), **detail
    )


def _existing_po(client: SapClient, item: WorkItem, po_number: str) -> Step:
    po = client.purchase_order(po_number)
    if po is None:
        return Step.refused(f"purchase order {po_number} does not exist in SAP")
    lines = tuple(
        OrderLine(
            text=line.text,
            quantity=line.quantity,
            unit=line.unit,
            net_price=line.net_price,
            material=line.material or None,
        )
        for line in po.lines
    )
    status = {"invoiced": str(po.invoiced_amount), "open": str(po.open_amount), "closed": po.closed}
    order = Order(
        item=item,
        supplier_id=po.supplier_id,
        supplier_name=po.supplier_name,
        currency=po.currency,
        lines=lines,
        po_number=po.po_number,
        existing=True,
        detail=status,
    )
    return Step.passed(order, "purchase_order.found", po_number=po.po_number, **status)


@workflow_step(Order)
def plan_purchase_order(item: WorkItem, *, sap: SapResource, policy: WorkflowPolicyResource) -> Step:
    """The PO the request describes: a SKU and quantity priced from the info record, or an amount for a
    named supplier; a request naming only a PO number asks about that PO (read, nothing created)."""
    client = sap.client()
    material, vendor = item.value("sku"), item.value("vendor")
    amount = requested_amount(item, policy.default_currency)
    po_number = item.value("po_number")
    if po_number and not (material or vendor or amount):
        return _existing_po(client, item, str(po_number))
    plant, problem = _requested_plant(item, client)
    if problem:
        return Step.refused(problem)
    if material:
        quantity = requested_quantity(item)
        if quantity is None:
            return Step.refused(f"missing the quantity of {material} to order", missing=["quantity"])
        terms = _terms_of(client, item, str(material), plant)
        if isinstance(terms, str):
            return Step.refused(terms, material=material)
        line = material_line(terms, quantity)
        supplier_id, currency, plant = terms.supplier_id, terms.currency, terms.plant
    elif vendor and amount:
        supplier = _find_supplier(client, str(vendor))
        if supplier is None:
            return Step.refused(f"{vendor} is not a supplier in SAP", vendor=vendor)
        department = item.value("department")
        text = f"Purchase for {department}" if department else "Purchase requested through EAS"
        line = OrderLine(text=text[:40], quantity=Decimal(1), unit="EA", net_price=amount[0])
        supplier_id, currency = supplier.supplier_id, amount[1]
    else:
        missing = [] if vendor else ["vendor"]
        missing += ["amount (or a SKU and quantity)"]
        return Step.refused(f"missing what to order: {', '.join(missing)}", missing=missing)
    order = Order(
        item=item,
        supplier_id=supplier_id,
        supplier_name=_supplier_name(client, supplier_id),
        currency=currency,
        lines=(line,),
        plant=plant or "1010",
        why=f'requested: "{item.text}"',
    )
    return Step.passed(
        order, "purchase_order.planned", supplier_id=supplier_id, total=float(order.total), currency=currency
    )


@workflow_step(Order)
def approve_order(order: Order, *, policy: WorkflowPolicyResource) -> Step:
    """Orders over the amount threshold wait for ``procurement_manager``; the run ends until they decide."""
    if order.existing:
        return Step.passed(order)
    threshold = policy.approval_amount_threshold
    if order.total <= Decimal(str(threshold)):
        return Step.passed(order, "approval.not_required", amount=float(order.total), threshold=threshold)
    return Step.needs_approval(
        approver=APPROVER_ROLE,
        reason=(
            f"the {order.label} exceeds the approval threshold of {money(threshold, order.currency)} "
            f"({order.why})"
        ),
        deadline_hours=policy.approval_deadline_hours,
    )


@workflow_step(Order)
def place_order(order: Order, *, sap: SapResource) -> Step:
    """Create the PO in SAP once (keyed by the request); SAP's refusal ends the request with its reason."""
    if order.existing:
        return Step.passed(order)
    item = order.item
    try:
        po = sap.client().create_purchase_order(
            order.supplier_id,
            [line.for_sap() for line in order.lines],
            order.currency,
            idempotency_key=order_key(item),
            plant=order.plant,
        )
    except VendorRejected as exc:
        return Step.refused(f"SAP refused the {order.label}: {exc}")
    created = {
        "po_number": po.po_number,
        "supplier_id": po.supplier_id,
        "amount": float(po.net_amount),
        "currency": po.currency,
        "materials": [line.material for line in po.lines if line.material],
    }
    return Step.passed(order.with_(po_number=po.po_number), "purchase_order.created", **created)


@workflow_step(WorkResult, optional=False)
def notify_order(order: Order, *, notifications: NotificationsResource) -> Step:
    """Tell the requester the PO created (or the state of the PO they asked about)."""
    item = order.item
    lines = "\n".join(
        f"- {line.quantity:g} {line.unit} {line.material or line.text} at "
        f"{money(line.net_price, order.currency)}"
        for line in order.lines
    )
    if order.existing:
        state = po_status(order.detail)
        summary = f"purchase order {order.po_number} to {order.supplier_name} is {state}"
        open_amount = money(Decimal(order.detail["open"]), order.currency)
        body = f"Purchase order {order.po_number} to {order.supplier_name}: {state}, {open_amount} open."
        body += f"\n{lines}"
    else:
        total = money(order.total, order.currency)
        summary = f"created purchase order {order.po_number} to {order.supplier_name} for {total}"
        body = f"{summary[0].upper()}{summary[1:]} (plant {order.plant}).\n{lines}\nWhy: {order.why}."
    recipients = notify_all(
        notifications, item, [item.requester], f"Purchase order {order.po_number}", body, key="po"
    )
    detail: dict[str, Any] = {
        "po_number": order.po_number,
        "amount": float(order.total),
        "currency": order.currency,
    }
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


# --- shipments ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipments:
    item: WorkItem
    asked: str
    lines: tuple[str, ...]
    states: dict[str, str] = field(default_factory=dict)


@workflow_step(Shipments)
def track_shipment(item: WorkItem, *, sap: SapResource) -> Step:
    """Find the inbound deliveries by tracking number (SAP's bill of lading) or by purchase order."""
    client = sap.client()
    tracking, po_number = item.value("tracking_number"), item.value("po_number")
    if tracking:
        asked, deliveries = (
            f"tracking number {tracking}",
            client.inbound_deliveries_by_tracking(str(tracking)),
        )
    elif po_number:
        asked, deliveries = f"purchase order {po_number}", client.inbound_deliveries_of_po(str(po_number))
    else:
        return Step.refused("the request names no tracking number or purchase order to track")
    if not deliveries:
        return Step.refused(f"SAP has no inbound delivery for {asked}")
    today = _today(item)
    lines = tuple(describe(d, _supplier_name(client, d.supplier_id), today) for d in deliveries)
    states = {d.delivery: shipment_state(d, today) for d in deliveries}
    return Step.passed(Shipments(item, asked, lines, states), "shipment.tracked", asked=asked, states=states)


@workflow_step(WorkResult, optional=False)
def report_shipment(shipments: Shipments, *, notifications: NotificationsResource) -> Step:
    """Tell the requester where the shipment stands."""
    item = shipments.item
    summary = f"{shipments.asked}: " + ", ".join(f"{d} {s}" for d, s in shipments.states.items())
    recipients = notify_all(
        notifications,
        item,
        [item.requester],
        f"Shipment status: {shipments.asked}",
        "\n".join(shipments.lines),
        key="shipment",
    )
    return Step.passed(
        WorkResult(item, summary, {"deliveries": shipments.states}),
        "notifications.sent",
        recipients=recipients,
    )


# --- jobs ------------------------------------------------------------------------------------------

operations_inventory_check = workflow_job(
    name=_job_name("operations.inventory_check"),
    agent=AGENT,
    description="Check a SKU's stock in SAP: on hand, daily usage, safety stock and reorder point per plant.",
    steps=(check_inventory, report_inventory),
)

operations_reorder = workflow_job(
    name=_job_name("operations.reorder"),
    agent=AGENT,
    description="Reorder a SKU: reorder quantity from its position and the info record, approval, PO in SAP.",
    steps=(plan_reorder, approve_order, place_order, notify_order),
)

operations_purchase_order = workflow_job(
    name=_job_name("operations.purchase_order"),
    agent=AGENT,
    description="Create a purchase order in SAP (approval over the threshold), or report an existing PO.",
    steps=(plan_purchase_order, approve_order, place_order, notify_order),
)

operations_shipment_tracking = workflow_job(
    name=_job_name("operations.shipment_tracking"),
    agent=AGENT,
    description="Track inbound deliveries in SAP by tracking number or purchase order.",
    steps=(track_shipment, report_shipment),
)
