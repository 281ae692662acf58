"""The documents agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.documents.jobs import documents_extract, documents_generate
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.google_drive import GoogleDriveResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sharepoint import SharePointResource

CONNECTORS = {
    "s3": S3ConnectorResource,
    "sharepoint": SharePointResource,
    "google_drive": GoogleDriveResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Documents are read from and written to S3 (the documents bucket), SharePoint (the configured site's
library) and Google Drive (the service account's files); the requester hears by notification. The
extract job also uses the code location's ``store`` and ``fast_lane`` to queue a derived request."""

defs = dg.Definitions(jobs=[documents_extract, documents_generate])
"""Documents agent: ``documents_extract`` and ``documents_generate`` (see :mod:`.jobs`).

No approval: the routes' policy is ``never``; an invoice read from a document meets finance's own
approval rule when its request runs."""
