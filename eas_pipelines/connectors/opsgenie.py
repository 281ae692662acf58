"""Opsgenie through its Alert API (``/v2/alerts``): create, read and close alerts.

Opsgenie's REST API as Atlassian documents it (docs.opsgenie.com, "Alert API"; VENDOR_APIS.md does
not cover it):

- Base ``https://api.opsgenie.com`` (EU accounts: ``https://api.eu.opsgenie.com``); auth header
  ``Authorization: GenieKey <API key>`` (an API integration's key).
- ``POST /v2/alerts`` ``{"message" (required, <= 130 chars), "alias" (<= 512), "description",
  "responders": [{"type": "team", "name"}], "tags", "details", "entity", "source",
  "priority": "P1".."P5" (default P3), "note"}`` -> ``202 {"result": "Request will be processed",
  "took", "requestId"}``. Creation is asynchronous: ``GET /v2/alerts/requests/{requestId}`` says
  what became of it (``data.isSuccess``, ``data.status``, ``data.alertId``, ``data.alias``).
- ``GET /v2/alerts/{identifier}?identifierType=id|alias|tiny`` -> ``{"data": {...}}``;
  ``GET /v2/alerts?query=&limit=&offset=`` -> ``{"data": [...], "paging"}``;
  ``POST /v2/alerts/{identifier}/close?identifierType=alias`` ``{"note", "source"}`` -> 202.
- Errors: ``{"message", "took", "requestId"}`` with 4xx (401 bad key, 404 no such alert, 422 an invalid
  field); throttling is 429 (``X-RateLimit-State: THROTTLED``; no ``Retry-After`` documented, so the
  connector backs off).
- Idempotency is the ``alias``: creating an alert whose alias an *open* alert has does not open a
  second one (Opsgenie "de-duplicates" it and counts it), so a retried create alerts once.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP
from eas_pipelines.connectors.retry import VendorRejected

OPSGENIE_API_URL = "https://api.opsgenie.com"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
MAX_MESSAGE = 130
MAX_ALIAS = 512


class AlertRequest(BaseModel):
    """Opsgenie's receipt for an asynchronous request: ask :meth:`OpsgenieClient.request_status`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    result: str = ""
    request_id: str = Field(alias="requestId")


class RequestStatus(BaseModel):
    """What became of an asynchronous request (``data`` of ``GET /v2/alerts/requests/{id}``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    is_success: bool = Field(default=False, alias="isSuccess")
    action: str = ""
    status: str = ""
    alert_id: str = Field(default="", alias="alertId")
    alias: str = ""


class Alert(BaseModel):
    """An alert as ``GET /v2/alerts/{identifier}`` returns it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    tiny_id: str = Field(default="", alias="tinyId")
    alias: str = ""
    message: str = ""
    description: str = ""
    status: str = ""
    acknowledged: bool = False
    count: int = 1
    priority: str = "P3"
    tags: list[str] = Field(default_factory=list)
    details: dict[str, str] = Field(default_factory=dict)
    entity: str = ""
    source: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", "")) if isinstance(body, dict) else response.text[:200]


class OpsgenieClient:
    """Alert API calls with one API integration's key; each is retried and guarded by the resource."""

    def __init__(self, resource: OpsgenieResource):
        self._resource = resource
        self._http = VendorHTTP(
            "opsgenie",
            f"{resource.base_url.rstrip('/')}/v2/",
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            headers={"Authorization": f"GenieKey {resource.api_key}", "Accept": "application/json"},
            error_message=_error_message,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._http.json(method, path, **kwargs))

    def create_alert(
        self,
        message: str,
        *,
        alias: str,
        priority: str = "P3",
        description: str = "",
        responders: list[dict[str, str]] | None = None,
        tags: list[str] | None = None,
        details: dict[str, Any] | None = None,
        entity: str = "",
        source: str = "EAS",
    ) -> AlertRequest:
        """Create the alert ``alias`` names (an open alert with that alias is counted, not doubled)."""
        if priority not in PRIORITIES:
            raise ValueError(f"Opsgenie priority must be one of {PRIORITIES}, not {priority!r}")
        body: dict[str, Any] = {
            "message": message[:MAX_MESSAGE],
            "alias": alias[:MAX_ALIAS],
            "priority": priority,
            "source": source,
        }
        optional = {
            "description": description,
            "responders": responders,
            "tags": tags,
            "details": {k: str(v) for k, v in (details or {}).items()},
            "entity": entity,
        }
        body.update({k: v for k, v in optional.items() if v})
        return AlertRequest.model_validate(self._call("POST", "alerts", json=self._resource.outgoing(body)))

    def request_status(self, request_id: str) -> RequestStatus | None:
        """What became of an asynchronous request; None while Opsgenie has not processed it (404)."""
        try:
            answer = self._call("GET", f"alerts/requests/{request_id}")
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        return RequestStatus.model_validate(answer["data"])

    def alert(self, alias: str) -> Alert | None:
        """The alert with this alias, or None."""
        try:
            answer = self._call("GET", f"alerts/{alias}", params={"identifierType": "alias"})
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        return Alert.model_validate(answer["data"])

    def alerts(self, query: str = "", *, limit: int = 20) -> list[Alert]:
        """The newest alerts matching an Opsgenie search query (``status: open``...), at most ``limit``."""
        params: dict[str, Any] = {"limit": limit, "sort": "createdAt", "order": "desc"}
        if query:
            params["query"] = query
        return [Alert.model_validate(row) for row in self._call("GET", "alerts", params=params)["data"]]

    def close_alert(self, alias: str, *, note: str = "", source: str = "EAS") -> AlertRequest:
        """Close the alert with this alias (closing a closed alert changes nothing)."""
        body = {"source": source, **({"note": note} if note else {})}
        answer = self._call(
            "POST",
            f"alerts/{alias}/close",
            params={"identifierType": "alias"},
            json=self._resource.outgoing(body),
        )
        return AlertRequest.model_validate(answer)

    def close(self) -> None:
        self._http.close()


class OpsgenieResource(ConnectorResource):
    """Opsgenie: the API's base URL and an API integration's key (``EAS_OPSGENIE_*``)."""

    system = "opsgenie"

    base_url: str = Field(default=OPSGENIE_API_URL, description="API base URL (EAS_OPSGENIE_URL)")
    api_key: str = Field(description="an API integration's key, sent as GenieKey (EAS_OPSGENIE_API_KEY)")

    def client(self) -> OpsgenieClient:
        return self.reused_client(OpsgenieClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> OpsgenieResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=optional_env("EAS_OPSGENIE_URL") or OPSGENIE_API_URL,
            api_key=dg.EnvVar("EAS_OPSGENIE_API_KEY"),
        )
