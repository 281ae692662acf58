"""ADP Workforce Now through its REST APIs (``/hr/v2/workers``, ``/payroll/v1/.../pay-statements``).

ADP wants its signed client certificate on every call, the token call included, so the one
``httpx`` client carries the certificate (``cert=``) for both. Auth is OAuth 2.0 client
credentials: ``POST {token_url}`` with the id/secret as Basic, the ``access_token`` cached until
shortly before ``expires_in`` and sent as Bearer; a 401 on an API call drops the cached token and
tries once more with a fresh one. Workers page with OData ``$top``/``$skip`` until a 204 or a short
page. Pay statements need the ``roleCode: practitioner`` header. API errors arrive in ADP's
``confirmMessage`` shape, token errors as OAuth's ``error_description``: either becomes the
message of :class:`VendorRejected`. Nothing here writes to ADP, so no idempotency is needed.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import dagster as dg
import httpx
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, default_error_message
from eas_pipelines.connectors.retry import VendorRejected

PAGE_SIZE = 100
TOKEN_MARGIN_S = 60.0
"""A cached token is renewed this long before ADP said it expires."""
ROLE_CODE = "practitioner"


def adp_error_message(response: httpx.Response) -> str:
    """The first ``userMessage.messageTxt`` of a confirmMessage, else OAuth's or the body's message."""
    try:
        body = response.json()
    except ValueError:
        return default_error_message(response)
    confirm = body.get("confirmMessage") if isinstance(body, dict) else None
    if isinstance(confirm, dict):
        for resource in confirm.get("resourceMessages") or []:
            for process in resource.get("processMessages") or []:
                text = (process.get("userMessage") or {}).get("messageTxt")
                if text:
                    return text
    return default_error_message(response)


class Worker(BaseModel):
    """A worker, flattened from ADP's person / businessCommunication / primary work assignment."""

    associate_oid: str
    worker_id: str = ""
    given_name: str = ""
    family_name: str = ""
    formatted_name: str = ""
    work_email: str | None = None
    personal_email: str | None = None
    job_title: str | None = None
    department: str | None = None
    status: str | None = None
    hire_date: date | None = None
    manager_aoid: str | None = None
    manager_name: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> Worker:
        person = row.get("person") or {}
        legal = person.get("legalName") or {}
        work_emails = ((row.get("businessCommunication") or {}).get("emails")) or []
        personal_emails = ((person.get("communication") or {}).get("emails")) or []
        assignments = row.get("workAssignments") or []
        primary = next(
            (a for a in assignments if a.get("primaryIndicator")), assignments[0] if assignments else {}
        )
        units = primary.get("homeOrganizationalUnits") or []
        department = next(
            (
                (u.get("nameCode") or {}).get("codeValue")
                for u in units
                if (u.get("typeCode") or {}).get("codeValue") == "Department"
            ),
            None,
        )
        boss = (primary.get("reportsTo") or [{}])[0]
        return cls(
            associate_oid=row["associateOID"],
            worker_id=(row.get("workerID") or {}).get("idValue", ""),
            given_name=legal.get("givenName", ""),
            family_name=legal.get("familyName1", ""),
            formatted_name=legal.get("formattedName", ""),
            work_email=work_emails[0].get("emailUri") if work_emails else None,
            personal_email=personal_emails[0].get("emailUri") if personal_emails else None,
            job_title=primary.get("jobTitle"),
            department=department,
            status=((row.get("workerStatus") or {}).get("statusCode") or {}).get("codeValue"),
            hire_date=(row.get("workerDates") or {}).get("originalHireDate"),
            manager_aoid=boss.get("associateOID"),
            manager_name=(boss.get("reportsToWorkerName") or {}).get("formattedName"),
        )


class PayLine(BaseModel):
    """One earning or deduction of a pay statement."""

    name: str
    amount: float


class PayStatement(BaseModel):
    """A pay statement's summary; amounts in ``currency``."""

    statement_id: str
    pay_date: date
    gross_pay: float
    net_pay: float
    currency: str = "USD"
    total_hours: float | None = None

    @staticmethod
    def _fields(row: dict[str, Any]) -> dict[str, Any]:
        href = (row.get("payDetailUri") or {}).get("href", "")
        gross, net = row.get("grossPayAmount") or {}, row.get("netPayAmount") or {}
        return {
            "statement_id": row.get("id") or href.rstrip("/").rsplit("/", 1)[-1],
            "pay_date": row["payDate"],
            "gross_pay": gross.get("amountValue", 0),
            "net_pay": net.get("amountValue", 0),
            "currency": net.get("currencyCode") or gross.get("currencyCode") or "USD",
            "total_hours": row.get("totalHours"),
        }

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> PayStatement:
        return cls(**cls._fields(row))


class PayStatementDetail(PayStatement):
    """A pay statement with its earnings and deductions."""

    earnings: list[PayLine] = Field(default_factory=list)
    deductions: list[PayLine] = Field(default_factory=list)

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> PayStatementDetail:
        earnings = [
            PayLine(
                name=e.get("earningCodeName", ""), amount=(e.get("earningAmount") or {}).get("amountValue", 0)
            )
            for e in row.get("earnings") or []
        ]
        deductions = [
            PayLine(
                name=d.get("deductionCodeName", ""),
                amount=(d.get("deductionAmount") or {}).get("amountValue", 0),
            )
            for d in row.get("deductions") or []
        ]
        return cls(**cls._fields(row), earnings=earnings, deductions=deductions)


class ADPClient:
    """Typed calls on ADP Workforce Now; each is retried and guarded by the resource."""

    def __init__(self, resource: ADPResource):
        self._resource = resource
        self._http = VendorHTTP(
            "adp",
            resource.base_url,
            timeout_s=resource.timeout_s,
            verify=resource.verify(cert=(resource.client_cert_path, resource.client_key_path)),
            headers={"Accept": "application/json"},
            error_message=adp_error_message,
        )
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0

    def _access_token(self) -> str:
        """The cached token, or a new one from the token endpoint (over mutual TLS too)."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                body = self._http.json(
                    "POST",
                    self._resource.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=httpx.BasicAuth(self._resource.client_id, self._resource.client_secret),
                )
                self._token = body["access_token"]
                lifetime = float(body.get("expires_in") or 3600)
                self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return self._token

    def _drop_token(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _attempt(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One attempt; a 401 (token expired or revoked early) is tried once more with a new token."""
        headers = dict(kwargs.pop("headers", None) or {})
        for renewed in (False, True):
            token = self._access_token()
            try:
                return self._http.request(
                    method, path, headers={**headers, "Authorization": f"Bearer {token}"}, **kwargs
                )
            except VendorRejected as exc:
                if exc.status != 401 or renewed:
                    raise
                self._drop_token(token)
        raise AssertionError("unreachable")

    def _get(self, path: str, **kwargs: Any) -> Any:
        """GET JSON; None for 204 No Content."""
        response = self._resource.guarded(lambda: self._attempt("GET", path, **kwargs))
        return response.json() if response.status_code != 204 and response.content else None

    def workers(self) -> list[Worker]:
        """Every worker, page by page (``$top``/``$skip``; the list ends on a 204 or a short page)."""
        found: list[Worker] = []
        while True:
            body = self._get("hr/v2/workers", params={"$top": PAGE_SIZE, "$skip": len(found)})
            page = (body or {}).get("workers") or []
            found.extend(Worker.from_api(row) for row in page)
            if len(page) < PAGE_SIZE:
                return found

    def worker(self, aoid: str) -> Worker | None:
        """One worker by associate OID, or None when ADP does not know it."""
        try:
            body = self._get(f"hr/v2/workers/{aoid}")
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        rows = (body or {}).get("workers") or []
        return Worker.from_api(rows[0]) if rows else None

    def worker_by_name_or_email(self, text: str) -> Worker | None:
        """The worker whose work (or personal) email or full name is ``text``, else the only partial match."""
        wanted = text.strip().lower()
        everyone = self.workers()
        for worker in everyone:
            names = {worker.full_name.lower(), worker.formatted_name.lower()}
            emails = {(worker.work_email or "").lower(), (worker.personal_email or "").lower()}
            if wanted in names | emails:
                return worker
        partial = [worker for worker in everyone if wanted and wanted in worker.full_name.lower()]
        return partial[0] if len(partial) == 1 else None

    def pay_statements(self, aoid: str, last_n: int = 3) -> list[PayStatement]:
        """The worker's last ``last_n`` pay statements, newest first."""
        body = self._get(
            f"payroll/v1/workers/{aoid}/pay-statements",
            params={"numberoflastpaydates": last_n},
            headers={"roleCode": ROLE_CODE},
        )
        return [PayStatement.from_api(row) for row in (body or {}).get("payStatements") or []]

    def pay_statement(self, aoid: str, statement_id: str) -> PayStatementDetail | None:
        """One pay statement with its earnings and deductions, or None when ADP does not know it."""
        try:
            body = self._get(
                f"payroll/v1/workers/{aoid}/pay-statements/{statement_id}", headers={"roleCode": ROLE_CODE}
            )
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise
        row = (body or {}).get("payStatement")
        return None if row is None else PayStatementDetail.from_api(row)

    def close(self) -> None:
        self._http.close()


class ADPResource(ConnectorResource):
    """ADP Workforce Now: API and token URLs, OAuth client, and the ADP-signed client certificate."""

    system = "adp"

    base_url: str = Field(description="https://api.adp.com (EAS_ADP_URL)")
    token_url: str = Field(description="https://accounts.adp.com/auth/oauth/v2/token (EAS_ADP_TOKEN_URL)")
    client_id: str = Field(description="OAuth client id (EAS_ADP_CLIENT_ID)")
    client_secret: str = Field(description="OAuth client secret (EAS_ADP_CLIENT_SECRET)")
    client_cert_path: str = Field(description="PEM client certificate ADP signed (EAS_ADP_CLIENT_CERT)")
    client_key_path: str = Field(description="its private key, PEM (EAS_ADP_CLIENT_KEY)")

    def client(self) -> ADPClient:
        return self.reused_client(ADPClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> ADPResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_ADP_URL"),
            token_url=dg.EnvVar("EAS_ADP_TOKEN_URL"),
            client_id=dg.EnvVar("EAS_ADP_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_ADP_CLIENT_SECRET"),
            client_cert_path=dg.EnvVar("EAS_ADP_CLIENT_CERT"),
            client_key_path=dg.EnvVar("EAS_ADP_CLIENT_KEY"),
        )
