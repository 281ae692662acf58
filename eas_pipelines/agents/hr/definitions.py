"""The HR agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.hr.jobs import hr_leave_request
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import CalendarResource, LeaveLedgerResource

CONNECTORS = {
    "leave_ledger": LeaveLedgerResource,
    "calendar": CalendarResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once."""

defs = dg.Definitions(jobs=[hr_leave_request])
