"""The HR agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.hr.inquiries import hr_leave_balance, hr_payroll_question
from eas_pipelines.agents.hr.jobs import hr_leave_request
from eas_pipelines.agents.hr.lifecycle import LIFECYCLE_CONNECTORS, hr_offboarding, hr_onboarding
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.adp import ADPResource
from eas_pipelines.connectors.bamboohr import BambooHRResource

CONNECTORS = {
    "bamboohr": BambooHRResource,
    "adp": ADPResource,
    "notifications": NotificationsResource,
    **LIFECYCLE_CONNECTORS,  # onboarding/offboarding: the accounts' systems (hr.lifecycle)
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.
BambooHR holds the people, the org chart, the balances and the booked time off; ADP the pay."""

defs = dg.Definitions(
    jobs=[hr_leave_request, hr_leave_balance, hr_payroll_question, hr_onboarding, hr_offboarding]
)
