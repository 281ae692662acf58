"""The HR agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.hr.jobs import hr_leave_request
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource

CONNECTORS = {
    "bamboohr": BambooHRResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.
BambooHR holds the people, the org chart, the balances and the booked time off."""

defs = dg.Definitions(jobs=[hr_leave_request])
