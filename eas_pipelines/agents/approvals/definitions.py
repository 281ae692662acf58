"""What every agent's approvals share in the code location: the escalation job and its schedule."""

import dagster as dg

from eas_pipelines.agents.approvals.escalation import approval_escalation_job, approval_escalation_schedule
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource

CONNECTORS = {"bamboohr": BambooHRResource, "notifications": NotificationsResource}
"""Resource key -> connector class (BambooHR's org chart finds a person's manager)."""

defs = dg.Definitions(jobs=[approval_escalation_job], schedules=[approval_escalation_schedule])
