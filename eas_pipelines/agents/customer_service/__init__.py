"""Customer service agent workflows."""

from eas_pipelines.agents.customer_service.jobs import customer_service_ticket_routing

__all__ = ["customer_service_ticket_routing"]
