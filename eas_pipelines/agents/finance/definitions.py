"""The finance agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.finance.expense_jobs import finance_expense_submission
from eas_pipelines.agents.finance.file_jobs import finance_invoice_file
from eas_pipelines.agents.finance.jobs import finance_invoice_processing
from eas_pipelines.agents.finance.status import finance_invoice_status
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sap import SapResource

CONNECTORS = {
    "sap": SapResource,
    "quickbooks": QuickBooksResource,
    "s3": S3ConnectorResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.
Supplier invoices are SAP's; employees' expense claims are booked in QuickBooks Online; files of
invoices are read from S3."""

defs = dg.Definitions(
    jobs=[
        finance_invoice_processing,
        finance_invoice_status,
        finance_expense_submission,
        finance_invoice_file,
    ]
)
