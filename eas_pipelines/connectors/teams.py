"""Microsoft Teams through an incoming webhook (``dagster-msteams``), posting Adaptive Cards.

:class:`TeamsResource` has ``MSTeamsResource``'s settings (``hook_url``, proxies; it cannot subclass
it: its ``verify`` field would clash with :meth:`ConnectorResource.verify`), and ``get_client()``
returns a ``dagster_msteams.TeamsClient`` as ``MSTeamsResource`` does: a subclass that posts with a
``requests`` session trusting the system CAs *plus* ``ca_bundle`` (``TeamsClient`` passes ``verify``
straight to ``requests.post``, where a CA file would *replace* the system CAs), and that reads the
answer instead of reducing it to a bool: ``TeamsClient.post_message`` accepts any 2xx from a host
that is not ``*.webhook.office.com``, so it would miss throttling, which webhooks may report as a
200 whose body says "HTTP error 429".

Answers: ``1`` (legacy webhooks) or any other 2xx is delivered; a body naming HTTP error 429 or a
429 status is throttling (:class:`Transient`); 5xx, 408 and transport errors are transient; other
4xx, or a 200 saying delivery failed for another reason, are final (:class:`VendorRejected`).

Webhooks have no idempotency key and nothing to read back, so a post with an idempotency key is
recorded in Redis (the connectors' Redis, ``SET`` with a TTL) once delivered; a later post with the
same key and webhook is not sent again.

An incoming webhook belongs to one channel: ``hook_url`` is the default channel's, and
``channel_hooks`` (``EAS_TEAMS_CHANNEL_WEBHOOKS``, a JSON object ``{"general": "<webhook URL>"}``)
names the webhooks of other channels, so that a post can go to a channel by its name.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import requests
from dagster_msteams.client import TeamsClient
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import RETRYABLE_STATUSES, TrustingAdapter
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

ADAPTIVE_CARD_VERSION = "1.2"
"""The version in the webhook documentation's example; Teams renders up to 1.5 (unconfirmed for webhooks)."""
THROTTLED_IN_BODY = re.compile(r"HTTP error 429", re.IGNORECASE)
FAILED_IN_BODY = re.compile(r"HTTP error (5\d\d)|delivery failed", re.IGNORECASE)
THROTTLE_WAIT_S = 1.0
"""Wait after a throttle answer without ``Retry-After`` (the limit is 4 posts a second; unconfirmed)."""
Facts = Mapping[str, str] | Sequence[tuple[str, str]]


class TeamsDelivery(BaseModel):
    """The outcome of a post: delivered now, or earlier under the same idempotency key."""

    delivered: bool = True
    duplicate: bool = False
    idempotency_key: str | None = None


def adaptive_card(title: str, text: str, facts: Facts | None = None) -> dict[str, Any]:
    """The webhook message carrying one Adaptive Card: a title, a text and optional facts."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": text, "wrap": True},
    ]
    pairs = list(facts.items()) if isinstance(facts, Mapping) else list(facts or [])
    if pairs:
        body.append({"type": "FactSet", "facts": [{"title": str(k), "value": str(v)} for k, v in pairs]})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "type": "AdaptiveCard",
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "version": ADAPTIVE_CARD_VERSION,
                    "body": body,
                },
            }
        ],
    }


class TeamsWebhookClient(TeamsClient):
    """``dagster_msteams.TeamsClient`` whose posts are classified (and trust the connector's CA)."""

    def __init__(self, hook_url: str, *, timeout: float, verify: ssl.SSLContext | bool, **proxies: Any):
        super().__init__(hook_url=hook_url, timeout=timeout, verify=bool(verify), **proxies)
        self._context = verify if isinstance(verify, ssl.SSLContext) else None

    def _session(self) -> requests.Session:
        """A session for one post (webhooks allow 4 a second: nothing to gain from keeping it open)."""
        session = requests.Session()
        if self._context is not None:
            session.mount("https://", TrustingAdapter(self._context))
        return session

    def send(self, payload: Mapping[str, Any]) -> requests.Response:
        """One attempt: the answer when delivered, else :class:`Transient` or :class:`VendorRejected`."""
        try:
            with self._session() as session:
                response = session.post(
                    self._hook_url,
                    json=payload,
                    headers={**self._headers, "Connection": "close"},  # one post per connection
                    proxies=self._proxy,
                    timeout=self._timeout,
                    verify=self._verify,
                )
        except requests.RequestException as exc:  # refused, reset, timed out, TLS
            raise Transient(f"teams: {type(exc).__name__} posting to the webhook") from exc
        self.raise_for(response)
        return response

    @staticmethod
    def raise_for(response: requests.Response) -> None:
        status, body = response.status_code, response.text[:300]
        # the URL is the credential: never put it in a message
        message = f"teams: webhook answered HTTP {status}: {body}" if body else f"teams: HTTP {status}"
        if status == 429 or THROTTLED_IN_BODY.search(body):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise Transient(
                message, status=429, retry_after=THROTTLE_WAIT_S if retry_after is None else retry_after
            )
        if status in RETRYABLE_STATUSES or status >= 500:
            raise Transient(message, status=status)
        if status >= 400:
            raise VendorRejected(message, status=status)
        if body.strip() not in ("", "1"):
            failed = FAILED_IN_BODY.search(body)
            if failed and failed.group(1):  # "HTTP error 5xx" relayed in a 200
                raise Transient(message, status=int(failed.group(1)))
            if failed:
                raise VendorRejected(message, status=status)

    def post_message(self, payload: Mapping[str, Any]) -> bool:  # type: ignore[override]
        """``TeamsClient.post_message``, classified as :meth:`send` (one attempt, no retries)."""
        self.send(payload)
        return True


class TeamsClientOps:
    """Typed Teams posts; each is retried and guarded by the resource."""

    def __init__(self, resource: TeamsResource):
        self._resource = resource
        self.webhook = resource.get_client()
        self._channel_webhooks: dict[str, TeamsWebhookClient] = {}

    def has_channel(self, channel: str) -> bool:
        """Whether a webhook is configured for ``channel`` ("#general" or "general")."""
        return channel_key(channel) in self._resource.channel_webhooks()

    def _webhook(self, channel: str | None) -> tuple[TeamsWebhookClient, str]:
        """The client and URL posting to ``channel`` (None: the default webhook's channel)."""
        if channel is None:
            return self.webhook, self._resource.hook_url
        url = self._resource.channel_webhooks().get(channel_key(channel))
        if url is None:
            raise VendorRejected(
                f"teams: no incoming webhook is configured for the channel {channel}",
                code="channel_not_found",
            )
        if url not in self._channel_webhooks:
            self._channel_webhooks[url] = self._resource.get_client(url)
        return self._channel_webhooks[url], url

    def post(
        self,
        payload: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        channel: str | None = None,
    ) -> TeamsDelivery:
        """Post any webhook payload once per ``idempotency_key`` (the delivery ledger: a webhook
        cannot be read back, so a pending earlier attempt is sent again), to ``channel``'s webhook
        (None: the default one)."""
        webhook, url = self._webhook(channel)
        if idempotency_key is None:
            self._resource.guarded(lambda: webhook.send(payload))
            return TeamsDelivery()
        hook = hashlib.sha256(url.encode()).hexdigest()[:16]
        ledger = self._resource.ledger(hook)
        known = ledger.recall(idempotency_key)
        if known is not None and known.delivered:
            return TeamsDelivery(duplicate=True, idempotency_key=idempotency_key)
        attempt = ledger.begin(idempotency_key)
        self._resource.guarded(lambda: webhook.send(payload))
        ledger.delivered(idempotency_key, "1", attempt.since)
        return TeamsDelivery(idempotency_key=idempotency_key)

    def post_card(
        self,
        title: str,
        text: str,
        facts: Facts | None = None,
        idempotency_key: str | None = None,
        *,
        channel: str | None = None,
    ) -> TeamsDelivery:
        """Post an Adaptive Card (title, text, facts) to ``channel`` (None: the default webhook's)."""
        return self.post(adaptive_card(title, text, facts), idempotency_key=idempotency_key, channel=channel)


def channel_key(channel: str) -> str:
    """How channels are named in ``channel_hooks``: "#General" -> "general"."""
    return channel.strip().removeprefix("#").lower()


class TeamsResource(ConnectorResource):
    """Teams: an incoming webhook URL (``EAS_TEAMS_WEBHOOK_URL``; the URL is the credential)."""

    system = "teams"

    hook_url: str = Field(description="the channel's incoming webhook URL (EAS_TEAMS_WEBHOOK_URL)")
    http_proxy: str | None = Field(default=None, description="HTTP proxy URL")
    https_proxy: str | None = Field(default=None, description="HTTPS proxy URL")
    channel_hooks: str = Field(
        default="",
        description='webhooks of other channels: {"general": "<URL>"} in JSON (EAS_TEAMS_CHANNEL_WEBHOOKS)',
    )

    def channel_webhooks(self) -> dict[str, str]:
        """``channel_hooks`` as channel name (:func:`channel_key`) -> webhook URL."""
        if not self.channel_hooks.strip():
            return {}
        try:
            hooks = json.loads(self.channel_hooks)
        except ValueError as exc:
            raise ValueError(f"EAS_TEAMS_CHANNEL_WEBHOOKS is not a JSON object: {exc}") from None
        if not isinstance(hooks, dict):
            raise ValueError("EAS_TEAMS_CHANNEL_WEBHOOKS must be a JSON object of channel -> webhook URL")
        return {channel_key(str(name)): str(url) for name, url in hooks.items()}

    def get_client(self, hook_url: str | None = None) -> TeamsWebhookClient:
        return TeamsWebhookClient(
            hook_url or self.hook_url,
            timeout=self.timeout_s,
            verify=self.verify(),
            http_proxy=self.http_proxy,
            https_proxy=self.https_proxy,
        )

    def client(self) -> TeamsClientOps:
        return self.reused_client(TeamsClientOps)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> TeamsResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            hook_url=dg.EnvVar("EAS_TEAMS_WEBHOOK_URL"),
            **({"channel_hooks": hooks} if (hooks := optional_env("EAS_TEAMS_CHANNEL_WEBHOOKS")) else {}),
        )
