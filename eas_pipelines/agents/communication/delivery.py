"""Who the communication agent reaches and how: people through the company directory (BambooHR),
then Slack (channels, direct messages), Microsoft Teams (a channel's incoming webhook) or SMTP.

A person named in a request ("Dana Smith", "Bob") is found in BambooHR's directory (exact work email
or full name first, else the only partial match), which also answers "everyone in Finance". Each
delivery carries an idempotency key, so a retried step or batch sends nothing twice (Slack: the
message metadata and the delivery ledger; Teams: the ledger; e-mail: a Message-ID from the key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from eas_pipelines.connectors.bamboohr import Employee
from eas_pipelines.connectors.email import Attachment as EmailAttachment
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.connectors.teams import TeamsResource

Kind = Literal["slack_channel", "slack_person", "teams", "email"]


@dataclass(frozen=True)
class Target:
    """One place a message goes: ``address`` is "#name" for a channel, a work e-mail for a person."""

    kind: Kind
    address: str
    name: str


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def _person(employee: Employee) -> Person | None:
    return Person(employee.full_name, employee.work_email) if employee.work_email else None


def find_person(people: Sequence[Employee], wanted: str) -> Person | None:
    """The employee whose work email or full name is ``wanted``, else the only one with that first
    name, else the only one whose name contains it ("Bob" when one Bob works here); None when nobody
    or several match."""
    text = " ".join(wanted.split()).lower()
    if not text:
        return None
    for employee in people:
        if text in ((employee.work_email or "").lower(), employee.full_name.lower()):
            return _person(employee)
    for matches in (
        [e for e in people if text == e.first_name.lower()],  # "Dan" is Dan Brown, not Dana Smith
        [e for e in people if text in e.full_name.lower()],
    ):
        if len(matches) == 1:
            return _person(matches[0])
        if matches:
            return None  # ambiguous: asking is better than messaging the wrong person
    return None


def members_of(people: Sequence[Employee], department: str) -> list[Person]:
    """Everyone of ``department`` (case-insensitive) with a work e-mail."""
    wanted = " ".join(department.split()).lower()
    found = [_person(e) for e in people if " ".join((e.department or "").split()).lower() == wanted]
    return [person for person in found if person is not None]


def everyone(people: Sequence[Employee]) -> list[Person]:
    return [person for person in map(_person, people) if person is not None]


def post_chat(
    target: Target,
    text: str,
    *,
    title: str,
    slack: SlackResource,
    teams: TeamsResource,
    idempotency_key: str,
) -> str:
    """Post ``text`` to a Slack channel, a person's Slack DM, or the Teams channel; the reference
    of what was posted (Slack ``channel|ts``; Teams: the key). Vendor refusals propagate."""
    if target.kind == "teams":
        teams.client().post_card(
            title,
            teams.outgoing(text),
            {"Channel": target.name},
            idempotency_key=idempotency_key,
            channel=target.address,
        )
        return f"teams|{idempotency_key}"
    client = slack.client()
    masked = slack.outgoing(text)
    if target.kind == "slack_person":
        posted = client.post_direct_message(target.address, masked, idempotency_key=idempotency_key)
    else:
        posted = client.post_message(target.address, masked, idempotency_key=idempotency_key)
    return f"{posted.channel}|{posted.ts}"


def send_mail(
    to: str | Sequence[str],
    subject: str,
    body: str,
    *,
    email: EmailResource,
    idempotency_key: str,
    attachments: Sequence[EmailAttachment] = (),
) -> str:
    """Send one e-mail; its Message-ID (derived from the key: a retry is the same message)."""
    return email.client().send(
        to,
        email.outgoing(subject),
        email.outgoing(body),
        attachments=attachments,
        idempotency_key=idempotency_key,
    )
