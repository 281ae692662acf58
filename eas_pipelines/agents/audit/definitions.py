"""The audit agent's part of the code location: ``audit.query`` by sentence, and the hash chain's
asset, its check and their hourly schedule (which brings its asset job; it stays out of ``jobs``,
the request workflows that the lanes launch)."""

import dagster as dg

from eas_pipelines.agents.audit.chain import audit_chain_schedule, audit_log_chain, audit_log_chain_intact
from eas_pipelines.agents.audit.query import audit_query
from eas_pipelines.agents.notifications import NotificationsResource

CONNECTORS = {"notifications": NotificationsResource}
"""Resource key -> connector class: answers go to the requester (``store`` every job has)."""

defs = dg.Definitions(
    assets=[audit_log_chain],
    asset_checks=[audit_log_chain_intact],
    jobs=[audit_query],
    schedules=[audit_chain_schedule],
)
