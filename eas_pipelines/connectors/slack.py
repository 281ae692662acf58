"""Slack through the Web API (``slack-sdk``'s ``WebClient``, built as ``dagster-slack`` builds it).

:class:`SlackResource` *is* a ``dagster_slack.SlackResource`` (same ``token`` field, and
``get_client()`` still returns a ``WebClient``), with the Web API's base URL and EAS's trusted CA
added so that it can reach the emulator, and the connector options of every EAS connector.

Slack answers errors with HTTP 200 ``{"ok": false, "error": "<code>"}`` (the SDK raises
``SlackApiError``): ``ratelimited`` (HTTP 429 + ``Retry-After``) and ``internal_error``/
``fatal_error``/5xx are transient, every other code (``channel_not_found``, ``invalid_auth``,
``not_in_channel``...) is a final refusal. The SDK's own retry handlers are switched off: retries
go through :meth:`ConnectorResource.guarded` so that the breaker counts them.

Slack has no idempotency key. A post with one goes through the delivery ledger (:mod:`.ledger`)
and stores the key in the message ``metadata`` (event type ``eas_request``): a key already
delivered returns the first message; a key whose earlier attempt's answer was lost is looked for
in the channel's history (``conversations.history`` with ``include_all_metadata``, or the thread's
replies) since that attempt, so a retried post returns the first message instead of posting twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.error import URLError

import dagster as dg
import dagster_slack
from pydantic import BaseModel, ConfigDict, Field, model_validator
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse, WebClient

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

T = TypeVar("T")

SLACK_API_URL = "https://slack.com/api/"
PAGE_SIZE = 200
"""``limit`` of one ``conversations.*`` page (Slack recommends at most 200)."""
IDEMPOTENCY_EVENT = "eas_request"
"""``metadata.event_type`` of the messages EAS posts with an idempotency key."""
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable"})
LEDGER_CLOCK_SKEW_S = 120.0
"""How far before a pending attempt's start (this machine's clock) its message may be stamped by Slack."""
_ID = re.compile(r"^[CGDUW][A-Z0-9]{2,}$")


class SlackUser(BaseModel):
    """A member as ``users.lookupByEmail`` returns it (the email lifted out of ``profile``)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str = ""
    real_name: str = ""
    email: str = ""
    deleted: bool = False
    is_bot: bool = False

    @model_validator(mode="before")
    @classmethod
    def _lift_profile(cls, data: Any) -> Any:
        if isinstance(data, dict):
            profile = data.get("profile") or {}
            data = {**data}
            data.setdefault("email", profile.get("email", ""))
            data.setdefault("real_name", profile.get("real_name", ""))
        return data


class PostedMessage(BaseModel):
    """Where a message landed: the channel's ID and the message's ``ts`` (its ID in the channel)."""

    channel: str
    ts: str
    thread_ts: str | None = None


def _header(response: SlackResponse, name: str) -> str | None:
    for key, value in (response.headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


def classify(method: str, exc: SlackApiError) -> Transient | VendorRejected:
    """The connector error for a Slack answer that is not ``ok``."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"HTTP {response.status_code}")
    message = f"slack: {method}: {code}"
    status = response.status_code
    if status == 429 or code == "ratelimited":
        return Transient(message, status=429, retry_after=parse_retry_after(_header(response, "Retry-After")))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return Transient(message, status=status)
    return VendorRejected(message, status=status, code=code)


class SlackClient:
    """Typed Web API calls; each is retried and guarded by the resource."""

    def __init__(self, resource: SlackResource):
        self._resource = resource
        self.web = resource.get_client()

    def _call(self, method: str, func: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return func()
            except SlackApiError as exc:
                raise classify(method, exc) from exc
            except (URLError, OSError) as exc:  # refused, reset, timed out (TimeoutError is an OSError)
                raise Transient(f"slack: {method}: {type(exc).__name__}: {exc}") from exc

        return self._resource.guarded(attempt)

    # -- people ---------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> SlackUser | None:
        """The workspace member with this email, or None (``users_not_found``)."""
        try:
            response = self._call("users.lookupByEmail", lambda: self.web.users_lookupByEmail(email=email))
        except VendorRejected as exc:
            if exc.code == "users_not_found":
                return None
            raise
        return SlackUser.model_validate(response["user"])

    def open_dm(self, user_id: str) -> str:
        """The ID of the direct-message channel with a member (``conversations.open``)."""
        response = self._call("conversations.open", lambda: self.web.conversations_open(users=user_id))
        return response["channel"]["id"]

    def dm_channel_for(self, email: str) -> str:
        """The direct-message channel with the person who has this email."""
        user = self.user_by_email(email)
        if user is None:
            raise VendorRejected(f"slack: no member with the email {email}", code="users_not_found")
        return self.open_dm(user.id)

    def post_direct_message(
        self,
        email: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> PostedMessage:
        """Post to a person by their email, in the bot's direct-message channel with them."""
        return self.post_message(
            self.dm_channel_for(email), text, blocks=blocks, idempotency_key=idempotency_key
        )

    # -- channels -------------------------------------------------------------------------------

    def _pages(self, method: str, fetch: Callable[[str | None], SlackResponse], key: str) -> Iterator[Any]:
        """Every item of a cursor-paged method, page by page until ``next_cursor`` is empty."""
        cursor: str | None = None
        while True:
            page = self._call(method, lambda cursor=cursor: fetch(cursor))
            yield from page.get(key) or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def channel_id(self, channel: str) -> str:
        """A channel's ID from its ID, ``#name`` or ``name`` (a member ID gives the DM channel)."""
        name = channel.removeprefix("#")
        if not channel.startswith("#") and _ID.match(channel):
            return self.open_dm(channel) if channel[0] in "UW" else channel
        channels = self._pages(
            "conversations.list",
            lambda cursor: self.web.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=PAGE_SIZE, cursor=cursor
            ),
            "channels",
        )
        for found in channels:
            if found.get("name") == name:
                return found["id"]
        raise VendorRejected(
            f"slack: conversations.list: channel_not_found ({channel})", code="channel_not_found"
        )

    def history(
        self, channel: str, *, oldest: float | None = None, include_all_metadata: bool = True
    ) -> Iterator[dict[str, Any]]:
        """The channel's messages, newest first, back to ``oldest`` (a Unix time)."""
        return self._pages(
            "conversations.history",
            lambda cursor: self.web.conversations_history(
                channel=channel,
                oldest=None if oldest is None else f"{oldest:.6f}",
                include_all_metadata=include_all_metadata,
                limit=PAGE_SIZE,
                cursor=cursor,
            ),
            "messages",
        )

    def replies(
        self, channel: str, thread_ts: str, *, oldest: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """A thread's messages (its parent first), back to ``oldest``."""
        return self._pages(
            "conversations.replies",
            lambda cursor: self.web.conversations_replies(
                channel=channel,
                ts=thread_ts,
                oldest=None if oldest is None else f"{oldest:.6f}",
                include_all_metadata=True,
                limit=PAGE_SIZE,
                cursor=cursor,
            ),
            "messages",
        )

    def find_by_key(
        self,
        channel_id: str,
        idempotency_key: str,
        *,
        thread_ts: str | None = None,
        since: float | None = None,
    ) -> str | None:
        """``ts`` of a message EAS posted with this key since ``since`` (default: the look-back)."""
        oldest = since if since is not None else time.time() - self._resource.idempotency_lookback_s
        messages = (
            self.replies(channel_id, thread_ts, oldest=oldest)
            if thread_ts
            else self.history(channel_id, oldest=oldest)
        )
        for message in messages:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == IDEMPOTENCY_EVENT and payload.get("key") == idempotency_key:
                return message["ts"]
        return None

    # -- posting --------------------------------------------------------------------------------

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        idempotency_key: str | None = None,
    ) -> PostedMessage:
        """Post ``text`` (the notification fallback when ``blocks`` are given) to a channel.

        ``channel``: an ID, ``#name`` or a member ID (their DM). With ``idempotency_key``, the post
        is made once (:mod:`.ledger`): a key already delivered returns that message; a key whose
        earlier attempt may have been delivered without an answer is looked for in the channel's
        history (or the thread's replies) since that attempt began, before posting.
        """
        if idempotency_key is None:
            return self._post(channel, text, blocks, thread_ts, None)
        ledger = self._resource.ledger(f"{channel.removeprefix('#')}/{thread_ts or ''}")
        known = ledger.recall(idempotency_key)
        if known is not None and known.delivered and known.reference:
            channel_id, _, ts = known.reference.partition("|")
            return PostedMessage(channel=channel_id, ts=ts, thread_ts=thread_ts)
        attempt = ledger.begin(idempotency_key)
        if known is not None:  # an earlier attempt: delivered, its answer lost?
            channel_id = self.channel_id(channel)
            since = attempt.since - LEDGER_CLOCK_SKEW_S
            existing = self.find_by_key(channel_id, idempotency_key, thread_ts=thread_ts, since=since)
            if existing is not None:
                ledger.delivered(idempotency_key, f"{channel_id}|{existing}", attempt.since)
                return PostedMessage(channel=channel_id, ts=existing, thread_ts=thread_ts)
        metadata = {"event_type": IDEMPOTENCY_EVENT, "event_payload": {"key": idempotency_key}}
        posted = self._post(channel, text, blocks, thread_ts, metadata)
        ledger.delivered(idempotency_key, f"{posted.channel}|{posted.ts}", attempt.since)
        return posted

    def _post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None,
        metadata: dict[str, Any] | None,
    ) -> PostedMessage:
        if not channel.startswith("#") and _ID.match(channel) and channel[0] in "UW":
            channel = self.open_dm(channel)  # chat.postMessage takes a channel, not a member
        response = self._call(
            "chat.postMessage",
            lambda: self.web.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=metadata
            ),
        )
        return PostedMessage(channel=response["channel"], ts=response["ts"], thread_ts=thread_ts)


class SlackResource(ConnectorResource, dagster_slack.SlackResource):
    """Slack: a bot token (``xoxb-…``) and the Web API's base URL (``EAS_SLACK_*``).

    Still a ``dagster_slack.SlackResource``: ``get_client()`` returns the ``WebClient``, now pointed
    at ``base_url`` and trusting ``ca_bundle``.
    """

    system = "slack"

    base_url: str = Field(
        default=SLACK_API_URL, description="the Web API base, ending in /api/ (EAS_SLACK_URL)"
    )
    idempotency_lookback_s: float = Field(
        default=24 * 3600, description="how far back a post with an idempotency key looks for itself"
    )

    def get_client(self) -> WebClient:
        verify = self.verify()
        return WebClient(
            token=self.token,
            base_url=self.base_url,
            timeout=self.timeout_s,  # type: ignore[arg-type]  # used as urlopen's timeout: floats work
            ssl=verify if not isinstance(verify, bool) else None,
            retry_handlers=[],  # retries are guarded(): the breaker must see them
        )

    def client(self) -> SlackClient:
        return self.reused_client(SlackClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> SlackResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            token=dg.EnvVar("EAS_SLACK_BOT_TOKEN"),
            base_url=optional_env("EAS_SLACK_URL") or SLACK_API_URL,
        )
