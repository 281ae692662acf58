"""The security agent's part of the code location: its jobs, the access review asset and schedule, and
the connectors they need.

Accounts live on Salesforce, ServiceNow, Jira and Slack (SCIM for its members: the bot token of the
Web API cannot manage them); BambooHR says who the people are and their departments; incidents are
ServiceNow's; notifications go to #security, #security-oncall and the requester.
"""

import dagster as dg

from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.security.jobs import (
    security_access_grant,
    security_access_revoke,
    security_incident_report,
)
from eas_pipelines.agents.security.review import (
    security_accounts,
    security_accounts_schedule,
    security_compliance_check,
)
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource

CONNECTORS = {
    "salesforce": SalesforceResource,
    "servicenow": ServiceNowResource,
    "jira": JiraResource,
    "slack_scim": SlackScimResource,
    "bamboohr": BambooHRResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once."""

defs = dg.Definitions(
    jobs=[
        security_access_grant,
        security_access_revoke,
        security_incident_report,
        security_compliance_check,
    ],
    assets=[security_accounts],
    schedules=[security_accounts_schedule],
)
"""Security agent: access grant/revoke, incident report, compliance check (job, asset + checks, schedule).

The schedule brings its asset job (``security_accounts_review``); it is not listed with the workflow
jobs, which are what the lanes launch (:data:`eas_pipelines.agents.AGENT_JOBS`)."""
