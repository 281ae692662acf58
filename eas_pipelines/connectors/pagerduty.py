"""PagerDuty through the Events API v2 (``POST /v2/enqueue``): trigger, acknowledge and resolve alerts.

:class:`PagerDutyResource` *is* a ``dagster_pagerduty.PagerDutyService`` (same ``routing_key`` field,
same ``EventV2_create`` signature), with the connector options of every EAS connector. Why the
event does not go out through ``PagerDutyService.EventV2_create`` itself: it calls
``pypd.EventV2.create``, whose endpoint is a class constant (``https://events.pagerduty.com/v2/enqueue``:
pointing it elsewhere means changing it for the whole process), which posts with a bare
``requests.post`` (no timeout, no way to trust EAS's CA, so it cannot reach the emulator) and turns
every non-2xx into an exception that does not say whether to retry. The override posts the same
body over ``httpx`` (:class:`~.http.VendorHTTP`) to ``events_url``, guarded and retried like every
connector call.

The Events API as PagerDuty documents it (developer.pagerduty.com, "Send an Alert Event"):

- body ``{"routing_key", "event_action": trigger|acknowledge|resolve, "dedup_key",
  "payload": {"summary", "source", "severity": critical|error|warning|info, "timestamp",
  "component", "group", "class", "custom_details"}, "client", "client_url", "links", "images"}``;
  ``payload`` is required for ``trigger`` only; the routing key is the credential (no auth header).
- ``202 {"status": "success", "message": "Event processed", "dedup_key": "..."}``;
  ``400 {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}``;
  ``429`` when the integration is throttled (no ``Retry-After`` documented: backoff);
  ``5xx`` to be retried.
- Idempotency is the ``dedup_key``: a trigger with the key of an open alert adds to that alert
  instead of opening a second one, so a retried trigger pages once.

What PagerDuty answers for an unknown or disabled routing key is unconfirmed (a 400 ``invalid event``
is assumed, as for any invalid field); both are refusals (:class:`VendorRejected`), never retried.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import dagster as dg
import dagster_pagerduty
import httpx
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, default_error_message

EVENTS_API_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024

EventAction = Literal["trigger", "acknowledge", "resolve"]


class EventAccepted(BaseModel):
    """PagerDuty's answer to an accepted event: its ``dedup_key`` addresses the alert from then on."""

    status: str = "success"
    message: str = ""
    dedup_key: str


def _error_message(response: httpx.Response) -> str:
    """``message: errors`` of an Events API error body (``{"status", "message", "errors"}``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        return f"{body.get('message', '')}: {'; '.join(map(str, body['errors']))}"
    return default_error_message(response)


class PagerDutyClient:
    """Events API v2 calls on one service's integration; each is retried and guarded by the resource."""

    def __init__(self, resource: PagerDutyResource):
        self._resource = resource
        base, self._path = resource.events_url.rstrip("/").rsplit("/", 1)
        self._http = VendorHTTP(
            "pagerduty",
            base,
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            headers={"Accept": "application/json"},
            error_message=_error_message,
        )

    def send(self, event: dict[str, Any]) -> EventAccepted:
        """Post one event (already shaped as the Events API wants it)."""
        body = {**self._resource.outgoing(event), "routing_key": self._resource.routing_key}
        answer = self._resource.guarded(lambda: self._http.json("POST", self._path, json=body))
        return EventAccepted.model_validate(answer)

    def trigger(
        self,
        summary: str,
        *,
        source: str,
        severity: str,
        dedup_key: str,
        component: str | None = None,
        group: str | None = None,
        event_class: str | None = None,
        custom_details: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> EventAccepted:
        """Open (or add to) the alert keyed ``dedup_key``: pages the service's on-call once per key."""
        if severity not in SEVERITIES:
            raise ValueError(f"PagerDuty severity must be one of {SEVERITIES}, not {severity!r}")
        payload: dict[str, Any] = {
            "summary": summary[:MAX_SUMMARY],
            "source": source,
            "severity": severity,
            "timestamp": (timestamp or datetime.now(UTC)).isoformat(),
        }
        optional = {"component": component, "group": group, "class": event_class}
        payload.update({k: v for k, v in optional.items() if v is not None})
        if custom_details:
            payload["custom_details"] = custom_details
        return self.send(
            {"event_action": "trigger", "dedup_key": dedup_key[:MAX_DEDUP_KEY], "payload": payload}
        )

    def acknowledge(self, dedup_key: str) -> EventAccepted:
        return self.send({"event_action": "acknowledge", "dedup_key": dedup_key[:MAX_DEDUP_KEY]})

    def resolve(self, dedup_key: str) -> EventAccepted:
        """Resolve the alert: a later trigger with the same key opens a new one (PagerDuty's rule)."""
        return self.send({"event_action": "resolve", "dedup_key": dedup_key[:MAX_DEDUP_KEY]})

    def close(self) -> None:
        self._http.close()


class PagerDutyResource(ConnectorResource, dagster_pagerduty.PagerDutyService):
    """PagerDuty: a service's Events API v2 integration key and the endpoint (``EAS_PAGERDUTY_*``).

    Still a ``dagster_pagerduty.PagerDutyService``: ``EventV2_create`` takes its arguments, and
    sends through :class:`PagerDutyClient` (see the module's docstring for why not through pypd).
    """

    system = "pagerduty"

    events_url: str = Field(
        default=EVENTS_API_URL, description="the Events API v2 enqueue URL (EAS_PAGERDUTY_EVENTS_URL)"
    )

    def client(self) -> PagerDutyClient:
        return self.reused_client(PagerDutyClient)

    def EventV2_create(  # noqa: N802 - dagster-pagerduty's name
        self,
        summary: str,
        source: str,
        severity: str,
        event_action: str = "trigger",
        dedup_key: str | None = None,
        timestamp: str | None = None,
        component: str | None = None,
        group: str | None = None,
        event_class: str | None = None,
        custom_details: object | None = None,
    ) -> object:
        """``PagerDutyService.EventV2_create``, sent by this connector: returns PagerDuty's answer."""
        payload: dict[str, Any] = {"summary": summary, "source": source, "severity": severity}
        optional = {
            "timestamp": timestamp,
            "component": component,
            "group": group,
            "class": event_class,
            "custom_details": custom_details,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        event: dict[str, Any] = {"event_action": event_action, "payload": payload}
        if dedup_key is not None:
            event["dedup_key"] = dedup_key
        return self.client().send(event).model_dump()

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> PagerDutyResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            routing_key=dg.EnvVar("EAS_PAGERDUTY_ROUTING_KEY"),
            events_url=optional_env("EAS_PAGERDUTY_EVENTS_URL") or EVENTS_API_URL,
        )
