"""HR agent workflows."""

from eas_pipelines.agents.hr.jobs import hr_leave_request

__all__ = ["hr_leave_request"]
