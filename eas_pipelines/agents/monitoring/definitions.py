"""The monitoring agent's part of the code location: its jobs, the digest schedule, its connectors."""

import dagster as dg

from eas_pipelines.agents.monitoring.digest import monitoring_digest_schedule
from eas_pipelines.agents.monitoring.jobs import monitoring_system_health
from eas_pipelines.agents.monitoring.outage import monitoring_outage_report
from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.opsgenie import OpsgenieResource
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.connectors.pagerduty import PagerDutyResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.connectors.teams import TeamsResource

CONNECTORS = {
    "monitoring": MonitoringResource,
    "pagerduty": PagerDutyResource,
    "opsgenie": OpsgenieResource,
    "notifications": NotificationsResource,
    # the connectors whose health is checked (the same keys and classes as the agents using them)
    "sap": SapResource,
    "servicenow": ServiceNowResource,
    "salesforce": SalesforceResource,
    "jira": JiraResource,
    "slack": SlackResource,
    "quickbooks": QuickBooksResource,
    "bamboohr": BambooHRResource,
    "outlook_calendar": OutlookCalendarResource,
    "teams": TeamsResource,
    "email": EmailResource,
}
"""Resource key -> connector class. Alerts go to PagerDuty (P0/P1), Opsgenie (P1/P2) and Slack
(through notifications; P3 in the daily digest); outage reports are ServiceNow incidents."""

# The digest schedule brings its job (monitoring_alert_digest); it stays out of ``jobs``, which lists
# the request workflows that the lanes launch and the failure sensor watches (AGENT_JOBS).
defs = dg.Definitions(
    jobs=[monitoring_system_health, monitoring_outage_report],
    schedules=[monitoring_digest_schedule],
)
"""Monitoring agent: ``monitoring_system_health`` (gateway, NLP, PostgreSQL, Redis, warm workers and each
connector's breaker and latency, alerting by severity), ``monitoring_outage_report`` (P0: a ServiceNow
outage report, paged and posted) and the daily digest of P3 alerts (``monitoring_daily_digest``)."""
