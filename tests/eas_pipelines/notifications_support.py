"""What the agents' notifications delivered, read back from the emulators as a person would see it.

A team channel ("#finance") is read through Slack's ``conversations.history``; a person's mailbox
through the email emulator's stored messages. Each notification carries its request id in its text.
"""

from __future__ import annotations

from dataclasses import dataclass

from eas_pipelines.agents.notifications import is_team_channel
from eas_pipelines.connectors.slack import SlackResource


@dataclass(frozen=True)
class Received:
    recipient: str
    text: str  # Slack: the message text; email: "subject\nbody"


def received(
    sandbox_session, redis_url: str, recipient: str, *, request_id: str | None = None
) -> list[Received]:
    """Messages ``recipient`` got (oldest first), only those about ``request_id`` when given."""
    if is_team_channel(recipient):
        env = sandbox_session.env
        slack = SlackResource(
            token=env["EAS_SLACK_BOT_TOKEN"],
            base_url=env["EAS_SLACK_URL"],
            ca_bundle=env["EAS_CONNECTOR_CA_BUNDLE"],
            redis_url=redis_url,
            breaker_prefix="eas:test:notifications-reader",
        )
        client = slack.client()
        texts = [message.get("text", "") for message in client.history(client.channel_id(recipient))][::-1]
    else:
        address = recipient if "@" in recipient else f"{recipient}@example.com"
        texts = [
            f"{message.get('subject', '')}\n{message.get('body_text', '')}"
            for message in sandbox_session.sandbox.records.all("email", "messages")
            if address.lower() in (r.lower() for r in message.get("rcpt_to", []))
        ]
    found = [Received(recipient, text) for text in texts]
    return [r for r in found if request_id is None or request_id in r.text]
