"""The scheduling agent's part of the code location: its jobs and the connectors they need."""

import dagster as dg

from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.scheduling.jobs import scheduling_meeting_schedule, scheduling_resource_booking
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource

CONNECTORS = {"outlook_calendar": OutlookCalendarResource, "notifications": NotificationsResource}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once.

Calendars, people and rooms are Microsoft Graph's (Outlook/Exchange Online); invitations and
confirmations go by e-mail through the notifications' SMTP connector."""

defs = dg.Definitions(jobs=[scheduling_meeting_schedule, scheduling_resource_booking])
"""Scheduling agent: ``scheduling_meeting_schedule`` (meeting_schedule) and
``scheduling_resource_booking`` (resource_booking); see :mod:`.jobs`."""
