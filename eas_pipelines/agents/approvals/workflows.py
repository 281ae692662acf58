"""The approvals agent's request workflows (decide and list by sentence), apart from the escalation
job in :mod:`.definitions`: these are what the lanes launch (:data:`eas_pipelines.agents.AGENTS`),
the escalation is a schedule every agent shares."""

import dagster as dg

from eas_pipelines.agents.approvals.decisions import approvals_decision, approvals_listing
from eas_pipelines.agents.notifications import NotificationsResource

CONNECTORS = {"notifications": NotificationsResource}
"""Resource key -> connector class: the decider, and a rejected request's requester, are told."""

defs = dg.Definitions(jobs=[approvals_decision, approvals_listing])
