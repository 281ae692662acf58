"""Operations agent workflows: inventory, reorders, purchase orders and shipments on SAP S/4HANA."""

from eas_pipelines.agents.operations.jobs import (
    operations_inventory_check,
    operations_purchase_order,
    operations_reorder,
    operations_shipment_tracking,
)

__all__ = [
    "operations_inventory_check",
    "operations_purchase_order",
    "operations_reorder",
    "operations_shipment_tracking",
]
