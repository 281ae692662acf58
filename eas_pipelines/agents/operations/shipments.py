"""Shipment rules, free of Dagster: an inbound delivery's state in the words a requester reads.

SAP's inbound delivery carries the goods-movement status of its receipt (``A`` not yet received, ``B``
partly, ``C`` fully), the planned delivery date and, once received, the goods-receipt date; "late" is
a delivery not fully received after its planned date.
"""

from __future__ import annotations

from datetime import date

from eas_pipelines.connectors.sap import InboundDelivery

STATUS_WORDS = {"A": "in transit", "B": "partly received", "C": "received"}


def shipment_state(delivery: InboundDelivery, today: date) -> str:
    """``in transit``, ``partly received``, ``received`` or ``late`` (not received after its date)."""
    state = STATUS_WORDS.get(delivery.goods_movement_status, "status unknown")
    if state != "received" and delivery.delivery_date is not None and delivery.delivery_date < today:
        return "late"
    return state


def describe(delivery: InboundDelivery, supplier_name: str, today: date) -> str:
    """One line about the delivery: what, from whom, for which PO, and where it stands."""
    state = shipment_state(delivery, today)
    goods = ", ".join(f"{item.quantity:g} {item.unit} {item.material}".strip() for item in delivery.items)
    pos = ", ".join(delivery.po_numbers) or "no PO"
    if state == "received" and delivery.goods_receipt_date is not None:
        when = f"received on {delivery.goods_receipt_date:%Y-%m-%d}"
    elif delivery.delivery_date is not None:
        when = f"{state}, due {delivery.delivery_date:%Y-%m-%d}"
    else:
        when = state
    tracking = f" (tracking {delivery.tracking_number})" if delivery.tracking_number else ""
    return f"Delivery {delivery.delivery}{tracking} from {supplier_name} for {pos}: {goods}; {when}"
