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
from string import Template

from eas_pipelines.agents.common import WorkItem

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

MAX_SUBJECT = 78
"""A subject line longer than this is cut (RFC 5322's recommended line length)."""


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
