"""QuickBooks Online through the Accounting API v3 and ``python-quickbooks``: bills, vendors, expenses.

Why it looks the way it does:

* **The SDK, pointed elsewhere.** ``python-quickbooks`` builds every URL from ``QuickBooks.api_url``
  (Intuit's production or sandbox host) and sends through ``QuickBooks.session`` (a requests session).
  :class:`_QuickBooksAPI` subclasses it so that ``api_url`` is the configured host (the emulator in
  tests, ``https://quickbooks.api.intuit.com`` in production), the session trusts ``ca_bundle`` (as
  well as the system CAs) and every request has a timeout (the SDK sets none).
* **OAuth 2.0 refresh-token grant, done directly.** ``intuitlib.AuthClient`` fetches Intuit's OpenID
  discovery document from developer.intuit.com when it is constructed, before any CA or endpoint can be
  set, so it cannot be pointed at the emulator. The grant it would send is small and documented:
  ``POST <token_url>`` form ``grant_type=refresh_token&refresh_token=...`` with the client id and secret
  as Basic auth; :class:`_Tokens` sends exactly that with httpx, keeps the access token, takes the
  rotated refresh token Intuit may return, and refreshes once when a call answers 401.
* **Errors.** A ``Fault`` may arrive in an HTTP 200 body; the SDK raises for any body holding one and
  the client turns that into :class:`VendorRejected` (code = Intuit's code, 6240 duplicate name, 6210
  duplicate DocNumber, 610 not found). Throttling is 429 *without* ``Retry-After`` (or Fault code 3001):
  :class:`Transient` with the fixed wait ``throttle_wait_s`` (Intuit says 60 s). 5xx and transport
  errors are transient. Every call goes through ``resource.guarded``.
* **Idempotency.** Creates send ``?requestid=<uuid>`` (``save(qb=, request_id=)``); QuickBooks answers a
  resend with the original response, so a retried create makes one record. The id is chosen once per
  logical call (or given by the caller) and reused by every retry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import dagster as dg
import httpx
import requests
from pydantic import BaseModel, Field
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import Ref
from quickbooks.objects.bill import Bill as SdkBill
from quickbooks.objects.detailline import AccountBasedExpenseLine, AccountBasedExpenseLineDetail
from quickbooks.objects.purchase import Purchase as SdkPurchase
from quickbooks.objects.vendor import Vendor as SdkVendor

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import VendorHTTP, shared_adapter
from eas_pipelines.connectors.retry import Transient, VendorRejected

T = TypeVar("T")

SYSTEM = "quickbooks"
PRODUCTION_URL = "https://quickbooks.api.intuit.com"
PRODUCTION_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
MINOR_VERSION = 75
PAGE_SIZE = 100
"""MAXRESULTS of one query page (QuickBooks: default 100, max 1000)."""
THROTTLE_CODES = frozenset({3001})
"""Fault codes meaning "slow down" (``ThrottleExceeded``)."""


# --------------------------------------------------------------------------- typed results


def _ref(body: dict[str, Any], field: str) -> tuple[str, str]:
    ref = body.get(field) or {}
    return str(ref.get("value") or ""), str(ref.get("name") or "")


class Vendor(BaseModel):
    id: str
    display_name: str
    company_name: str = ""
    email: str = ""
    active: bool = True
    balance: float = 0.0

    @classmethod
    def from_qbo(cls, body: dict[str, Any]) -> Vendor:
        return cls(
            id=str(body["Id"]),
            display_name=body.get("DisplayName") or "",
            company_name=body.get("CompanyName") or "",
            email=(body.get("PrimaryEmailAddr") or {}).get("Address") or "",
            active=bool(body.get("Active", True)),
            balance=float(body.get("Balance") or 0),
        )


class Account(BaseModel):
    id: str
    name: str
    account_type: str = ""

    @classmethod
    def from_qbo(cls, body: dict[str, Any]) -> Account:
        return cls(
            id=str(body["Id"]), name=body.get("Name") or "", account_type=body.get("AccountType") or ""
        )


class Bill(BaseModel):
    """An accounts-payable bill."""

    id: str
    vendor_id: str
    vendor_name: str = ""
    doc_number: str = ""
    txn_date: str = ""
    due_date: str = ""
    total: float = 0.0
    balance: float = 0.0
    sync_token: str = "0"
    account_ids: list[str] = Field(default_factory=list)

    @classmethod
    def from_qbo(cls, body: dict[str, Any]) -> Bill:
        vendor_id, vendor_name = _ref(body, "VendorRef")
        return cls(
            id=str(body["Id"]),
            vendor_id=vendor_id,
            vendor_name=vendor_name,
            doc_number=body.get("DocNumber") or "",
            txn_date=body.get("TxnDate") or "",
            due_date=body.get("DueDate") or "",
            total=float(body.get("TotalAmt") or 0),
            balance=float(body.get("Balance") or 0),
            sync_token=str(body.get("SyncToken") or "0"),
            account_ids=_line_accounts(body),
        )


class Expense(BaseModel):
    """An expense (a QuickBooks ``Purchase``: paid at once by cash, check or credit card)."""

    id: str
    payment_type: str
    payment_account_id: str
    vendor_id: str = ""
    doc_number: str = ""
    txn_date: str = ""
    total: float = 0.0
    account_ids: list[str] = Field(default_factory=list)
    private_note: str = ""

    @classmethod
    def from_qbo(cls, body: dict[str, Any]) -> Expense:
        return cls(
            id=str(body["Id"]),
            payment_type=body.get("PaymentType") or "",
            payment_account_id=_ref(body, "AccountRef")[0],
            vendor_id=_ref(body, "EntityRef")[0],
            doc_number=body.get("DocNumber") or "",
            txn_date=body.get("TxnDate") or "",
            total=float(body.get("TotalAmt") or 0),
            account_ids=_line_accounts(body),
            private_note=body.get("PrivateNote") or "",
        )


def _line_accounts(body: dict[str, Any]) -> list[str]:
    return [
        _ref(line.get("AccountBasedExpenseLineDetail") or {}, "AccountRef")[0]
        for line in body.get("Line") or []
        if line.get("AccountBasedExpenseLineDetail")
    ]


# --------------------------------------------------------------------------- transport


class _Tokens:
    """Access tokens from the OAuth 2.0 refresh-token grant (the module docstring says why not intuitlib)."""

    def __init__(self, resource: QuickBooksResource):
        url = httpx.URL(resource.token_url)
        self._path = url.raw_path.decode()
        self._http = VendorHTTP(
            SYSTEM,
            f"{url.scheme}://{url.netloc.decode()}",
            timeout_s=resource.timeout_s,
            verify=resource.verify(),
            auth=httpx.BasicAuth(resource.client_id, resource.client_secret),
            headers={"Accept": "application/json"},
        )
        self._refresh_token = resource.refresh_token
        self._access_token: str | None = None

    def access_token(self) -> str:
        if self._access_token is None:
            self.refresh()
        assert self._access_token is not None
        return self._access_token

    def refresh(self) -> None:
        """One grant; its failures are :class:`Transient` or :class:`VendorRejected` like any call."""
        answer = self._http.json(
            "POST", self._path, data={"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        )
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise VendorRejected(f"{SYSTEM}: the token endpoint answered without an access_token")
        self._access_token = str(answer["access_token"])
        # Intuit rotates refresh tokens; the newest must be used next time.
        self._refresh_token = str(answer.get("refresh_token") or self._refresh_token)

    def close(self) -> None:
        self._http.close()


class _QuickBooksAPI(QuickBooks):
    """``python-quickbooks``'s client on the configured host, with EAS's session, token and timeouts.

    ``process_request`` is where the SDK sends; here a 401 refreshes the token once, 429 (no
    ``Retry-After`` from Intuit) becomes :class:`Transient` after ``throttle_wait_s``, and 5xx or a
    dropped connection become :class:`Transient`. Everything else returns to the SDK, which raises
    ``QuickbooksException`` for any ``Fault`` body, HTTP 200 included.
    """

    def setup(self, resource: QuickBooksResource, tokens: _Tokens) -> _QuickBooksAPI:
        self._api_url = resource.base_url.rstrip("/") + "/v3"
        self._tokens = tokens
        self._timeout_s = resource.timeout_s
        self._throttle_wait_s = resource.throttle_wait_s
        self.last_status: int | None = None
        session = requests.Session()
        session.mount("https://", shared_adapter(resource.verify()))
        self.session = session
        return self

    @property
    def api_url(self) -> str:  # type: ignore[override]
        return self._api_url

    def process_request(
        self, request_type: str, url: str, headers: Any = "", params: Any = "", data: Any = ""
    ) -> requests.Response:
        headers = dict(headers or {})
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._tokens.access_token()}"
            try:
                response = self.session.request(
                    request_type, url, headers=headers, params=params, data=data, timeout=self._timeout_s
                )
            except requests.RequestException as exc:
                raise Transient(f"{SYSTEM}: {type(exc).__name__} on {request_type} {_path(url)}") from exc
            if response.status_code == 401 and attempt == 1:
                self._tokens.refresh()  # an expired access token: one new grant, then the call again
                continue
            break
        self.last_status = response.status_code
        where = f"{SYSTEM}: HTTP {response.status_code} on {request_type} {_path(url)}"
        if response.status_code == 429:
            raise Transient(f"{where}: throttled", status=429, retry_after=self._throttle_wait_s)
        if response.status_code >= 500 or response.status_code == 408:
            raise Transient(f"{where}: {_fault_text(response)}", status=response.status_code)
        return response


def _path(url: str) -> str:
    return httpx.URL(url).path


def _fault_text(response: requests.Response) -> str:
    try:
        errors = response.json().get("Fault", {}).get("Error", [])
        return "; ".join(f"{e.get('code')}: {e.get('Message')}" for e in errors) or response.reason
    except ValueError:
        return response.reason or ""


def _quote(text: str) -> str:
    """A string literal of the QuickBooks query language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _iso(value: date | str | None) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def _expense_line(amount: float, account_id: str, description: str) -> AccountBasedExpenseLine:
    line = AccountBasedExpenseLine()
    line.Amount = round(float(amount), 2)
    line.Description = description or None
    line.DetailType = "AccountBasedExpenseLineDetail"
    detail = AccountBasedExpenseLineDetail()
    detail.AccountRef = _make_ref(account_id)
    line.AccountBasedExpenseLineDetail = detail
    return line


def _make_ref(value: str, name: str = "") -> Ref:
    ref = Ref()
    ref.value = value
    ref.name = name
    return ref


# --------------------------------------------------------------------------- client


class QuickBooksClient:
    """Typed calls on one QuickBooks company (realm); each is retried and guarded by the resource."""

    def __init__(self, resource: QuickBooksResource):
        self._resource = resource
        self._tokens = _Tokens(resource)
        self._qb = _QuickBooksAPI(company_id=resource.realm_id, minorversion=resource.minor_version).setup(
            resource, self._tokens
        )

    def _call(self, func: Callable[[], T]) -> T:
        def attempt() -> T:
            self._qb.last_status = None
            try:
                return func()
            except QuickbooksException as exc:
                raise self._translate(exc) from exc

        return self._resource.guarded(attempt)

    def _translate(self, exc: QuickbooksException) -> Exception:
        try:
            code = int(exc.error_code or 0)
        except (TypeError, ValueError):
            code = 0
        status = self._qb.last_status
        message = f"{SYSTEM}: Fault {code}: {exc.message}"
        if exc.detail and exc.detail != exc.message:
            message = f"{message}: {str(exc.detail)[:300]}"
        if code in THROTTLE_CODES:
            return Transient(message, status=status, retry_after=self._resource.throttle_wait_s)
        if code >= 10000 and status == 200:  # a system fault reported in a 200 body
            return Transient(message, status=status)
        return VendorRejected(message, status=status, code=str(code) if code else None)

    # ------------------------------------------------------------------ queries

    def _query(self, entity: str, where: str = "", *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every ``entity`` row matching ``where``, page by page (STARTPOSITION is 1-based)."""
        start, seen = 1, 0
        while True:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - seen)
            select = f"SELECT * FROM {entity}{' WHERE ' + where if where else ''} ORDERBY Id"
            select += f" STARTPOSITION {start} MAXRESULTS {size}"
            answer = self._call(lambda select=select: self._qb.query(select))
            page = (answer.get("QueryResponse") or {}).get(entity) or []
            yield from page
            seen += len(page)
            start += len(page)
            if len(page) < size or (limit is not None and seen >= limit):
                return

    def vendor_by_name(self, name: str) -> Vendor | None:
        found = next(self._query("Vendor", f"DisplayName = {_quote(name)}", limit=1), None)
        return None if found is None else Vendor.from_qbo(found)

    def vendors(self, *, limit: int | None = None) -> list[Vendor]:
        return [Vendor.from_qbo(row) for row in self._query("Vendor", limit=limit)]

    def account_by_name(self, name: str) -> Account | None:
        found = next(self._query("Account", f"Name = {_quote(name)}", limit=1), None)
        return None if found is None else Account.from_qbo(found)

    def bills(
        self,
        *,
        vendor: str | None = None,
        doc_number: str | None = None,
        since: date | str | None = None,
        limit: int | None = None,
    ) -> list[Bill]:
        """Bills, oldest first; ``vendor`` is a vendor's Id or DisplayName, ``since`` the earliest TxnDate."""
        terms = []
        if vendor is not None:
            terms.append(f"VendorRef = {_quote(self._vendor_id(vendor))}")
        if doc_number is not None:
            terms.append(f"DocNumber = {_quote(doc_number)}")
        if since is not None:
            terms.append(f"TxnDate >= {_quote(_iso(since))}")
        return [Bill.from_qbo(row) for row in self._query("Bill", " AND ".join(terms), limit=limit)]

    def bill(self, bill_id: str) -> Bill | None:
        try:
            found = self._call(lambda: SdkBill.get(bill_id, qb=self._qb))
        except VendorRejected as exc:
            if exc.code == "610":
                return None
            raise
        return Bill.from_qbo(found.to_dict())

    def expenses(self, *, doc_number: str | None = None, limit: int | None = None) -> list[Expense]:
        """Expenses (``Purchase``), oldest first; ``doc_number`` narrows to those with that DocNumber
        (an expense claim's fingerprint, how a duplicate claim is found)."""
        where = f"DocNumber = {_quote(doc_number)}" if doc_number is not None else ""
        return [Expense.from_qbo(row) for row in self._query("Purchase", where, limit=limit)]

    # ------------------------------------------------------------------ creates

    def _vendor_id(self, vendor_name_or_id: str) -> str:
        if vendor_name_or_id.isdigit():
            return vendor_name_or_id
        found = self.vendor_by_name(vendor_name_or_id)
        if found is None:
            raise VendorRejected(f"{SYSTEM}: no vendor named {vendor_name_or_id!r}", code="610")
        return found.id

    def _account_id(self, account_name_or_id: str) -> str:
        if account_name_or_id.isdigit():
            return account_name_or_id
        found = self.account_by_name(account_name_or_id)
        if found is None:
            raise VendorRejected(f"{SYSTEM}: no account named {account_name_or_id!r}", code="610")
        return found.id

    def _save(self, obj: Any, request_id: str | None) -> dict[str, Any]:
        """Create ``obj`` once: every retry resends the same ``requestid``, so QuickBooks keeps one."""
        request_id = request_id or uuid.uuid4().hex
        if len(request_id) > 50:
            raise ValueError("a QuickBooks requestid is at most 50 characters")
        return self._call(lambda: obj.save(qb=self._qb, request_id=request_id)).to_dict()

    def create_bill(
        self,
        vendor_name_or_id: str,
        amount: float,
        account: str,
        *,
        doc_number: str = "",
        txn_date: date | str | None = None,
        due_date: date | str | None = None,
        description: str = "",
        request_id: str | None = None,
    ) -> Bill:
        """Enter a bill of ``amount`` against expense ``account`` (Id or Name), once per ``request_id``."""
        bill = SdkBill()
        bill.VendorRef = _make_ref(self._vendor_id(vendor_name_or_id))
        bill.Line = [_expense_line(amount, self._account_id(account), description)]
        bill.DocNumber = doc_number
        bill.TxnDate = _iso(txn_date)
        bill.DueDate = _iso(due_date)
        return Bill.from_qbo(self._save(bill, request_id))

    def save_bill(self, body: dict[str, Any], *, request_id: str) -> Bill:
        """Enter a bill given as its wire JSON (``VendorRef``, ``Line``...: what the transformation
        layer maps to), once per ``request_id``; a taken ``DocNumber`` is refused (Fault 6210)."""
        return Bill.from_qbo(self._save(SdkBill.from_json(body), request_id))

    def create_vendor(
        self,
        display_name: str,
        *,
        company_name: str = "",
        email: str = "",
        request_id: str | None = None,
    ) -> Vendor:
        """Add a vendor; a name already in use is refused (Fault 6240, :class:`VendorRejected`)."""
        vendor = SdkVendor()
        vendor.DisplayName = display_name
        vendor.CompanyName = company_name or display_name
        if email:
            vendor.PrimaryEmailAddr = {"Address": email}
        return Vendor.from_qbo(self._save(vendor, request_id))

    def create_expense(
        self,
        amount: float,
        account: str,
        *,
        payment_account: str = "Checking",
        payment_type: str = "Cash",
        vendor_name_or_id: str | None = None,
        doc_number: str = "",
        txn_date: date | str | None = None,
        description: str = "",
        private_note: str = "",
        request_id: str | None = None,
    ) -> Expense:
        """Record money already paid (a ``Purchase``) from ``payment_account`` against expense ``account``.

        ``private_note`` (QuickBooks' ``PrivateNote``, not printed on forms) keeps who claimed it and why.
        """
        purchase = SdkPurchase()
        purchase.PaymentType = payment_type
        purchase.AccountRef = _make_ref(self._account_id(payment_account))
        if vendor_name_or_id:
            entity = _make_ref(self._vendor_id(vendor_name_or_id))
            entity.type = "Vendor"
            purchase.EntityRef = entity
        purchase.Line = [_expense_line(amount, self._account_id(account), description)]
        purchase.TotalAmt = round(float(amount), 2)
        purchase.DocNumber = doc_number
        purchase.TxnDate = _iso(txn_date)
        if private_note:
            purchase.PrivateNote = private_note
        return Expense.from_qbo(self._save(purchase, request_id))

    def close(self) -> None:
        self._qb.session.close()
        self._tokens.close()


class QuickBooksResource(ConnectorResource):
    """QuickBooks Online: one company (realm) reached with an OAuth 2.0 app (``EAS_QUICKBOOKS_*``)."""

    system = SYSTEM

    base_url: str = Field(default=PRODUCTION_URL, description="API host, before /v3 (EAS_QUICKBOOKS_URL)")
    token_url: str = Field(default=PRODUCTION_TOKEN_URL, description="OAuth 2.0 token endpoint")
    client_id: str = Field(description="the app's client id (EAS_QUICKBOOKS_CLIENT_ID)")
    client_secret: str = Field(description="the app's client secret (EAS_QUICKBOOKS_CLIENT_SECRET)")
    refresh_token: str = Field(description="the company's refresh token (EAS_QUICKBOOKS_REFRESH_TOKEN)")
    realm_id: str = Field(description="the company's realm id (EAS_QUICKBOOKS_REALM_ID)")
    minor_version: int = Field(default=MINOR_VERSION, description="minorversion sent on every call (>= 75)")
    throttle_wait_s: float = Field(
        default=60.0, description="wait after a 429, which QuickBooks sends without Retry-After"
    )
    max_backoff_s: float = Field(default=60.0, description="longest wait between attempts (fits the 60 s)")

    def client(self) -> QuickBooksClient:
        return self.reused_client(QuickBooksClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> QuickBooksResource:
        optional = {
            "base_url": optional_env("EAS_QUICKBOOKS_URL"),
            "token_url": optional_env("EAS_QUICKBOOKS_TOKEN_URL"),
        }
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            client_id=dg.EnvVar("EAS_QUICKBOOKS_CLIENT_ID"),
            client_secret=dg.EnvVar("EAS_QUICKBOOKS_CLIENT_SECRET"),
            refresh_token=dg.EnvVar("EAS_QUICKBOOKS_REFRESH_TOKEN"),
            realm_id=dg.EnvVar("EAS_QUICKBOOKS_REALM_ID"),
            **{key: value for key, value in optional.items() if value is not None},
        )
