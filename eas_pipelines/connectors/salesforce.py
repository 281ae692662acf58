"""Salesforce through its REST API with ``simple-salesforce``: Cases, Accounts and Contacts.

Auth is the OAuth 2.0 client-credentials flow of a connected app:
``POST {EAS_SALESFORCE_URL}/services/oauth2/token`` (``grant_type=client_credentials``, ``client_id``,
``client_secret``) → ``access_token`` and ``instance_url``.
The connector makes that call itself, because simple-salesforce's own login always posts to
``https://{domain}.salesforce.com`` (neither a My Domain URL with a path nor an emulator can be named),
then hands the token to ``Salesforce(instance=..., session_id=...)``. The instance is the token answer's
``instance_url`` without its scheme, so a path in it (the emulator's ``/salesforce``) is kept:
simple-salesforce builds ``https://{instance}/services/data/vXX.X/`` from it. A 401 ``INVALID_SESSION_ID``
(an expired token) logs in again once, within the same attempt.

Salesforce throttles with 403 ``REQUEST_LIMIT_EXCEEDED`` and no ``Retry-After`` (the org's rolling 24 h API
allocation): that, 5xx and transport errors become :class:`Transient` (jittered backoff); other answers
(``[{"message", "errorCode", "fields"}]``) become :class:`VendorRejected` carrying Salesforce's message and
error code. simple-salesforce has no retry of its own, so every attempt is one call through ``guarded``.

Creating a Case is an upsert by the external id ``EAS_Request_Id__c``
(``PATCH sobjects/Case/EAS_Request_Id__c/{key}``): a retried create updates the record the first attempt
made instead of opening a second Case. Queries follow ``nextRecordsUrl`` until ``done``, each batch its own
guarded call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import dagster as dg
import requests
from pydantic import BaseModel, ConfigDict, Field
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceError

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import RETRYABLE_STATUSES
from eas_pipelines.connectors.retry import Transient, VendorRejected

T = TypeVar("T")

API_VERSION = "59.0"
EXTERNAL_ID_FIELD = "EAS_Request_Id__c"
"""The Case's custom external-id field holding EAS's request id (must exist, unique, in the org)."""
THROTTLE_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})
_MODEL = ConfigDict(extra="ignore", populate_by_name=True)


class Case(BaseModel):
    """A Case as the REST API returns it (Salesforce's field names as aliases)."""

    model_config = _MODEL

    id: str = Field(alias="Id")
    case_number: str = Field(default="", alias="CaseNumber")
    subject: str | None = Field(default=None, alias="Subject")
    description: str | None = Field(default=None, alias="Description")
    status: str | None = Field(default=None, alias="Status")
    priority: str | None = Field(default=None, alias="Priority")
    origin: str | None = Field(default=None, alias="Origin")
    supplied_email: str | None = Field(default=None, alias="SuppliedEmail")
    contact_id: str | None = Field(default=None, alias="ContactId")
    account_id: str | None = Field(default=None, alias="AccountId")
    is_closed: bool | None = Field(default=None, alias="IsClosed")
    request_id: str | None = Field(default=None, alias=EXTERNAL_ID_FIELD)
    created_date: str | None = Field(default=None, alias="CreatedDate")


class Account(BaseModel):
    model_config = _MODEL

    id: str = Field(alias="Id")
    name: str = Field(default="", alias="Name")
    industry: str | None = Field(default=None, alias="Industry")
    website: str | None = Field(default=None, alias="Website")
    phone: str | None = Field(default=None, alias="Phone")


class Contact(BaseModel):
    model_config = _MODEL

    id: str = Field(alias="Id")
    first_name: str | None = Field(default=None, alias="FirstName")
    last_name: str | None = Field(default=None, alias="LastName")
    email: str | None = Field(default=None, alias="Email")
    phone: str | None = Field(default=None, alias="Phone")
    account_id: str | None = Field(default=None, alias="AccountId")


class SalesforceUser(BaseModel):
    """A ``User`` of the org (``IsActive`` false: the user cannot log in; Salesforce never deletes users)."""

    model_config = _MODEL

    id: str = Field(alias="Id")
    username: str = Field(default="", alias="Username")
    email: str = Field(default="", alias="Email")
    first_name: str | None = Field(default=None, alias="FirstName")
    last_name: str | None = Field(default=None, alias="LastName")
    is_active: bool = Field(default=False, alias="IsActive")
    last_login_date: str | None = Field(default=None, alias="LastLoginDate")
    created_date: str | None = Field(default=None, alias="CreatedDate")
    access_role: str | None = Field(default=None, alias="EAS_Access_Role__c")
    grant: str | None = Field(default=None, alias="EAS_Grant__c")


def _fields(model: type[BaseModel]) -> str:
    return ", ".join(field.alias or name for name, field in model.model_fields.items())


CASE_FIELDS = _fields(Case)
ACCOUNT_FIELDS = _fields(Account)
CONTACT_FIELDS = _fields(Contact)
USER_FIELDS = _fields(SalesforceUser)


class _TimeoutSession(requests.Session):
    """A ``requests`` session giving every call a timeout (simple-salesforce passes none) and the session's
    ``verify`` explicitly, so that ``REQUESTS_CA_BUNDLE`` in the environment cannot replace the CA bundle."""

    def __init__(self, timeout_s: float):
        super().__init__()
        self.timeout_s = timeout_s

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout_s)
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def _error_details(content: Any) -> tuple[str | None, str]:
    """Salesforce's ``errorCode`` and ``message`` from an error body (a list of errors, or OAuth's dict)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return first.get("errorCode"), str(first.get("message", ""))
    if isinstance(content, dict):
        return content.get("error"), str(content.get("error_description") or content.get("error") or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return None, str(content or "")[:200]


def _classify(status: int, content: Any, where: str) -> Transient | VendorRejected:
    code, detail = _error_details(content)
    message = f"salesforce: HTTP {status} on {where}: {f'{code}: ' if code else ''}{detail}"
    if status in RETRYABLE_STATUSES or (code in THROTTLE_CODES):
        return Transient(message, status=status)
    return VendorRejected(message, status=status, code=code)


class SalesforceClient:
    """Typed calls on one Salesforce org; each is retried and guarded by the resource."""

    def __init__(self, resource: SalesforceResource):
        self._resource = resource
        self._session = _TimeoutSession(resource.timeout_s)
        # requests takes a CA file rather than an SSL context: with a bundle, only it is trusted.
        self._session.verify = resource.trusted_ca or True
        self._sf: Salesforce | None = None

    # --- plumbing ---------------------------------------------------------------------------------

    def _login(self) -> Salesforce:
        """The client-credentials token call; a ``Salesforce`` bound to the instance it names."""
        url = f"{self._resource.base_url.rstrip('/')}/services/oauth2/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self._resource.client_id,
            "client_secret": self._resource.client_secret,
        }
        response = self._session.post(url, data=form, headers={"Accept": "application/json"})
        if response.status_code >= 300:
            try:
                content: Any = response.json()
            except ValueError:
                content = response.text
            raise _classify(response.status_code, content, "POST /services/oauth2/token")
        token = response.json()
        instance = token["instance_url"].split("://", 1)[-1].rstrip("/")
        return Salesforce(
            instance=instance, session_id=token["access_token"], session=self._session, version=API_VERSION
        )

    def _attempt(self, operation: Callable[[Salesforce], T]) -> T:
        try:
            if self._sf is None:
                self._sf = self._login()
            try:
                return operation(self._sf)
            except SalesforceError as exc:
                if exc.status != 401 or _error_details(exc.content)[0] != "INVALID_SESSION_ID":
                    raise
            self._sf = self._login()  # the session expired: log in again, once
            return operation(self._sf)
        except SalesforceError as exc:
            raise _classify(exc.status, exc.content, exc.resource_name or "the REST API") from None
        except requests.RequestException as exc:
            raise Transient(f"salesforce: {type(exc).__name__}: {exc}") from exc

    def _call(self, operation: Callable[[Salesforce], T]) -> T:
        return self._resource.guarded(lambda: self._attempt(operation))

    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record a SOQL query returns, batch by batch (``nextRecordsUrl`` until ``done``)."""
        page = self._call(lambda sf: sf.query(soql))
        while True:
            yield from page["records"]
            if page["done"] or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))

    def _first(self, soql: str) -> dict[str, Any] | None:
        return next(self.query(soql), None)

    # --- Cases ------------------------------------------------------------------------------------

    def create_case(
        self,
        subject: str,
        *,
        external_id: str,
        description: str = "",
        priority: str = "Medium",
        origin: str = "Web",
        contact_email: str | None = None,
    ) -> Case:
        """Open a Case once per ``external_id`` (upsert on ``EAS_Request_Id__c``); retries update it."""
        fields: dict[str, Any] = {
            "Subject": subject,
            "Description": description,
            "Priority": priority,
            "Origin": origin,
        }
        if contact_email:
            fields["SuppliedEmail"] = contact_email
            contact = self.contact_by_email(contact_email)
            if contact is not None:
                fields["ContactId"] = contact.id
                fields["AccountId"] = contact.account_id
        key = quote(external_id, safe="")
        self._call(lambda sf: sf.Case.upsert(f"{EXTERNAL_ID_FIELD}/{key}", fields))
        return Case.model_validate(self._call(lambda sf: sf.Case.get_by_custom_id(EXTERNAL_ID_FIELD, key)))

    def case(self, id_or_number: str) -> Case | None:
        """A Case by its Id, or by its CaseNumber (all digits); None when there is none."""
        if id_or_number.isdigit():
            found = self._first(
                format_soql(f"SELECT {CASE_FIELDS} FROM Case WHERE CaseNumber = {{}} LIMIT 1", id_or_number)
            )
            return None if found is None else Case.model_validate(found)
        try:
            return Case.model_validate(self._call(lambda sf: sf.Case.get(id_or_number)))
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def update_case(self, case_id: str, **fields: Any) -> Case:
        """Change a Case's fields (Salesforce's names: ``Status="Closed"``); the Case as it now is."""
        self._call(lambda sf: sf.Case.update(case_id, fields))
        return Case.model_validate(self._call(lambda sf: sf.Case.get(case_id)))

    def cases(self, soql_where: str = "", *, limit: int | None = None) -> list[Case]:
        """Cases matching a SOQL ``WHERE`` condition (build values with ``format_soql``), by CaseNumber."""
        soql = f"SELECT {CASE_FIELDS} FROM Case"
        if soql_where:
            soql += f" WHERE {soql_where}"
        soql += " ORDER BY CaseNumber"
        if limit is not None:
            soql += f" LIMIT {int(limit)}"
        return [Case.model_validate(row) for row in self.query(soql)]

    # --- Accounts and Contacts --------------------------------------------------------------------

    def account_by_name(self, name: str) -> Account | None:
        found = self._first(
            format_soql(f"SELECT {ACCOUNT_FIELDS} FROM Account WHERE Name = {{}} LIMIT 1", name)
        )
        return None if found is None else Account.model_validate(found)

    def contact_by_email(self, email: str) -> Contact | None:
        found = self._first(
            format_soql(f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Email = {{}} LIMIT 1", email)
        )
        return None if found is None else Contact.model_validate(found)

    def accounts(self, soql_where: str = "") -> list[Account]:
        """Accounts matching a SOQL ``WHERE`` condition (values built with ``format_soql``), by Name."""
        soql = f"SELECT {ACCOUNT_FIELDS} FROM Account" + (f" WHERE {soql_where}" if soql_where else "")
        return [Account.model_validate(row) for row in self.query(soql + " ORDER BY Name")]

    def contacts(self, soql_where: str = "") -> list[Contact]:
        """Contacts matching a SOQL ``WHERE`` condition, oldest first (an account's first is its primary)."""
        soql = f"SELECT {CONTACT_FIELDS} FROM Contact" + (f" WHERE {soql_where}" if soql_where else "")
        return [Contact.model_validate(row) for row in self.query(soql + " ORDER BY CreatedDate")]

    # --- Users (access administration) -----------------------------------------------------------

    def user_by_email(self, email: str) -> SalesforceUser | None:
        """The org's user with this e-mail (the oldest, if several), else None."""
        found = self._first(
            format_soql(
                f"SELECT {USER_FIELDS} FROM User WHERE Email = {{}} ORDER BY CreatedDate LIMIT 1", email
            )
        )
        return None if found is None else SalesforceUser.model_validate(found)

    def users(self, soql_where: str = "") -> list[SalesforceUser]:
        """The org's users (matching a SOQL ``WHERE`` condition), for access reviews."""
        soql = f"SELECT {USER_FIELDS} FROM User" + (f" WHERE {soql_where}" if soql_where else "")
        return [SalesforceUser.model_validate(row) for row in self.query(soql + " ORDER BY Username")]

    def create_user(self, email: str, *, first_name: str, last_name: str, **fields: Any) -> SalesforceUser:
        """Add an active user whose Username is the e-mail, unless one with that e-mail exists.

        The User object has no EAS external id: the e-mail is the natural key, looked up first, so a
        retried create finds the user the first attempt made. ``fields``: more User fields.
        """
        existing = self.user_by_email(email)
        if existing is not None:
            return existing
        body = {
            "Username": email,
            "Email": email,
            "FirstName": first_name,
            "LastName": last_name,
            "Alias": (first_name[:1] + last_name)[:8].lower() or "user",
            "IsActive": True,
            **fields,
        }
        created = self._call(lambda sf: sf.User.create(body))
        return SalesforceUser.model_validate(self._call(lambda sf: sf.User.get(created["id"])))

    def set_user_active(self, user_id: str, active: bool, **fields: Any) -> SalesforceUser:
        """Activate or deactivate a user (Salesforce's way to remove access: users cannot be deleted)."""
        self._call(lambda sf: sf.User.update(user_id, {"IsActive": active, **fields}))
        return SalesforceUser.model_validate(self._call(lambda sf: sf.User.get(user_id)))

    @property
    def api_usage(self) -> dict[str, Any]:
        """The last ``Sforce-Limit-Info`` seen (``{"api-usage": Usage(used, total)}``)."""
        return dict(self._sf.api_usage) if self._sf is not None else {}

    def close(self) -> None:
        self._session.close()


class SalesforceResource(ConnectorResource):
    """Salesforce: the login URL and a connected app's client credentials (``EAS_SALESFORCE_*``)."""

    system = "salesforce"

    base_url: str = Field(
        description="where the token call goes: https://<my-domain>.my.salesforce.com (EAS_SALESFORCE_URL)"
    )
    client_id: str = Field(description="the connected app's consumer key (EAS_SALESFORCE_CLIENT_ID)")
    client_secret: str = Field(description="its consumer secret (EAS_SALESFORCE_CLIENT_SECRET)")

    def client(self) -> SalesforceClient:
        return self.reused_client(SalesforceClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> SalesforceResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_SALESFORCE_URL"),
            client_id=dg.EnvVar("EAS_SALESFORCE_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_SALESFORCE_CLIENT_SECRET"),
        )
