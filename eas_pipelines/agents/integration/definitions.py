"""The integration agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.integration.jobs import integration_data_sync, integration_data_transform
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.sap import SapResource

CONNECTORS = {
    "sap": SapResource,
    "quickbooks": QuickBooksResource,
    "salesforce": SalesforceResource,
    "s3": S3ConnectorResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Syncs read SAP supplier invoices and Salesforce accounts and write QuickBooks bills or files in S3;
transforms read and write S3; the report goes to S3 and to the requester (notifications)."""

defs = dg.Definitions(jobs=[integration_data_sync, integration_data_transform])
