"""The communication agent: messages (Slack, Teams), e-mail (SMTP) and announcements (bulk fan-out)."""

from eas_pipelines.agents.communication.jobs import (
    communication_announcement,
    communication_send_email,
    communication_send_message,
)

__all__ = ["communication_announcement", "communication_send_email", "communication_send_message"]
