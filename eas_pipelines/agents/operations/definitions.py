"""The operations agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.operations.jobs import (
    operations_inventory_check,
    operations_purchase_order,
    operations_reorder,
    operations_shipment_tracking,
)
from eas_pipelines.connectors.sap import SapResource

CONNECTORS = {"sap": SapResource, "notifications": NotificationsResource}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Stock, goods movements, purchasing info records, purchase orders and inbound deliveries are SAP's
(the same ``sap`` resource the finance agent uses); answers go to the requester by e-mail."""

defs = dg.Definitions(
    jobs=[
        operations_inventory_check,
        operations_reorder,
        operations_purchase_order,
        operations_shipment_tracking,
    ]
)
