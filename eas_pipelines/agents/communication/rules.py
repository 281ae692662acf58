"""Communication rules, free of Dagster and of vendors: what to say, to whom, in which template.

A request's words give the message (after a colon, or after "that"/"saying"), the e-mail subject
("about ..."), the channels (NLP ``channel`` entities: "#ops", "the engineering channel" -> "#engineering")
and whether a channel is a Teams channel (the request says "teams"). People (``recipient``,
``email``, ``department`` entities) are resolved to addresses by :mod:`.delivery`, through the
company directory. Templates are ``string.Template``s, so a missing value never raises.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from string import Template
from zoneinfo import ZoneInfo

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.scheduling.slots import time_of_day

_BODY_AFTER_COLON = re.compile(r":\s+(?P<body>\S.*)$", re.S)
_BODY_AFTER_WORD = re.compile(
    r"\b(?:saying(?: that)?|that|to say|know(?: that)?|with the news)\s+(?P<body>\S.*)$", re.S | re.I
)
_SUBJECT = re.compile(
    r"\b(?:with (?:the )?subject|about|regarding|re:?)\s+(?P<subject>[^:.!?\n]+?)"
    r"(?=\s+(?:on|for|by|with|saying|that)\b|[:.!?\n]|$)",
    re.I,
)
_TEAMS = re.compile(r"\b(?:ms )?teams\b", re.I)
_EVERYONE = re.compile(
    r"\b(?:everyone|everybody|all (?:staff|employees|hands)|all-hands|"
    r"(?:whole|entire) (?:company|org|office)|company-wide|org-wide|the company)\b",
    re.I,
)
_S3_URL = re.compile(r"\bs3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>[^\s,;]+[^\s,;.!?)])")
_CHANNEL_WORDS = re.compile(r"^(?:the\s+)?(?P<name>.+?)\s+channel$", re.I)
_NOT_IN_NAME = re.compile(r"[^a-z0-9_\-]+")

_ANNOUNCED_TOPIC = re.compile(
    r"\b(?:announce|broadcast)\s+(?P<topic>\S.*?)"
    r"(?=\s+(?:to|in|on|at|for|by|tomorrow|today|tonight|next|this)\b|[.!?]?\s*$)",
    re.I | re.S,
)

MAX_SUBJECT = 78
"""A subject line longer than this is cut (RFC 5322's recommended line length)."""
DEFAULT_SEND_TIME = time(9, 0)
"""When an announcement for a day that names no time goes out: the start of the working day."""


@dataclass(frozen=True)
class Attachment:
    """An attachment the request points at (``s3://bucket/key``)."""

    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def mime(self) -> str:
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


def message_body(text: str) -> str | None:
    """What the request asks to say: after the first ": ", else after "that"/"saying"; None if neither."""
    found = _BODY_AFTER_COLON.search(text) or _BODY_AFTER_WORD.search(text)
    if found is None:
        return None
    body = found.group("body").strip()
    return body or None


def announcement_body(text: str) -> str | None:
    """What an announcement says: the message after a colon or "that", else what is announced
    ("Announce the office move to all staff on Friday" -> "The office move"); None if neither."""
    body = message_body(text)
    if body is not None:
        return body
    found = _ANNOUNCED_TOPIC.search(text)
    topic = found.group("topic").strip() if found else ""
    return topic[:1].upper() + topic[1:] if topic else None


def schedule_words(text: str) -> str:
    """The part of a request that can say when to send: the words before the message (a time in the
    message, "we meet at 3", is the message's own)."""
    found = _BODY_AFTER_COLON.search(text) or _BODY_AFTER_WORD.search(text)
    return text[: found.start("body")] if found else text


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def send_at(item: WorkItem, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When the request asks for its message to go out (UTC), or None for now.

    The day is the first ``date`` entity before the message, the time of day the words before it say
    ("at 9am"), in the organisation's ``zone``; a day without a time is :data:`DEFAULT_SEND_TIME`, a
    time without a day today's, or tomorrow's once today's has passed.
    """
    head = schedule_words(item.text)
    days = [
        day
        for e in item.entities
        if e.get("type") == "date" and int(e.get("start") or 0) < len(head) and (day := _day(e.get("value")))
    ]
    clock, _ = time_of_day(head)
    if not days and clock is None:
        return None
    local_now = now.astimezone(zone)
    moment = datetime.combine(days[0] if days else local_now.date(), clock or DEFAULT_SEND_TIME, tzinfo=zone)
    if not days and moment <= local_now:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


def subject_of(text: str, body: str | None, fallback: str) -> str:
    """The e-mail subject: "about <topic>" / "subject <topic>", else the body's first words."""
    found = _SUBJECT.search(text)
    subject = found.group("subject").strip() if found else (body or fallback)
    subject = " ".join(subject.split())
    subject = subject[:1].upper() + subject[1:]
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 3].rstrip() + "..."


def channel_name(value: str) -> str:
    """A channel entity as its channel's name ("the engineering channel" -> "#engineering")."""
    value = value.strip()
    if value.startswith("#"):
        return "#" + _NOT_IN_NAME.sub("-", value[1:].lower()).strip("-")
    words = _CHANNEL_WORDS.match(value)
    name = words.group("name") if words else value
    return "#" + _NOT_IN_NAME.sub("-", name.lower()).strip("-")


def channels_of(item: WorkItem) -> list[str]:
    """The channels the request names, as "#name", in order and once each."""
    names = [channel_name(str(value)) for value in item.values("channel")]
    return list(dict.fromkeys(name for name in names if name != "#"))


def wants_teams(item: WorkItem) -> bool:
    """Whether the request asks for Microsoft Teams rather than Slack ("post a teams message to ...")."""
    return bool(_TEAMS.search(item.text))


def to_everyone(item: WorkItem) -> bool:
    """Whether an announcement is for the whole company ("let everyone know", "company-wide")."""
    return bool(_EVERYONE.search(item.text))


def attachment_of(text: str) -> Attachment | None:
    """The ``s3://bucket/key`` the request wants attached, if it names one."""
    found = _S3_URL.search(text)
    return Attachment(found.group("bucket"), found.group("key")) if found else None


def first_name(name: str) -> str:
    """ "Dana Smith" -> "Dana"; "dana.smith@example.com" -> "Dana"."""
    local = name.split("@", 1)[0]
    word = re.split(r"[\s._]+", local.strip())[0] if local.strip() else ""
    return word[:1].upper() + word[1:]


EMAIL_TEMPLATES: dict[str, Template] = {
    "reminder": Template("Hi $name,\n\na friendly reminder: $body\n\nThanks,\n$sender"),
    "follow_up": Template(
        "Hi $name,\n\nfollowing up on our earlier conversation: $body\n\nBest regards,\n$sender"
    ),
    "message": Template("Hi $name,\n\n$body\n\nBest regards,\n$sender"),
}
"""E-mail bodies by kind (:func:`email_template`)."""

ANNOUNCEMENT = Template("$title\n\n$body\n\n-- $sender, via EAS")
"""An announcement, to a channel or a person's inbox."""

SIGNATURE = Template("$body\n\n_(sent by EAS for $sender, request $request_id)_")
"""A chat message: what was asked, and who asked for it (recipients should know it is relayed)."""


def email_template(text: str) -> str:
    """Which e-mail template fits the request: a reminder, a follow-up, or a plain message."""
    lowered = text.lower()
    if "remind" in lowered:
        return "reminder"
    if re.search(r"\bfollow[- ]?up\b|\bfollowing up\b", lowered):
        return "follow_up"
    return "message"


def email_body(template: str, *, name: str, body: str, sender: str) -> str:
    return EMAIL_TEMPLATES[template].safe_substitute(name=name or "there", body=body, sender=sender)


def announcement_title(body: str) -> str:
    """The announcement's title: its first sentence, cut short."""
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0].rstrip(".!?")
    title = f"Announcement: {first}"
    return title if len(title) <= MAX_SUBJECT else title[: MAX_SUBJECT - 3].rstrip() + "..."
