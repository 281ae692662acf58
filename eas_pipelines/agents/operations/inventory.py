"""Inventory rules, free of Dagster: on hand, daily usage, safety stock and reorder point, with pandas.

The inputs are SAP's (:mod:`eas_pipelines.connectors.sap`): stock per storage location and the goods
movements (material document items) of the material. Daily usage is the mean of the daily consumption
over a window of recent days, each day of the window counted (a day without an issue used nothing); its
spread gives the safety stock, so a material used unevenly keeps more in reserve:

- safety stock = z x standard deviation of daily usage x sqrt(lead time)
- reorder point = daily usage x lead time + safety stock
- reorder quantity = what brings the stock to the reorder point plus :data:`COVER_DAYS` of usage, at
  least the supplier's minimum order quantity, in whole units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from eas_pipelines.connectors.sap import GoodsMovement, StockLevel

USAGE_WINDOW_DAYS = 30
"""Days of consumption history the daily usage is averaged over (ending yesterday)."""
SERVICE_LEVEL_Z = 1.65
"""z of the safety stock: about a 95% chance of not running out during the lead time."""
COVER_DAYS = 30
"""Days of usage a reorder buys beyond the reorder point (a month's review cycle)."""
DEFAULT_LEAD_TIME_DAYS = 14
"""Lead time assumed for a material no supplier's info record gives one for (said so in the answer)."""
UNRESTRICTED_STOCK = frozenset({"", "01"})
"""``InventoryStockType`` values that can be issued (quality inspection 02 and blocked 07 cannot)."""


@dataclass(frozen=True)
class InventoryPosition:
    """One material at one plant: what is there, how fast it goes, and when to reorder."""

    material: str
    plant: str
    unit: str
    on_hand: float
    daily_usage: float
    usage_std: float
    lead_time_days: int
    safety_stock: float
    reorder_point: float

    @property
    def below_reorder_point(self) -> bool:
        return self.on_hand <= self.reorder_point

    @property
    def days_of_cover(self) -> float | None:
        """Days the stock lasts at the daily usage (None when nothing is used)."""
        return self.on_hand / self.daily_usage if self.daily_usage > 0 else None

    def summary(self) -> str:
        cover = (
            f"{self.days_of_cover:.1f} days of cover" if self.days_of_cover is not None else "no recent usage"
        )
        state = "at or below its reorder point" if self.below_reorder_point else "above its reorder point"
        return (
            f"{self.material} at plant {self.plant}: {self.on_hand:g} {self.unit} on hand, "
            f"{self.daily_usage:.1f}/day used, reorder point {self.reorder_point:.0f} "
            f"(safety stock {self.safety_stock:.0f}, lead time {self.lead_time_days} days); {cover}, {state}"
        )

    def audit(self) -> dict[str, object]:
        return {
            "plant": self.plant,
            "on_hand": self.on_hand,
            "daily_usage": round(self.daily_usage, 3),
            "safety_stock": round(self.safety_stock, 3),
            "reorder_point": round(self.reorder_point, 3),
            "lead_time_days": self.lead_time_days,
            "below_reorder_point": self.below_reorder_point,
        }


def on_hand(stock: Sequence[StockLevel]) -> float:
    """Unrestricted stock over every storage location given."""
    return float(sum(level.quantity for level in stock if level.stock_type in UNRESTRICTED_STOCK))


def daily_consumption(movements: Sequence[GoodsMovement], first: date, last: date) -> pd.Series:
    """Consumption per day from ``first`` to ``last`` inclusive, every day present (0: nothing issued)."""
    days = pd.date_range(first, last, freq="D")
    rows = [
        {"day": pd.Timestamp(m.posting_date), "quantity": float(m.quantity)}
        for m in movements
        if m.is_consumption and m.posting_date is not None and first <= m.posting_date <= last
    ]
    if not rows:
        return pd.Series(0.0, index=days)
    frame = pd.DataFrame(rows)
    return frame.groupby("day")["quantity"].sum().reindex(days, fill_value=0.0)


def inventory_position(
    material: str,
    plant: str,
    stock: Sequence[StockLevel],
    movements: Sequence[GoodsMovement],
    lead_time_days: int,
    today: date,
    *,
    window_days: int = USAGE_WINDOW_DAYS,
    z: float = SERVICE_LEVEL_Z,
) -> InventoryPosition:
    """The position of ``material`` at ``plant`` from its stock and its goods movements up to yesterday."""
    usage = daily_consumption(movements, today - timedelta(days=window_days), today - timedelta(days=1))
    daily = float(usage.mean())
    spread = float(usage.std(ddof=0))
    safety = z * spread * math.sqrt(max(lead_time_days, 0))
    return InventoryPosition(
        material=material,
        plant=plant,
        unit=next((level.unit for level in stock if level.unit), ""),
        on_hand=on_hand(stock),
        daily_usage=daily,
        usage_std=spread,
        lead_time_days=lead_time_days,
        safety_stock=safety,
        reorder_point=daily * lead_time_days + safety,
    )


def reorder_quantity(position: InventoryPosition, minimum: float = 0, cover_days: int = COVER_DAYS) -> int:
    """Units to order so that the stock reaches the reorder point plus ``cover_days`` of usage (0: none
    needed, the stock is above its reorder point); at least ``minimum`` when anything is ordered."""
    if not position.below_reorder_point:
        return 0
    target = position.reorder_point + position.daily_usage * cover_days
    needed = math.ceil(max(target - position.on_hand, 0))
    return max(needed, math.ceil(minimum), 1)


def plant_for_location(location: str, plants: dict[str, str]) -> str | None:
    """The plant a request's location names ("the Dallas DC" -> the plant named "Dallas DC"), by code or
    name, ignoring case and a leading "the"; None when no plant matches."""
    wanted = " ".join(location.lower().split())
    wanted = wanted.removeprefix("the ")
    for code, name in plants.items():
        if wanted == code.lower() or wanted == name.lower():
            return code
    for code, name in plants.items():  # "Hamburg warehouse", "the Chicago plant"
        if name.lower() in wanted:
            return code
    return None
