"""The customer service agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.customer_service.jobs import customer_service_ticket_routing
from eas_pipelines.agents.customer_service.status import customer_service_ticket_status
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.servicenow import ServiceNowResource

CONNECTORS = {"servicenow": ServiceNowResource, "notifications": NotificationsResource}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Tickets are ServiceNow incidents; notifications go to the queue's and escalation target's Slack
channels and to the requester by e-mail."""

defs = dg.Definitions(jobs=[customer_service_ticket_routing, customer_service_ticket_status])
