"""The finance agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.finance.jobs import finance_invoice_processing
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.sap import SapResource

CONNECTORS = {
    "sap": SapResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once."""

defs = dg.Definitions(jobs=[finance_invoice_processing])
