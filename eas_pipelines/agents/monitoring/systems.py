"""Which check a system named in a request means ("SAP", "the CRM", "the production database")."""

from __future__ import annotations

import re

from eas_pipelines.agents.monitoring.health import CONNECTORS, SERVICES

ALIASES: dict[str, str] = {
    "sap": "sap",
    "sap s/4hana": "sap",
    "s/4hana": "sap",
    "the erp": "sap",
    "erp": "sap",
    "salesforce": "salesforce",
    "the crm": "salesforce",
    "crm": "salesforce",
    "servicenow": "servicenow",
    "service now": "servicenow",
    "jira": "jira",
    "slack": "slack",
    "teams": "teams",
    "microsoft teams": "teams",
    "ms teams": "teams",
    "quickbooks": "quickbooks",
    "bamboohr": "bamboohr",
    "outlook": "outlook_calendar",
    "outlook calendar": "outlook_calendar",
    "calendar": "outlook_calendar",
    "email": "email",
    "e-mail": "email",
    "smtp": "email",
    "mail": "email",
    "pagerduty": "pagerduty",
    "opsgenie": "opsgenie",
    "the production database": "postgres",
    "the database": "postgres",
    "database": "postgres",
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "the gateway": "gateway",
    "gateway": "gateway",
    "the intake api": "gateway",
    "the api": "gateway",
    "nlp": "nlp",
    "the nlp service": "nlp",
    "workers": "workers",
    "the workers": "workers",
}
"""A system's name as people write it (lower case) -> the check (a service or a connector key)."""

CHECKS = (*SERVICES, *CONNECTORS)
EVERYTHING = frozenset(
    {"eas", "everything", "all systems", "all services", "the infrastructure", "prod", "production"}
)


def check_of(name: str) -> str | None:
    """The check a system's name means; None when EAS does not monitor that system."""
    key = " ".join(name.lower().split())
    return ALIASES.get(key) or (key.replace(" ", "_") if key.replace(" ", "_") in CHECKS else None)


def slug(name: str) -> str:
    """A system's name as a stable key part ("the finance share" -> "the-finance-share")."""
    known = check_of(name)
    return known or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"
