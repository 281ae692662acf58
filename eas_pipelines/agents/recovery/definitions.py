"""The recovery agent's part of the code location: retry and rollback (the failed-run saga job is
in :mod:`.saga_definitions`, a shared part: no intent routes to it).

Its rollback runs the compensations the other agents' steps declare, through their connectors
(``sap``, ``servicenow``, ``bamboohr``; the accounts an onboarding provisioned: ``salesforce``, ``jira``,
``slack_scim``): named here too, as the rollback op requires them.
"""

import dagster as dg

from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.recovery.jobs import recovery_retry_request, recovery_rollback
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource

CONNECTORS = {
    "sap": SapResource,
    "servicenow": ServiceNowResource,
    "bamboohr": BambooHRResource,
    "salesforce": SalesforceResource,
    "jira": JiraResource,
    "slack_scim": SlackScimResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class (see ``eas_pipelines.definitions``)."""

defs = dg.Definitions(jobs=[recovery_retry_request, recovery_rollback])
