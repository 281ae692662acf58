"""BambooHR through its REST API (``https://{company}.bamboohr.com/api/v1/``): the HR agent's
directory look-ups, new hires, time-off requests and balances.

The API key is the Basic user (password ``x``). BambooHR puts its error message in the
``x-bamboohr-error-message`` header with an empty body, so the client reads it there; throttling is
the legacy 503 or 429 + ``Retry-After``, both retried. The API has no idempotency keys: adding an
employee first looks for the work email in the directory, and filing time off first looks for a
request carrying EAS's key in its note, inside the same retried attempt, so a retry returns what
the first attempt made. A request above the balance is refused with :class:`InsufficientBalance`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, default_error_message
from eas_pipelines.connectors.retry import VendorRejected

ERROR_HEADER = "x-bamboohr-error-message"
EMPLOYEE_FIELDS = (
    "firstName",
    "lastName",
    "displayName",
    "workEmail",
    "jobTitle",
    "department",
    "supervisor",
    "supervisorId",
    "hireDate",
)


class InsufficientBalance(VendorRejected):
    """BambooHR refused a time-off request because it exceeds the employee's balance."""


class Employee(BaseModel):
    """An employee as the directory (or ``GET /employees/{id}``) shows them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: int
    first_name: str = Field(default="", alias="firstName")
    last_name: str = Field(default="", alias="lastName")
    display_name: str = Field(default="", alias="displayName")
    work_email: str | None = Field(default=None, alias="workEmail")
    job_title: str | None = Field(default=None, alias="jobTitle")
    department: str | None = None
    supervisor: str | None = None
    supervisor_id: int | None = Field(default=None, alias="supervisorId")
    hire_date: date | None = Field(default=None, alias="hireDate")

    @property
    def full_name(self) -> str:
        return self.display_name or f"{self.first_name} {self.last_name}".strip()


class TimeOffRequest(BaseModel):
    """A time-off request, flattened from BambooHR's nested status/type/amount/notes."""

    id: int
    employee_id: int
    name: str = ""
    status: str
    start: date
    end: date
    type_id: str
    type_name: str
    amount: float
    unit: str = "days"
    employee_note: str = ""
    manager_note: str = ""

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> TimeOffRequest:
        notes = row.get("notes") or {}
        return cls(
            id=row["id"],
            employee_id=row["employeeId"],
            name=row.get("name") or "",
            status=(row.get("status") or {}).get("status", ""),
            start=row["start"],
            end=row["end"],
            type_id=str((row.get("type") or {}).get("id", "")),
            type_name=(row.get("type") or {}).get("name", ""),
            amount=float((row.get("amount") or {}).get("amount", 0)),
            unit=(row.get("amount") or {}).get("unit", "days"),
            employee_note=(notes.get("employee") or "") if isinstance(notes, dict) else "",
            manager_note=(notes.get("manager") or "") if isinstance(notes, dict) else "",
        )


class Balance(BaseModel):
    """One row of the time-off calculator: what an employee has left of one type on ``end``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    time_off_type: str = Field(alias="timeOffType")
    name: str
    units: str = "days"
    balance: float
    end: date | None = None
    policy_type: str | None = Field(default=None, alias="policyType")
    used_year_to_date: float = Field(default=0.0, alias="usedYearToDate")


def bamboohr_error_message(response: httpx.Response) -> str:
    """BambooHR's message from its error header, else whatever the body says."""
    return response.headers.get(ERROR_HEADER) or default_error_message(response)


def _key_marker(idempotency_key: str) -> str:
    return f"[eas:{idempotency_key}]"


def _weekdays(start: date, end: date) -> float:
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return float(sum(1 for day in days if day.weekday() < 5)) or 1.0


class BambooHRClient:
    """Typed calls on one BambooHR company; each is retried and guarded by the resource."""

    def __init__(self, resource: BambooHRResource):
        self._resource = resource
        self._http = VendorHTTP(
            "bamboohr",
            resource.base_url,
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            auth=httpx.BasicAuth(resource.api_key, "x"),
            headers={"Accept": "application/json"},
            error_message=bamboohr_error_message,
        )
        self._types: dict[str, str] | None = None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._http.json(method, path, **kwargs))

    # -- people ---------------------------------------------------------------------------------

    def directory(self) -> list[Employee]:
        """Everyone in the company directory (unpaged)."""
        return [Employee.model_validate(row) for row in self._call("GET", "employees/directory")["employees"]]

    def employee(self, employee_id: int | str) -> Employee | None:
        """One employee by id, or None when BambooHR does not know the id."""
        try:
            row = self._call("GET", f"employees/{employee_id}", params={"fields": ",".join(EMPLOYEE_FIELDS)})
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        return Employee.model_validate(row)

    def employee_by_name_or_email(self, text: str) -> Employee | None:
        """The employee whose work email or full name is ``text``, else the only partial name match."""
        wanted = text.strip().lower()
        people = self.directory()
        for person in people:
            if wanted in ((person.work_email or "").lower(), person.full_name.lower()):
                return person
        partial = [person for person in people if wanted and wanted in person.full_name.lower()]
        return partial[0] if len(partial) == 1 else None

    def add_employee(
        self,
        first_name: str,
        last_name: str,
        work_email: str,
        job_title: str,
        department: str,
        hire_date: date,
        idempotency_key: str,
    ) -> Employee:
        """Add a hire, once per work email (BambooHR has no idempotency key; the directory is checked).

        ``idempotency_key`` names the attempt in logs only: the work email is the natural key.
        """
        body = {
            "firstName": first_name,
            "lastName": last_name,
            "workEmail": work_email,
            "jobTitle": job_title,
            "department": department,
            "hireDate": hire_date.isoformat(),
        }

        def attempt() -> int:
            directory = self._http.json("GET", "employees/directory")["employees"]
            for row in directory:
                if (row.get("workEmail") or "").lower() == work_email.lower():
                    return int(row["id"])
            response = self._http.request("POST", "employees", json=body)
            return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

        employee_id = self._resource.guarded(attempt)
        found = self.employee(employee_id)
        if found is None:
            raise VendorRejected(
                f"bamboohr: employee {employee_id} ({idempotency_key}) vanished after adding"
            )
        return found

    # -- time off -------------------------------------------------------------------------------

    def time_off_types(self) -> dict[str, str]:
        """Time-off type id → name (cached for this client)."""
        if self._types is None:
            body = self._call("GET", "meta/time_off/types")
            self._types = {str(row["id"]): row["name"] for row in body["timeOffTypes"]}
        return self._types

    def _type_id(self, time_off_type: str | int) -> str:
        types = self.time_off_types()
        if str(time_off_type) in types:
            return str(time_off_type)
        for type_id, name in types.items():
            if name.lower() == str(time_off_type).strip().lower():
                return type_id
        raise VendorRejected(
            f"bamboohr: unknown time-off type {time_off_type!r}; known: {sorted(types.values())}"
        )

    def time_off_requests(
        self, start: date, end: date, employee_id: int | str | None = None, status: str | None = None
    ) -> list[TimeOffRequest]:
        """Requests overlapping ``start``..``end`` (both required by BambooHR), optionally filtered."""
        rows = self._resource.guarded(lambda: self._requests(start, end, employee_id, status))
        return [TimeOffRequest.from_api(row) for row in rows]

    def _requests(
        self, start: date, end: date, employee_id: int | str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """One unguarded attempt (callers run it under ``guarded``)."""
        params: dict[str, str] = {"start": start.isoformat(), "end": end.isoformat()}
        if employee_id is not None:
            params["employeeId"] = str(employee_id)
        if status is not None:
            params["status"] = status
        return self._http.json("GET", "time_off/requests", params=params) or []

    def request_time_off(
        self,
        employee_id: int | str,
        start: date,
        end: date,
        time_off_type: str | int,
        amount: float | None = None,
        note: str = "",
        idempotency_key: str = "",
        *,
        status: str = "requested",
    ) -> TimeOffRequest:
        """File a time-off request, once per ``idempotency_key`` (kept in the employee's note).

        ``time_off_type`` is a type name ("vacation") or id; ``amount`` in days defaults to the
        weekdays in the range. Raises :class:`InsufficientBalance` when BambooHR refuses it for the
        balance.
        """
        if not idempotency_key:
            raise ValueError("request_time_off needs an idempotency_key")
        type_id = self._type_id(time_off_type)
        marker = _key_marker(idempotency_key)
        body = {
            "status": status,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "timeOffTypeId": type_id,
            "amount": amount if amount is not None else _weekdays(start, end),
            "notes": [{"from": "employee", "note": f"{note} {marker}".strip()}],
        }

        def existing() -> dict[str, Any] | None:
            for row in self._requests(start, end, employee_id):
                if marker in str((row.get("notes") or {}).get("employee", "")):
                    return row
            return None

        def attempt() -> dict[str, Any]:
            found = existing()
            if found is not None:
                return found
            response = self._http.request("PUT", f"employees/{employee_id}/time_off/request", json=body)
            # The 201's body (the new request) is unconfirmed: look it up by the key when it is empty.
            return response.json() if response.content else existing() or {}

        try:
            row = self._resource.guarded(attempt)
        except VendorRejected as exc:
            if exc.status == 400 and "balance" in str(exc).lower():
                raise InsufficientBalance(str(exc), status=exc.status) from exc
            raise
        return TimeOffRequest.from_api(row)

    def set_time_off_status(self, request_id: int | str, status: str, note: str = "") -> None:
        """Approve, deny or cancel a request (``approved`` | ``denied`` | ``canceled``)."""
        body: dict[str, str] = {"status": status}
        if note:
            body["note"] = note
        self._call("PUT", f"time_off/requests/{request_id}/status", json=body)

    def balances(self, employee_id: int | str, as_of: date | None = None) -> list[Balance]:
        """What the employee has left of each time-off type on ``as_of`` (today by default)."""
        end = (as_of or date.today()).isoformat()
        rows = self._call("GET", f"employees/{employee_id}/time_off/calculator", params={"end": end}) or []
        return [Balance.model_validate(row) for row in rows]

    def close(self) -> None:
        self._http.close()


class BambooHRResource(ConnectorResource):
    """BambooHR: the company's API base and an API key (``EAS_BAMBOOHR_*``)."""

    system = "bamboohr"

    base_url: str = Field(description="https://<company>.bamboohr.com/api/v1 (EAS_BAMBOOHR_URL)")
    api_key: str = Field(description="an API key, sent as the Basic user (EAS_BAMBOOHR_API_KEY)")

    def client(self) -> BambooHRClient:
        return self.reused_client(BambooHRClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> BambooHRResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_BAMBOOHR_URL"),
            api_key=dg.EnvVar("EAS_BAMBOOHR_API_KEY"),
        )
