"""ServiceNow through its Table API (``/api/now/table/{table}``): incidents, users, change requests.

Basic auth (an integration user); pages with ``sysparm_limit``/``sysparm_offset`` until a page comes
back short; throttling is 429 + ``Retry-After``. The Table API has no idempotency key, so a create
stores EAS's key in ``correlation_id`` and first looks for a record carrying it: a retried create
returns the record the first attempt made instead of opening a second incident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP

PAGE_SIZE = 100


class Incident(BaseModel):
    """An incident as the Table API returns it (display values off: states are codes)."""

    model_config = ConfigDict(extra="ignore")

    sys_id: str
    number: str
    short_description: str = ""
    description: str = ""
    state: str = ""
    urgency: str = ""
    assignment_group: str = ""
    caller_id: str = ""
    correlation_id: str = ""
    comments: str = ""


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sys_id: str
    number: str
    short_description: str = ""
    state: str = ""
    correlation_id: str = ""


class User(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sys_id: str
    user_name: str = ""
    email: str = ""
    name: str = ""
    active: str = ""


class ServiceNowClient:
    """Typed calls on one ServiceNow instance; each is retried and guarded by the resource."""

    def __init__(self, resource: ServiceNowResource):
        self._resource = resource
        self._http = VendorHTTP(
            "servicenow",
            f"{resource.base_url.rstrip('/')}/api/now/",
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            auth=httpx.BasicAuth(resource.user, resource.password),
            headers={"Accept": "application/json"},
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._http.json(method, path, **kwargs))

    def _query(self, table: str, query: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record of ``table`` matching ``query``, page by page."""
        offset = 0
        while True:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - offset)
            params = {"sysparm_query": query, "sysparm_limit": size, "sysparm_offset": offset}
            page = self._call("GET", f"table/{table}", params=params)["result"]
            yield from page
            offset += len(page)
            if len(page) < size or (limit is not None and offset >= limit):
                return

    def _create(self, table: str, fields: dict[str, Any], correlation_id: str) -> dict[str, Any]:
        existing = next(self._query(table, f"correlation_id={correlation_id}", limit=1), None)
        if existing is not None:
            return existing
        return self._call("POST", f"table/{table}", json={**fields, "correlation_id": correlation_id})[
            "result"
        ]

    def create_incident(
        self,
        short_description: str,
        *,
        correlation_id: str,
        description: str = "",
        urgency: int = 3,
        caller_id: str = "",
        assignment_group: str = "",
    ) -> Incident:
        """Open an incident, once per ``correlation_id`` (EAS's idempotency key)."""
        fields = {
            "short_description": short_description,
            "description": description,
            "urgency": str(urgency),
            "caller_id": caller_id,
            "assignment_group": assignment_group,
        }
        return Incident.model_validate(self._create("incident", fields, correlation_id))

    def incident(self, number_or_sys_id: str) -> Incident | None:
        field = "number" if number_or_sys_id.upper().startswith("INC") else "sys_id"
        found = next(self._query("incident", f"{field}={number_or_sys_id}", limit=1), None)
        return None if found is None else Incident.model_validate(found)

    def update_incident(self, sys_id: str, **fields: Any) -> Incident:
        return Incident.model_validate(self._call("PATCH", f"table/incident/{sys_id}", json=fields)["result"])

    def incidents(self, query: str = "ORDERBYnumber", *, limit: int | None = None) -> list[Incident]:
        return [Incident.model_validate(row) for row in self._query("incident", query, limit=limit)]

    def create_change_request(self, short_description: str, *, correlation_id: str) -> ChangeRequest:
        fields = {"short_description": short_description}
        return ChangeRequest.model_validate(self._create("change_request", fields, correlation_id))

    def user_by_email(self, email: str) -> User | None:
        found = next(self._query("sys_user", f"email={email}", limit=1), None)
        return None if found is None else User.model_validate(found)

    def close(self) -> None:
        self._http.close()


class ServiceNowResource(ConnectorResource):
    """ServiceNow: the instance URL and an integration user (``EAS_SERVICENOW_*``)."""

    system = "servicenow"

    base_url: str = Field(description="https://<instance>.service-now.com (EAS_SERVICENOW_URL)")
    user: str = Field(description="integration user (EAS_SERVICENOW_USER)")
    password: str = Field(description="its password (EAS_SERVICENOW_PASSWORD)")

    def client(self) -> ServiceNowClient:
        return ServiceNowClient(self)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> ServiceNowResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_SERVICENOW_URL"),
            user=dg.EnvVar("EAS_SERVICENOW_USER"),
            password=dg.EnvVar("EAS_SERVICENOW_PASSWORD"),
        )
