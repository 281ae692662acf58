"""ServiceNow through its Table API (``/api/now/table/{table}``): incidents, users, change requests.

Basic auth (an integration user); pages with ``sysparm_limit``/``sysparm_offset`` until a page comes
back short; throttling is 429 + ``Retry-After``. The Table API has no idempotency key, so a create
stores EAS's key in ``correlation_id`` and first looks for a record carrying it: a retried create
returns the record the first attempt made instead of opening a second incident.

Updates have no idempotency key either: :meth:`ServiceNowClient.update_incident_once` keeps the keys
of the updates already applied in a custom column (:data:`UPDATE_KEYS_FIELD`) and reads it before
writing, so that a retried journal entry (``comments``: customer-visible; ``work_notes``: internal)
or escalation is written once. The read and the write are two calls: two *different* writers racing
on one incident may both go ahead, a retry of the same one never does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP
from eas_pipelines.connectors.retry import VendorRejected

PAGE_SIZE = 100

UPDATE_KEYS_FIELD = "u_eas_update_keys"
"""Custom string column: the idempotency keys of the updates applied to an incident, one per line."""
ESCALATION_LEVEL_FIELD = "u_escalation_level"
"""Custom integer column (sent as a string, as the Table API does): how many times EAS escalated it."""


INCIDENT_CANCELED = "8"
"""The incident ``state`` code of "Canceled" (1 New ... 6 Resolved, 7 Closed, 8 Canceled)."""


def servicenow_datetime(when: datetime) -> str:
    """A time as the Table API writes a date/time field without display values: UTC, to the second."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class Incident(BaseModel):
    """An incident as the Table API returns it (display values off: states are codes).

    An instance's own columns (``u_*``) come through as extra attributes: :meth:`field` reads any.
    """

    model_config = ConfigDict(extra="allow")

    sys_id: str
    number: str
    short_description: str = ""
    description: str = ""
    state: str = ""
    urgency: str = ""
    impact: str = ""
    assignment_group: str = ""
    caller_id: str = ""
    correlation_id: str = ""
    due_date: str = ""
    comments: str = ""
    work_notes: str = ""

    def field(self, name: str) -> str:
        """A column's value, standard or custom; "" when the record does not carry it."""
        value = (
            getattr(self, name, None)
            if name in type(self).model_fields
            else (self.model_extra or {}).get(name)
        )
        return "" if value is None else str(value)

    @property
    def escalation_level(self) -> int:
        """How many times EAS escalated it (:data:`ESCALATION_LEVEL_FIELD`; 0 when never)."""
        raw = self.field(ESCALATION_LEVEL_FIELD)
        return int(raw) if raw.isdigit() else 0

    def applied(self, idempotency_key: str) -> bool:
        """Whether the update keyed ``idempotency_key`` was already made (:data:`UPDATE_KEYS_FIELD`)."""
        return idempotency_key in self.field(UPDATE_KEYS_FIELD).splitlines()


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sys_id: str
    number: str
    short_description: str = ""
    state: str = ""
    correlation_id: str = ""


class User(BaseModel):
    """A ``sys_user`` record (display values off: ``active`` is "true"/"false")."""

    model_config = ConfigDict(extra="ignore")

    sys_id: str
    user_name: str = ""
    email: str = ""
    name: str = ""
    active: str = ""
    last_login_time: str = ""
    sys_created_on: str = ""
    u_access_role: str = ""  # the access level EAS granted (a custom column)
    u_eas_grant: str = ""  # the EAS request (and approval) the account was granted by

    @property
    def is_active(self) -> bool:
        return self.active.lower() == "true"


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
        impact: int | None = None,
        caller_id: str = "",
        assignment_group: str = "",
        **extra: Any,
    ) -> Incident:
        """Open an incident, once per ``correlation_id`` (EAS's idempotency key).

        ``extra``: more columns, standard (``due_date``) or the instance's own (``u_*``); ``impact``
        is left to the instance's default unless given.
        """
        fields = {
            "short_description": short_description,
            "description": description,
            "urgency": str(urgency),
            "caller_id": caller_id,
            "assignment_group": assignment_group,
            **({} if impact is None else {"impact": str(impact)}),
            **extra,
        }
        return Incident.model_validate(self._create("incident", fields, correlation_id))

    def incident(self, number_or_sys_id: str) -> Incident | None:
        field = "number" if number_or_sys_id.upper().startswith("INC") else "sys_id"
        found = next(self._query("incident", f"{field}={number_or_sys_id}", limit=1), None)
        return None if found is None else Incident.model_validate(found)

    def update_incident(self, sys_id: str, **fields: Any) -> Incident:
        return Incident.model_validate(self._call("PATCH", f"table/incident/{sys_id}", json=fields)["result"])

    def _current(self, number_or_sys_id: str) -> Incident:
        found = self.incident(number_or_sys_id)
        if found is None:
            raise VendorRejected(f"servicenow: no incident {number_or_sys_id}", status=404)
        return found

    def _apply_once(self, current: Incident, idempotency_key: str, fields: dict[str, Any]) -> Incident:
        keys = [*current.field(UPDATE_KEYS_FIELD).splitlines(), idempotency_key]
        return self.update_incident(current.sys_id, **fields, **{UPDATE_KEYS_FIELD: "\n".join(keys)})

    def update_incident_once(self, number_or_sys_id: str, *, idempotency_key: str, **fields: Any) -> Incident:
        """Apply ``fields`` once per ``idempotency_key``: a retry returns the incident unchanged.

        A journal field (``comments``, ``work_notes``) adds an entry each time it is written, so a
        retried note would show twice without this check.
        """
        current = self._current(number_or_sys_id)
        if current.applied(idempotency_key):
            return current
        return self._apply_once(current, idempotency_key, fields)

    def add_comment(self, number_or_sys_id: str, text: str, *, idempotency_key: str) -> Incident:
        """A customer-visible journal entry ("Additional comments"), once per ``idempotency_key``."""
        return self.update_incident_once(number_or_sys_id, idempotency_key=idempotency_key, comments=text)

    def add_work_note(self, number_or_sys_id: str, text: str, *, idempotency_key: str) -> Incident:
        """An internal journal entry ("Work notes"), once per ``idempotency_key``."""
        return self.update_incident_once(number_or_sys_id, idempotency_key=idempotency_key, work_notes=text)

    def cancel_incident(self, number_or_sys_id: str, note: str, *, idempotency_key: str) -> Incident:
        """Cancel an incident (``state`` 8, "Canceled") with ``note`` as its close notes and a work note,
        once per ``idempotency_key``: how an incident EAS opened is taken back (a saga's compensation)."""
        return self.update_incident_once(
            number_or_sys_id,
            idempotency_key=idempotency_key,
            state=INCIDENT_CANCELED,
            close_notes=note,
            work_notes=note,
        )

    def escalate(
        self, number_or_sys_id: str, *, assignment_group: str, reason: str, idempotency_key: str
    ) -> Incident:
        """Escalate one level, once per ``idempotency_key``: hand it to ``assignment_group``, raise its
        urgency one step (1 is the highest; it stays there), count the level in
        :data:`ESCALATION_LEVEL_FIELD` and say why in a work note."""
        current = self._current(number_or_sys_id)
        if current.applied(idempotency_key):
            return current
        level = current.escalation_level + 1
        urgency = int(current.urgency) if current.urgency.isdigit() else 3
        fields = {
            "assignment_group": assignment_group,
            "urgency": str(max(1, urgency - 1)),
            ESCALATION_LEVEL_FIELD: str(level),
            "work_notes": f"Escalated to {assignment_group} (level {level}): {reason}",
        }
        return self._apply_once(current, idempotency_key, fields)

    def incidents(self, query: str = "ORDERBYnumber", *, limit: int | None = None) -> list[Incident]:
        return [Incident.model_validate(row) for row in self._query("incident", query, limit=limit)]

    def create_change_request(self, short_description: str, *, correlation_id: str) -> ChangeRequest:
        fields = {"short_description": short_description}
        return ChangeRequest.model_validate(self._create("change_request", fields, correlation_id))

    def user_by_email(self, email: str) -> User | None:
        found = next(self._query("sys_user", f"email={email}", limit=1), None)
        return None if found is None else User.model_validate(found)

    def users(self, query: str = "ORDERBYuser_name", *, limit: int | None = None) -> list[User]:
        """``sys_user`` records matching an encoded query (for access reviews)."""
        return [User.model_validate(row) for row in self._query("sys_user", query, limit=limit)]

    def create_user(
        self, user_name: str, *, email: str, name: str, correlation_id: str, **extra: Any
    ) -> User:
        """Add an active ``sys_user``, once per ``correlation_id`` (looked up before the insert)."""
        fields = {"user_name": user_name, "email": email, "name": name, "active": "true", **extra}
        return User.model_validate(self._create("sys_user", fields, correlation_id))

    def set_user_active(self, sys_id: str, active: bool, **extra: Any) -> User:
        """Activate or deactivate a user (``active`` true/false: a deactivated user cannot log in).

        Setting the value it already has changes nothing, so a retry is harmless.
        """
        fields = {"active": "true" if active else "false", **extra}
        return User.model_validate(self._call("PATCH", f"table/sys_user/{sys_id}", json=fields)["result"])

    def close(self) -> None:
        self._http.close()


class ServiceNowResource(ConnectorResource):
    """ServiceNow: the instance URL and an integration user (``EAS_SERVICENOW_*``)."""

    system = "servicenow"

    base_url: str = Field(description="https://<instance>.service-now.com (EAS_SERVICENOW_URL)")
    user: str = Field(description="integration user (EAS_SERVICENOW_USER)")
    password: str = Field(description="its password (EAS_SERVICENOW_PASSWORD)")

    def client(self) -> ServiceNowClient:
        return self.reused_client(ServiceNowClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> ServiceNowResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_SERVICENOW_URL"),
            user=dg.EnvVar("EAS_SERVICENOW_USER"),
            password=dg.EnvVar("EAS_SERVICENOW_PASSWORD"),
        )
