"""Scheduling agent workflows: meetings across attendees' calendars, and room bookings."""

from eas_pipelines.agents.scheduling.jobs import scheduling_meeting_schedule, scheduling_resource_booking

__all__ = ["scheduling_meeting_schedule", "scheduling_resource_booking"]
