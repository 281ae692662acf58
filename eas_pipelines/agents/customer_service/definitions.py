"""The customer service agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.customer_service.jobs import customer_service_ticket_routing
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import TicketingResource

CONNECTORS = {"ticketing": TicketingResource, "notifications": NotificationsResource}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once."""

defs = dg.Definitions(jobs=[customer_service_ticket_routing])
