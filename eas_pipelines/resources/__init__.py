"""Dagster resources: the request store, the fast lane, policy numbers and the connectors.

Connectors (``connectors/``) each have an interface, a sandbox implementation that records what it
would send in PostgreSQL, and a resource whose every call goes through a circuit breaker shared in
Redis (:mod:`.circuit`).
"""

from eas_pipelines.resources.connectors.calendar import CalendarResource
from eas_pipelines.resources.connectors.leave import LeaveLedgerResource
from eas_pipelines.resources.connectors.ledger import LedgerResource
from eas_pipelines.resources.connectors.notifications import NotificationResource
from eas_pipelines.resources.connectors.purchase_orders import PurchaseOrderResource
from eas_pipelines.resources.connectors.ticketing import TicketingResource
from eas_pipelines.resources.lanes import FastLaneResource
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.resources.store import RequestStoreResource

__all__ = [
    "CalendarResource",
    "FastLaneResource",
    "LeaveLedgerResource",
    "LedgerResource",
    "NotificationResource",
    "PurchaseOrderResource",
    "RequestStoreResource",
    "TicketingResource",
    "WorkflowPolicyResource",
]
