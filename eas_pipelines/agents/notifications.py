"""Notifications for every agent: a team channel ("#finance") gets a Slack message, a person an email.

Not a connector of its own: it routes each message to the connector that reaches that kind of
recipient (Slack's Web API, SMTP), so an agent says who to tell and never which system tells them.
Each message is sent once per idempotency key, by the idempotency of the connector that carries it
(Slack message metadata looked up before posting; a Message-ID derived from the key for email).

What is sent is masked for the system carrying it (:meth:`ConnectorResource.outgoing`): a Slack
channel is read by a whole team and is cleared for no PII by default; a person's email is cleared
for e-mail addresses and phone numbers (their own contact data); card numbers never leave EAS.
Each deployment may change a connector's clearance (``EAS_SLACK_PII_CLEARANCE``, ...).
"""

from __future__ import annotations

from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import optional_env
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.slack import SlackResource


class Delivery(BaseModel):
    """Where a notification went: the recipient, the system, and that system's reference."""

    recipient: str
    channel: Literal["slack", "email"]
    reference: str


def is_team_channel(recipient: str) -> bool:
    """ "#finance" is a team channel (Slack); anything else is a person (email)."""
    return recipient.startswith("#")


class NotificationsResource(dg.ConfigurableResource):
    """Sends agents' messages through Slack (channels) and email (people)."""

    slack: SlackResource
    email: EmailResource
    email_domain: str = Field(
        default="example.com", description="domain of a recipient named without one (EAS_EMAIL_DOMAIN)"
    )

    def address_of(self, person: str) -> str:
        return person if "@" in person else f"{person}@{self.email_domain}"

    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        *,
        request_id: str | None,
        idempotency_key: str,
        detail: dict[str, Any] | None = None,
    ) -> Delivery:
        """Deliver one message, once per ``idempotency_key``; connector errors propagate to the op."""
        footer = f"\n\nEAS request {request_id}" if request_id and request_id not in body else ""
        if is_team_channel(recipient):
            text = self.slack.outgoing(f"*{subject}*\n{body}{footer}")
            posted = self.slack.client().post_message(recipient, text, idempotency_key=idempotency_key)
            return Delivery(recipient=recipient, channel="slack", reference=posted.ts)
        message_id = self.email.client().send(
            self.address_of(recipient),
            self.email.outgoing(subject),
            self.email.outgoing(f"{body}{footer}"),
            idempotency_key=idempotency_key,
        )
        return Delivery(recipient=recipient, channel="email", reference=message_id)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> NotificationsResource:
        return cls(
            slack=SlackResource.from_env(redis_url),
            email=EmailResource.from_env(redis_url),
            email_domain=optional_env("EAS_EMAIL_DOMAIN") or "example.com",
        )
