"""Slack's SCIM API (``https://api.slack.com/scim/v2/``): creating, finding and deactivating members.

The Web API (:mod:`.slack`) cannot manage accounts; Slack's SCIM 2.0 API can, with a user token of an
Org Owner or Admin (``admin`` scope), not the bot token. The paths and bodies follow SCIM 2.0
(RFC 7644) as Slack documents it; Slack's exact error body and its filter attributes beyond ``email``
are unconfirmed (VENDOR_APIS.md does not cover SCIM): errors are read as SCIM's
``{"schemas": [...Error], "detail", "status"}`` or Slack's ``{"Errors": {"description", "code"}}``.

- ``GET Users?filter=email eq "a@b.c"`` → a ``ListResponse`` (``Resources``, ``totalResults``), paged by
  ``startIndex`` (1-based) and ``count``.
- ``POST Users`` → 201 the user; ``PATCH Users/{id}`` with a ``PatchOp`` replacing ``active`` → 200.
  Deactivating (``active: false``) signs the member out everywhere and keeps their history; it is
  Slack's way to remove access (``DELETE`` does the same). Setting the value it already has is a no-op,
  so a retried deactivation is harmless.

Throttling is 429 + ``Retry-After`` (:class:`~.http.VendorHTTP`); a refusal is :class:`VendorRejected`.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, default_error_message

SCIM_API_URL = "https://api.slack.com/scim/v2/"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
PAGE_SIZE = 100


class ScimUser(BaseModel):
    """A member as SCIM shows them (the primary e-mail lifted out of ``emails``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    user_name: str = Field(default="", alias="userName")
    display_name: str = Field(default="", alias="displayName")
    active: bool = True
    emails: list[dict[str, Any]] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def email(self) -> str:
        primary = next((e for e in self.emails if e.get("primary")), self.emails[0] if self.emails else {})
        return str(primary.get("value", ""))


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("Errors"), dict):
        return str(body["Errors"].get("description", ""))
    return default_error_message(response)


def scim_string(value: str) -> str:
    """``value`` as a quoted SCIM filter string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SlackScimClient:
    """Typed SCIM calls; each is retried and guarded by the resource."""

    def __init__(self, resource: SlackScimResource):
        self._resource = resource
        self._http = VendorHTTP(
            "slack_scim",
            resource.base_url,
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            headers={"Authorization": f"Bearer {resource.token}", "Accept": "application/json"},
            error_message=_error_message,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._http.json(method, path, **kwargs))

    def _list(self, scim_filter: str | None = None) -> list[ScimUser]:
        found: list[ScimUser] = []
        while True:
            params: dict[str, Any] = {"startIndex": len(found) + 1, "count": PAGE_SIZE}
            if scim_filter:
                params["filter"] = scim_filter
            page = self._call("GET", "Users", params=params)
            resources = page.get("Resources") or []
            found.extend(ScimUser.model_validate(r) for r in resources)
            if not resources or len(found) >= int(page.get("totalResults", 0)):
                return found

    def user_by_email(self, email: str) -> ScimUser | None:
        """The member with this e-mail, active or not, else None."""
        return next(iter(self._list(f"email eq {scim_string(email)}")), None)

    def users(self) -> list[ScimUser]:
        """Every member, active or deactivated (for access reviews)."""
        return self._list()

    def create_user(self, email: str, *, given_name: str, family_name: str) -> ScimUser:
        """Add an active member, unless one with this e-mail exists (then it is reactivated)."""
        existing = self.user_by_email(email)
        if existing is not None:
            return existing if existing.active else self.set_active(existing.id, True)
        body = {
            "schemas": [USER_SCHEMA],
            "userName": email.split("@")[0],
            "displayName": f"{given_name} {family_name}".strip(),
            "name": {"givenName": given_name, "familyName": family_name},
            "emails": [{"value": email, "primary": True}],
            "active": True,
        }
        return ScimUser.model_validate(self._call("POST", "Users", json=body))

    def set_active(self, user_id: str, active: bool) -> ScimUser:
        """Activate or deactivate a member (``PATCH`` replacing ``active``)."""
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "active", "value": active}],
        }
        return ScimUser.model_validate(self._call("PATCH", f"Users/{user_id}", json=body))

    def close(self) -> None:
        self._http.close()


class SlackScimResource(ConnectorResource):
    """Slack SCIM: an admin user token (``xoxp-…``) and the SCIM base URL (``EAS_SLACK_SCIM_*``)."""

    system = "slack_scim"

    base_url: str = Field(
        default=SCIM_API_URL, description="the SCIM base, ending in /scim/v2/ (EAS_SLACK_SCIM_URL)"
    )
    token: str = Field(description="an Org Admin's user token with the admin scope (EAS_SLACK_SCIM_TOKEN)")

    def client(self) -> SlackScimClient:
        return self.reused_client(SlackScimClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> SlackScimResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            token=dg.EnvVar("EAS_SLACK_SCIM_TOKEN"),
            base_url=optional_env("EAS_SLACK_SCIM_URL") or SCIM_API_URL,
        )
