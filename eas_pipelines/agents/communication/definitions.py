"""The communication agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.communication.jobs import (
    communication_announcement,
    communication_send_email,
    communication_send_message,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.connectors.teams import TeamsResource

CONNECTORS = {
    "slack": SlackResource,
    "teams": TeamsResource,
    "email": EmailResource,
    "bamboohr": BambooHRResource,
    "s3": S3ConnectorResource,
    "outlook_calendar": OutlookCalendarResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Messages go out through Slack, Teams and SMTP; people and departments are found in BambooHR's
directory; e-mail attachments come from S3; refusals reach the requester through notifications. The
organisation's time zone, in which "on Friday at 9am" is read, is the calendars' (``outlook_calendar``)."""

defs = dg.Definitions(jobs=[communication_send_message, communication_send_email, communication_announcement])
"""Communication agent workflows."""
