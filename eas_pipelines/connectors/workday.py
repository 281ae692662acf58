"""Workday through its REST API (``/ccx/api/<service>/<version>/<tenant>/``): workers, absence, time off.

Why it looks the way it does:

* **Auth.** An API client for integrations with a non-expiring refresh token: ``POST
  {host}/ccx/oauth2/{tenant}/token`` form ``grant_type=refresh_token`` (client id and secret as Basic)
  gives an access token, sent as ``Authorization: Bearer``; a 401 on a call gets one new grant and one
  more try. Workday has no Python SDK, so calls go through :class:`VendorHTTP` (httpx).
* **Unconfirmed shapes** (Workday's REST reference needs a login): collections are read as
  ``{"data": [...], "total": n}`` paged by ``limit`` (max 100) and zero-based ``offset``; worker fields
  ``descriptor``, ``primaryWorkEmail``, ``businessTitle``, ``manager``; balances carry ``absencePlan``,
  ``quantity``, ``unit``; errors carry ``error``. The emulator (``eas_sandbox.vendors.workday``) makes the
  same choices and the tests pin them.
* **Idempotency.** ``requestTimeOff`` has none: a retried request would take the days twice. The
  client writes ``[eas:<key>]`` into each day's ``comment`` and first reads the worker's
  ``timeOffDetails`` for days carrying it; if found, the earlier request is returned (``created=False``).
* **Refusals.** A request over the balance comes back as a validation error (400); its message naming
  the balance turns it into :class:`InsufficientBalance`, a :class:`VendorRejected`.
* **Not offered:** hiring. Workday has no confirmed REST hire endpoint (only SOAP ``Hire_Employee``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP
from eas_pipelines.connectors.retry import VendorRejected

SYSTEM = "workday"
PAGE_SIZE = 100
"""``limit`` of one page (Workday: default 20, max 100)."""


class InsufficientBalance(VendorRejected):
    """Workday refused a time-off request: it asks for more than the worker's balance."""


class Worker(BaseModel):
    id: str
    name: str
    email: str = ""
    title: str = ""
    is_manager: bool = False
    manager_id: str | None = None
    manager_name: str | None = None

    @classmethod
    def from_workday(cls, body: dict[str, Any]) -> Worker:
        manager = body.get("manager") or {}
        return cls(
            id=str(body["id"]),
            name=body.get("descriptor") or "",
            email=body.get("primaryWorkEmail") or "",
            title=body.get("businessTitle") or "",
            is_manager=bool(body.get("isManager")),
            manager_id=manager.get("id"),
            manager_name=manager.get("descriptor"),
        )


class AbsenceType(BaseModel):
    id: str
    name: str
    unit: str = "Days"


class Balance(BaseModel):
    """What a worker has left of one time-off type (``absencePlan``)."""

    time_off_type: str
    name: str
    quantity: float
    unit: str = "Days"


class TimeOffDay(BaseModel):
    date: str
    quantity: float
    time_off_type: str
    comment: str = ""


class TimeOffRequest(BaseModel):
    id: str
    worker_id: str
    status: str = ""
    days: list[TimeOffDay] = Field(default_factory=list)
    created: bool = True
    """False when an earlier request with the same idempotency key was found and returned."""


def _marker(idempotency_key: str) -> str:
    return f"[eas:{idempotency_key}]"


class WorkdayClient:
    """Typed calls on one Workday tenant; each is retried and guarded by the resource."""

    def __init__(self, resource: WorkdayResource):
        self._resource = resource
        self._http = VendorHTTP(
            SYSTEM,
            f"{resource.base_url.rstrip('/')}/ccx/",
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            headers={"Accept": "application/json"},
        )
        tenant = resource.tenant
        self._token_path = f"oauth2/{tenant}/token"
        self._staffing = f"api/staffing/v6/{tenant}"
        self._absence = f"api/absenceManagement/v1/{tenant}"
        self._access_token: str | None = None

    # ------------------------------------------------------------------ transport

    def _refresh(self) -> str:
        answer = self._http.json(
            "POST",
            self._token_path,
            data={"grant_type": "refresh_token", "refresh_token": self._resource.refresh_token},
            auth=httpx.BasicAuth(self._resource.client_id, self._resource.client_secret),
        )
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise VendorRejected(f"{SYSTEM}: the token endpoint answered without an access_token")
        self._access_token = str(answer["access_token"])
        return self._access_token

    def _attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self._access_token or self._refresh()
        try:
            return self._http.json(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except VendorRejected as exc:
            if exc.status != 401:
                raise
        token = self._refresh()  # the access token expired: one new grant, one more try
        return self._http.json(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._resource.guarded(lambda: self._attempt(method, path, **kwargs))

    def _get_or_none(self, path: str, **kwargs: Any) -> Any:
        try:
            return self._call("GET", path, **kwargs)
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def _pages(
        self, path: str, params: dict[str, Any] | None = None, *, guarded: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Every row of a collection (``{"data", "total"}``, unconfirmed), page by page.

        ``guarded=False``: plain attempts, for use inside a call the resource already guards.
        """
        fetch = self._call if guarded else self._attempt
        offset = 0
        while True:
            page = fetch("GET", path, params={**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            rows = page.get("data") or []
            yield from rows
            offset += len(rows)
            if len(rows) < PAGE_SIZE or offset >= int(page.get("total") or 0):
                return

    # ------------------------------------------------------------------ workers

    def workers(self, search: str = "") -> list[Worker]:
        """Workers whose name, id or email contains ``search`` (every worker when empty)."""
        params = {"search": search} if search else {}
        return [Worker.from_workday(row) for row in self._pages(f"{self._staffing}/workers", params)]

    def worker(self, worker_id: str) -> Worker | None:
        found = self._get_or_none(f"{self._staffing}/workers/{worker_id}")
        return None if found is None else Worker.from_workday(found)

    def worker_by_name_or_email(self, text: str) -> Worker | None:
        """The worker whose email, name or id is ``text`` (any case); else the only search hit; else None."""
        wanted = text.strip().lower()
        if not wanted:
            return None
        found = self.workers(wanted)
        exact = [w for w in found if wanted in (w.email.lower(), w.name.lower(), w.id.lower())]
        if len(exact) == 1:
            return exact[0]
        return found[0] if len(found) == 1 else None

    # ------------------------------------------------------------------ absence

    def eligible_absence_types(self, worker_id: str) -> list[AbsenceType]:
        return [
            AbsenceType(
                id=str(row["id"]),
                name=row.get("descriptor") or str(row["id"]),
                unit=(row.get("unitOfTime") or {}).get("descriptor") or "Days",
            )
            for row in self._pages(f"{self._absence}/workers/{worker_id}/eligibleAbsenceTypes")
        ]

    def balances(self, worker_id: str) -> list[Balance]:
        """The worker's balance per time-off type."""
        return [
            Balance(
                time_off_type=str(row["absencePlan"]["id"]),
                name=row["absencePlan"].get("descriptor") or "",
                quantity=float(row.get("quantity") or 0),
                unit=(row.get("unit") or {}).get("descriptor") or "Days",
            )
            for row in self._pages(f"{self._absence}/balances", {"worker": worker_id})
        ]

    def time_off_days(self, worker_id: str, *, guarded: bool = True) -> list[dict[str, Any]]:
        """The worker's requested days as Workday lists them (``timeOffDetails``)."""
        return list(self._pages(f"{self._absence}/workers/{worker_id}/timeOffDetails", guarded=guarded))

    def _time_off_type_id(self, worker_id: str, time_off_type: str) -> str:
        wanted = time_off_type.strip().lower()
        for kind in self.eligible_absence_types(worker_id):
            if wanted in (kind.id.lower(), kind.name.lower()):
                return kind.id
        raise VendorRejected(f"{SYSTEM}: {worker_id} is not eligible for time off type {time_off_type!r}")

    def _existing_request(self, worker_id: str, idempotency_key: str) -> TimeOffRequest | None:
        marker = _marker(idempotency_key)
        days = [
            day
            for day in self.time_off_days(worker_id, guarded=False)
            if marker in (day.get("comment") or "")
        ]
        if not days:
            return None
        request_id = str((days[0].get("timeOffRequest") or {}).get("id") or "")
        mine = [d for d in days if str((d.get("timeOffRequest") or {}).get("id") or "") == request_id]
        return TimeOffRequest(
            id=request_id,
            worker_id=worker_id,
            status=(mine[0].get("status") or {}).get("descriptor") or "",
            days=[_day(d) for d in mine],
            created=False,
        )

    def request_time_off(
        self,
        worker_id: str,
        days: Sequence[tuple[date | str, float]],
        time_off_type: str,
        *,
        idempotency_key: str,
        comment: str = "",
    ) -> TimeOffRequest:
        """Ask for time off: ``days`` is ``[(date, quantity in days)]``; ``time_off_type`` an id or name.

        Made once per ``idempotency_key``: an earlier request carrying it is returned instead. Raises
        :class:`InsufficientBalance` when Workday says the balance is too small.
        """
        type_id = self._time_off_type_id(worker_id, time_off_type)
        note = f"{comment} {_marker(idempotency_key)}".strip()
        body = {
            "days": [
                {
                    "date": when.isoformat() if isinstance(when, date) else str(when),
                    "dailyQuantity": quantity,
                    "timeOffType": {"id": type_id},
                    "comment": note,
                }
                for when, quantity in days
            ]
        }

        def once() -> TimeOffRequest:
            # Looked up again on every attempt: a POST whose answer was lost may have been made.
            existing = self._existing_request(worker_id, idempotency_key)
            if existing is not None:
                return existing
            answer = self._attempt("POST", f"{self._absence}/workers/{worker_id}/requestTimeOff", json=body)
            process = answer.get("businessProcessParameters") or {}
            status = (process.get("transactionStatus") or {}).get("descriptor") or process.get(
                "overallStatus"
            )
            return TimeOffRequest(
                id=str(answer["id"]),
                worker_id=worker_id,
                status=status or "",
                days=[_day(d) for d in answer.get("days") or []],
            )

        try:
            return self._resource.guarded(once)
        except VendorRejected as exc:
            if exc.status == 400 and "balance" in str(exc).lower():
                raise InsufficientBalance(str(exc), status=exc.status, code="insufficient_balance") from exc
            raise

    def close(self) -> None:
        self._http.close()


def _day(body: dict[str, Any]) -> TimeOffDay:
    kind = body.get("timeOffType") or {}
    return TimeOffDay(
        date=str(body.get("date") or ""),
        quantity=float(body.get("dailyQuantity") or 0),
        time_off_type=str(kind.get("id") if isinstance(kind, dict) else kind),
        comment=body.get("comment") or "",
    )


class WorkdayResource(ConnectorResource):
    """Workday: the host, the tenant and an API client for integrations (``EAS_WORKDAY_*``)."""

    system = SYSTEM

    base_url: str = Field(description="https://<host>, the root before /ccx (EAS_WORKDAY_URL)")
    tenant: str = Field(description="tenant name in every path (EAS_WORKDAY_TENANT)")
    client_id: str = Field(description="API client id (EAS_WORKDAY_CLIENT_ID)")
    client_secret: str = Field(description="API client secret (EAS_WORKDAY_CLIENT_SECRET)")
    refresh_token: str = Field(description="the integration's refresh token (EAS_WORKDAY_REFRESH_TOKEN)")

    def client(self) -> WorkdayClient:
        return self.reused_client(WorkdayClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> WorkdayResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_WORKDAY_URL"),
            tenant=dg.EnvVar("EAS_WORKDAY_TENANT"),
            client_id=dg.EnvVar("EAS_WORKDAY_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_WORKDAY_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("EAS_WORKDAY_REFRESH_TOKEN"),
        )
