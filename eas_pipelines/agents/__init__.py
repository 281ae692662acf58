"""The agents' workflows: one Dagster job per workflow, named as in :mod:`eas_pipelines.routing`.

``common`` holds what every workflow shares (claiming and completing the request, refusals, the
approval gate, the job decorator with its retry policy); each agent's folder holds its rules (plain
functions) and its job. How a run of these jobs is configured and tagged is :mod:`eas_pipelines.runs`.
"""

from eas_pipelines.agents.customer_service import customer_service_ticket_routing
from eas_pipelines.agents.finance import finance_invoice_processing
from eas_pipelines.agents.hr import hr_leave_request

AGENT_JOBS = (finance_invoice_processing, hr_leave_request, customer_service_ticket_routing)

__all__ = [
    "AGENT_JOBS",
    "customer_service_ticket_routing",
    "finance_invoice_processing",
    "hr_leave_request",
]
