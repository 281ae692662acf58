"""The communication agent's workflows: a message (Slack channel or person, Teams channel), an
e-mail (templated, optionally with an attachment from S3) and an announcement to many recipients
(a bulk fan-out, :mod:`eas_pipelines.agents.fanout`), now or at the time the request names ("on
Friday at 9am": scheduled, and sent by a due request then, :mod:`eas_pipelines.agents.deferred`).

Every step checks what it can before anything is sent (the channel exists, the person is in the
directory and on Slack, the attachment is there), so a refusal names the problem and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.communication.delivery import (
    Person,
    Target,
    everyone,
    find_person,
    members_of,
    post_chat,
    send_mail,
)
from eas_pipelines.agents.communication.rules import (
    ANNOUNCEMENT,
    SIGNATURE,
    Attachment,
    announcement_body,
    announcement_title,
    attachment_of,
    channels_of,
    email_body,
    email_template,
    first_name,
    message_body,
    send_at,
    subject_of,
    to_everyone,
    wants_teams,
)
from eas_pipelines.agents.deferred.work import defer, is_due_run, organisation_zone, scheduled_by
from eas_pipelines.agents.fanout import FanoutBatch, FanoutItem, FanoutPlan, ItemRefused, fanout_job
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.connectors.teams import TeamsResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.runs import now_utc

MESSAGE_JOB = "communication_send_message"
EMAIL_JOB = "communication_send_email"
ANNOUNCEMENT_JOB = "communication_announcement"
AGENT = "communication"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
"""Larger files are refused: many mail servers reject messages over 10 to 25 MB once encoded."""

NO_BODY = (
    'the request does not say what to send (put the text after a colon: "tell #ops: the deploy is done")'
)


def _names(item: WorkItem) -> list[str]:
    """People named in the request (recipient and e-mail entities), once each, in order."""
    return list(dict.fromkeys(str(v) for v in (*item.values("recipient"), *item.values("email")) if v))


def _resolve_people(names: list[str], bamboohr: BambooHRResource) -> tuple[list[Person], list[str]]:
    """``names`` found in the directory (an e-mail address not in it is taken as given) and the rest."""
    if not names:
        return [], []
    directory = bamboohr.client().directory()
    found: list[Person] = []
    unknown: list[str] = []
    for name in names:
        person = find_person(directory, name) or (Person(name, name) if "@" in name else None)
        if person is None:
            unknown.append(name)
        else:
            found.append(person)
    return found, unknown


def _unknown(names: list[str]) -> str:
    return f"nobody in the company directory (BambooHR) matches {', '.join(repr(n) for n in names)}"


# -- a message ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageCase:
    item: WorkItem
    body: str
    targets: tuple[Target, ...]


@workflow_step(MessageCase)
def compose_message(
    item: WorkItem, *, bamboohr: BambooHRResource, slack: SlackResource, teams: TeamsResource
) -> Step:
    """What to say and where: the channels (Slack, or Teams when asked: each Teams channel has its
    incoming webhook) and the people (Slack DMs), each checked to exist before anything is sent."""
    body = message_body(item.text)
    if body is None:
        return Step.refused(NO_BODY)
    to_teams = wants_teams(item)
    channels = channels_of(item)
    people, unknown = _resolve_people(_names(item), bamboohr)
    if unknown:
        return Step.refused(_unknown(unknown))
    if not channels and not people:
        return Step.refused("the request names no channel or person to send the message to")
    if to_teams and people and not channels:
        return Step.refused(
            "a Teams message goes to a channel (through its incoming webhook), not to a person: "
            "name the channel, or send it on Slack"
        )
    client = slack.client()
    targets: list[Target] = []
    for channel in channels:
        if to_teams and not teams.client().has_channel(channel):
            return Step.refused(f"Teams has no incoming webhook for the channel {channel}")
        if not to_teams:
            try:
                client.channel_id(channel)
            except VendorRejected:
                return Step.refused(f"Slack has no channel {channel} that EAS can post to")
        targets.append(Target("teams" if to_teams else "slack_channel", channel, channel))
    for person in people:
        if client.user_by_email(person.email) is None:
            return Step.refused(f"{person.name} ({person.email}) has no Slack account")
        targets.append(Target("slack_person", person.email, person.name))
    case = MessageCase(item, body, tuple(dict.fromkeys(targets)))
    return Step.passed(case, "message.composed", targets=[t.name for t in case.targets], teams=to_teams)


@workflow_step(WorkResult, optional=False)
def deliver_message(case: MessageCase, *, slack: SlackResource, teams: TeamsResource) -> Step:
    """Post the message to each target, once each (keyed by request and target)."""
    item = case.item
    text = SIGNATURE.safe_substitute(body=case.body, sender=item.requester, request_id=item.request_id)
    sent: dict[str, str] = {}
    for target in case.targets:
        try:
            sent[target.name] = post_chat(
                target,
                text,
                title=f"Message from {item.requester}",
                slack=slack,
                teams=teams,
                idempotency_key=item.key(f"message:{target.kind}:{target.address}"),
            )
        except VendorRejected as exc:
            return Step.refused(f"{target.name} could not be reached: {exc}", sent=sorted(sent))
    names = ", ".join(sent)
    result = WorkResult(item, f"message sent to {names}", {"targets": list(sent)})
    return Step.passed(result, "message.sent", targets=list(sent), references=list(sent.values()))


communication_send_message = workflow_job(
    name=MESSAGE_JOB,
    agent=AGENT,
    description="Send a chat message to Slack channels or people, or to the Teams channel.",
    steps=(compose_message, deliver_message),
)


# -- an e-mail ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailCase:
    item: WorkItem
    recipients: tuple[Person, ...]
    subject: str
    template: str
    body: str
    attachment: Attachment | None = None
    content: bytes | None = None


@workflow_step(EmailCase)
def compose_email(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """The recipients (people, addresses, departments' members), the subject, the template."""
    body = message_body(item.text)
    subject = subject_of(item.text, body, "")
    if body is None and not subject:
        return Step.refused("the request says neither what to write nor what it is about")
    if body is None:
        body = f"I am writing about {subject[:1].lower()}{subject[1:]}."
    people, unknown = _resolve_people(_names(item), bamboohr)
    if unknown:
        return Step.refused(_unknown(unknown))
    departments = [str(d) for d in item.values("department")]
    if departments:
        directory = bamboohr.client().directory()
        for department in departments:
            members = members_of(directory, department)
            if not members:
                return Step.refused(f"BambooHR has no one in the department {department!r}")
            people.extend(members)
    recipients = tuple({p.email.lower(): p for p in people}.values())
    if not recipients:
        return Step.refused("the request names no one to e-mail")
    case = EmailCase(item, recipients, subject, email_template(item.text), body, attachment_of(item.text))
    return Step.passed(
        case,
        "email.composed",
        recipients=[p.email for p in recipients],
        subject=subject,
        template=case.template,
        attachment=case.attachment.url if case.attachment else None,
    )


@workflow_step(EmailCase)
def fetch_attachment(case: EmailCase, *, s3: S3ConnectorResource) -> Step:
    """The attachment's bytes from S3, when the request names one (refused when missing or too big)."""
    if case.attachment is None:
        return Step.passed(case)
    content = s3.client().get(case.attachment.bucket, case.attachment.key)
    if content is None:
        return Step.refused(f"the attachment {case.attachment.url} does not exist")
    if len(content) > MAX_ATTACHMENT_BYTES:
        return Step.refused(
            f"the attachment {case.attachment.url} is {len(content):,} bytes, over the "
            f"{MAX_ATTACHMENT_BYTES:,}-byte limit for e-mail"
        )
    return Step.passed(
        replace(case, content=content), "email.attachment_fetched", url=case.attachment.url, size=len(content)
    )


@workflow_step(WorkResult, optional=False)
def send_email(case: EmailCase, *, email: EmailResource) -> Step:
    """One e-mail per recipient, greeted by name from the template, with the attachment if any."""
    item = case.item
    attachments = (
        [(case.attachment.filename, case.content, case.attachment.mime)]
        if case.attachment and case.content is not None
        else []
    )
    sent: dict[str, str] = {}
    for person in case.recipients:
        body = email_body(case.template, name=first_name(person.name), body=case.body, sender=item.requester)
        try:
            sent[person.email] = send_mail(
                person.email,
                case.subject,
                f"{body}\n\nEAS request {item.request_id}",
                email=email,
                idempotency_key=item.key(f"email:{person.email.lower()}"),
                attachments=attachments,
            )
        except VendorRejected as exc:
            return Step.refused(f"the mail server refused {person.email}: {exc}", sent=sorted(sent))
    detail: dict[str, Any] = {"recipients": list(sent), "subject": case.subject, "template": case.template}
    if case.attachment:
        detail["attachment"] = case.attachment.url
    result = WorkResult(item, f'e-mail "{case.subject}" sent to {len(sent)} recipient(s)', detail)
    return Step.passed(result, "email.sent", message_ids=list(sent.values()), **detail)


communication_send_email = workflow_job(
    name=EMAIL_JOB,
    agent=AGENT,
    description="Send a templated e-mail (SMTP) to people or departments, optionally with an S3 file.",
    steps=(compose_email, fetch_attachment, send_email),
)


# -- an announcement (fan-out) -----------------------------------------------------------------


@workflow_step(FanoutPlan)
def plan_announcement(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """The announcement and its recipients: channels, named people, departments' members, or the
    whole directory for "everyone"; a name the directory does not know is an item that fails."""
    body = announcement_body(item.text)
    if body is None:
        return Step.refused(NO_BODY)
    teams = wants_teams(item)
    entries: dict[str, FanoutItem] = {}
    for channel in channels_of(item):
        kind = "teams" if teams else "slack_channel"
        entries[f"{kind}:{channel}"] = FanoutItem(f"{kind}:{channel}", channel, {"kind": kind})
    names = _names(item)
    departments = [str(d) for d in item.values("department")]
    directory = bamboohr.client().directory() if names or departments or not entries else []
    people: list[Person] = []
    for name in names:
        person = find_person(directory, name) or (Person(name, name) if "@" in name else None)
        if person is None:
            entries[f"unknown:{name}"] = FanoutItem(f"unknown:{name}", name, {"kind": "unknown"})
        else:
            people.append(person)
    for department in departments:
        members = members_of(directory, department)
        if not members:
            return Step.refused(f"BambooHR has no one in the department {department!r}")
        people.extend(members)
    if not entries and not people and to_everyone(item):
        people = everyone(directory)
    for person in people:
        key = f"email:{person.email.lower()}"
        entries.setdefault(key, FanoutItem(key, person.email, {"kind": "email", "name": person.name}))
    if not entries:
        return Step.refused("the announcement names no channel, person or department to send it to")
    shared = {"title": announcement_title(body), "body": body}
    plan = FanoutPlan(item, "recipient", tuple(entries.values()), shared)
    return Step.passed(
        plan,
        "announcement.planned",
        recipients=len(plan.entries),
        channels=[e.target for e in plan.entries if e.payload["kind"] != "email"],
        departments=departments,
    )


@workflow_step(FanoutPlan)
def schedule_announcement(
    plan: FanoutPlan,
    *,
    store: RequestStoreResource,
    notifications: NotificationsResource,
    outlook_calendar: OutlookCalendarResource,
) -> Step:
    """Send now, or, when the request names a later time ("on Friday at 9am"), schedule it: the
    request succeeds as scheduled, and its due request sends the announcement at that time."""
    item = plan.item
    if is_due_run(item):
        return Step.passed(plan, "announcement.due", scheduled_by=scheduled_by(item))
    zone = organisation_zone(outlook_calendar)
    now = now_utc()
    when = send_at(item, zone, now)
    if when is None or when <= now:
        return Step.passed(plan)
    count = len(plan.entries)
    defer(store.get_store(), item, due_at=when, what=f"announcement to {count} recipient(s)")
    label = f"{when.astimezone(zone):%A %d %B %Y at %H:%M} ({zone.key})"
    title = str(plan.shared["title"])
    notifications.send(
        item.requester,
        f"Announcement scheduled for {label}",
        f'"{title}" will go to {count} recipient(s) on {label}. Request {item.request_id}.',
        request_id=item.request_id,
        idempotency_key=item.key("notify:scheduled"),
        detail={"due_at": when.isoformat()},
    )
    summary = f"announcement scheduled for {label}, to {count} recipient(s)"
    result = WorkResult(item, summary, {"due_at": when.isoformat(), "recipients": count})
    return Step.completed(result, "announcement.scheduled", due_at=when.isoformat(), recipients=count)


def deliver_announcement(
    entry: FanoutItem,
    batch: FanoutBatch,
    *,
    slack: SlackResource,
    teams: TeamsResource,
    email: EmailResource,
) -> str:
    """Deliver the announcement to one recipient: a channel gets a post, a person an e-mail."""
    item = batch.item
    kind = entry.payload.get("kind")
    title, body = str(batch.shared["title"]), str(batch.shared["body"])
    text = ANNOUNCEMENT.safe_substitute(title=title, body=body, sender=item.requester)
    footer = f"\n\nEAS request {item.request_id}"
    if kind == "unknown":
        raise ItemRefused(f"nobody in the company directory matches {entry.target!r}")
    if kind == "email":
        return send_mail(entry.target, title, text + footer, email=email, idempotency_key=batch.key(entry))
    target = Target(kind, entry.target, entry.target)  # type: ignore[arg-type]  # a channel kind
    return post_chat(
        target, text + footer, title=title, slack=slack, teams=teams, idempotency_key=batch.key(entry)
    )


communication_announcement = fanout_job(
    name=ANNOUNCEMENT_JOB,
    agent=AGENT,
    description="Announce to many recipients (channels, people, departments, everyone) in batches.",
    plan=(plan_announcement, schedule_announcement),
    item=deliver_announcement,
    prefix="announcement",
)
