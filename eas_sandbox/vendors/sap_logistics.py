"""The SAP emulator's logistics demo data: plants, stock, goods movements, info records, inbound deliveries.

Kept apart from :mod:`eas_sandbox.vendors.sap` (the OData protocol) so that the data reads as data. It is
laid out as the S/4HANA APIs return it (``API_MATERIAL_STOCK_SRV``, ``API_MATERIAL_DOCUMENT_SRV``,
``API_INFORECORD_PROCESS_SRV``, ``API_INBOUND_DELIVERY_SRV;v=0002``, the plant master) and dated relative
to the day the sandbox is seeded, so that "the last 30 days" of consumption always has rows.

The consumption history is deterministic (no random draw): each material has a base daily usage, a weekly
shape (weekends quieter) and a small repeating wobble, so that a test can compute the expected usage.
Goods issues are movement types 261 (to a production order) and 601 (to an outbound delivery), credit
side ``H``; goods receipts (101, debit ``S``) add stock and are not consumption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

PLANTS: dict[str, str] = {"1010": "Hamburg", "1710": "Chicago", "1720": "Dallas DC"}
"""Plant -> PlantName."""


@dataclass(frozen=True)
class Material:
    """One seeded SKU: where it is stocked, how fast it is used, who supplies it and at what terms."""

    sku: str
    unit: str
    stock: dict[tuple[str, str], int]
    """(plant, storage location) -> unrestricted stock."""
    daily_usage: float
    """Base consumption per weekday at the first plant; Saturdays and Sundays use a third of it."""
    supplier: str
    net_price: str
    currency: str
    lead_time_days: int
    minimum_quantity: int
    standard_quantity: int


MATERIALS: tuple[Material, ...] = (
    Material("SKU-1182", "EA", {("1010", "101A"): 140, ("1710", "171A"): 60}, 12.0,
             "17300001", "85.00", "USD", 14, 50, 200),
    Material("SKU-2040", "EA", {("1010", "101A"): 5200, ("1710", "171A"): 800}, 40.0,
             "17300011", "0.12", "USD", 7, 1000, 5000),
    Material("SKU-3310", "RL", {("1710", "171A"): 30}, 3.0,
             "17300010", "24.50", "USD", 10, 20, 60),
    Material("SKU-4500", "EA", {("1010", "101B"): 2}, 0.4,
             "17300004", "4200.00", "USD", 21, 5, 10),
)  # fmt: skip

HISTORY_DAYS = 60
"""Days of goods movements seeded before the seeding day."""
WOBBLE = (1.0, 1.2, 0.9, 1.1, 0.8)
"""Multipliers cycled over the weekdays, so that the usage varies (a safety stock has something to cover)."""


def daily_quantity(material: Material, day: date) -> int:
    """What ``material`` consumed on ``day`` at its first plant (the seed's and the tests' one formula)."""
    if day.weekday() >= 5:
        return round(material.daily_usage / 3)
    return round(material.daily_usage * WOBBLE[day.toordinal() % len(WOBBLE)])


def odata_day(day: date) -> str:
    return f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)})/"


def _movements(today: date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    number = 4900000000
    for material in MATERIALS:
        plant, location = next(iter(material.stock))
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            quantity = daily_quantity(material, day)
            if quantity <= 0:
                continue
            number += 1
            movement = "601" if back % 2 else "261"
            rows.append(_movement(number, day, material, plant, location, movement, "H", quantity))
            if back % 30 == 0:  # a goods receipt now and then: stock in, not consumption
                number += 1
                quantity = material.standard_quantity
                rows.append(_movement(number, day, material, plant, location, "101", "S", quantity))
    return rows


def _movement(
    number: int, day: date, material: Material, plant: str, location: str, kind: str, side: str, quantity: int
) -> dict[str, Any]:
    return {
        "MaterialDocumentYear": str(day.year),
        "MaterialDocument": str(number),
        "MaterialDocumentItem": "1",
        "Material": material.sku,
        "Plant": plant,
        "StorageLocation": location,
        "GoodsMovementType": kind,
        "PostingDate": odata_day(day),
        "QuantityInEntryUnit": f"{quantity:.3f}",
        "EntryUnit": material.unit,
        "DebitCreditCode": side,
    }


def _deliveries(today: date) -> list[dict[str, Any]]:
    """Three inbound deliveries against seeded POs: in transit, partly received, received."""
    specs = (
        ("180000001", "17300001", "1010", "1Z999AA10123456784", 3, None, "A", "SKU-1182", 200, "PO-10001"),
        ("180000002", "17300002", "1010", "940011189922385764", -4, -2, "C", "SKU-2040", 5000, "PO-10002"),
        ("180000003", "17300006", "1710", "123456789012", -1, -1, "B", "SKU-3310", 60, "PO-10006"),
    )  # fmt: skip
    rows = []
    for number, supplier, plant, tracking, due, moved, status, sku, quantity, po in specs:
        rows.append(
            {
                "DeliveryDocument": number,
                "Supplier": supplier,
                "ReceivingPlant": plant,
                "BillOfLading": tracking,
                "DeliveryDate": odata_day(today + timedelta(days=due)),
                "ActualGoodsMovementDate": None if moved is None else odata_day(today + timedelta(moved)),
                "OverallGoodsMovementStatus": status,
                "to_DeliveryDocumentItem": [
                    {
                        "DeliveryDocument": number,
                        "DeliveryDocumentItem": "000010",
                        "Material": sku,
                        "Plant": plant,
                        "ActualDeliveryQuantity": f"{quantity:.3f}",
                        "DeliveryQuantityUnit": "EA",
                        "ReferenceSDDocument": po,
                        "ReferenceSDDocumentItem": "00010",
                    }
                ],
            }
        )
    return rows


def seed_logistics(put: Callable[[str, str, dict[str, Any]], None], today: date | None = None) -> None:
    """Store the logistics data through ``put(collection, key, row)`` (the SAP vendor's records)."""
    today = today or datetime.now(UTC).date()
    for plant, name in PLANTS.items():
        put("A_Plant", plant, {"Plant": plant, "PlantName": name})
    for n, material in enumerate(MATERIALS, start=1):
        for (plant, location), quantity in material.stock.items():
            key = f"{material.sku}/{plant}/{location}"
            put(
                "A_MatlStkInAcctMod",
                key,
                {
                    "Material": material.sku,
                    "Plant": plant,
                    "StorageLocation": location,
                    "Batch": "",
                    "InventoryStockType": "01",  # unrestricted-use stock
                    "MatlWrhsStkQtyInMatlBaseUnit": f"{quantity:.3f}",
                    "MaterialBaseUnit": material.unit,
                },
            )
        record = f"53000000{n:02d}"
        put(
            "A_PurchasingInfoRecord",
            record,
            {
                "PurchasingInfoRecord": record,
                "Supplier": material.supplier,
                "Material": material.sku,
                "to_PurgInfoRecdOrgPlantData": [
                    {
                        "PurchasingInfoRecord": record,
                        "PurchasingInfoRecordCategory": "0",  # standard
                        "PurchasingOrganization": "1010",
                        "Plant": plant,
                        "NetPriceAmount": material.net_price,
                        "Currency": material.currency,
                        "MaterialPlannedDeliveryDurn": str(material.lead_time_days),
                        "StandardPurchaseOrderQuantity": str(material.standard_quantity),
                        "MinimumPurchaseOrderQuantity": str(material.minimum_quantity),
                    }
                    for plant in dict.fromkeys(plant for plant, _ in material.stock)
                ],
            },
        )
    for row in _movements(today):
        put("A_MaterialDocumentItem", f"{row['MaterialDocument']}/{row['MaterialDocumentYear']}/1", row)
    for row in _deliveries(today):
        put("A_InbDeliveryHeader", row["DeliveryDocument"], row)
