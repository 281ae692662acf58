"""Security agent workflows: access grants and revocations, incident reports, compliance checks."""

from eas_pipelines.agents.security.jobs import (
    security_access_grant,
    security_access_revoke,
    security_incident_report,
)

__all__ = ["security_access_grant", "security_access_revoke", "security_incident_report"]
