"""Jira Cloud through its REST API v2 with the ``jira`` SDK: issues, workflow transitions, JQL search.

Basic auth with an Atlassian account's email and API token. The SDK asks ``GET /rest/api/2/serverInfo`` when
the client is built (its ``deploymentType`` selects Cloud's ``search/jql`` with ``nextPageToken``), so the
client is built lazily inside the first guarded call.

The SDK's ``ResilientSession`` retries 429 and 503 itself (sleeping up to 60 s, ignoring fractional
``Retry-After``); it is built with ``max_retries=0`` so that every attempt is one HTTP call and the one retry
rule of :mod:`.retry` decides, honouring ``Retry-After`` (or ``X-RateLimit-Reset``), counted by the breaker.
429, 5xx and transport errors become :class:`Transient`; other answers
(``{"errorMessages": [...], "errors": {...}}``) become :class:`VendorRejected` with Jira's messages. A
``JIRAError``'s text includes the request headers (the Basic credentials), so it is never chained or quoted.

Jira has no idempotency key: a create labels the issue ``eas-<idempotency key>`` and first searches for that
label, so a retried create returns the issue the first attempt made. (Jira Cloud's search index can lag a
create by a moment; two creates racing within that window could still both land.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import dagster as dg
import requests
from jira import JIRA, JIRAError
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.http import RETRYABLE_STATUSES
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

T = TypeVar("T")

PAGE_SIZE = 50
"""Issues asked for per search page (Jira Cloud returns at most 100 with fields)."""
SEARCH_FIELDS = ["summary", "description", "status", "labels", "issuetype", "project", "created", "updated"]
LABEL_PREFIX = "eas-"


class Issue(BaseModel):
    """An issue with the fields EAS reads (flattened from Jira's ``fields``)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    key: str
    summary: str = ""
    description: str | None = None
    status: str = ""
    issue_type: str = ""
    project: str = ""
    labels: list[str] = Field(default_factory=list)
    created: str | None = None
    updated: str | None = None

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Issue:
        fields = raw.get("fields") or {}
        return cls(
            id=str(raw["id"]),
            key=raw["key"],
            summary=fields.get("summary") or "",
            description=fields.get("description"),
            status=(fields.get("status") or {}).get("name", ""),
            issue_type=(fields.get("issuetype") or {}).get("name", ""),
            project=(fields.get("project") or {}).get("key", ""),
            labels=list(fields.get("labels") or []),
            created=fields.get("created"),
            updated=fields.get("updated"),
        )


class JiraUser(BaseModel):
    """An Atlassian account as Jira's user API shows it (Cloud names users by ``accountId`` only)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    account_id: str = Field(alias="accountId")
    email: str = Field(default="", alias="emailAddress")
    display_name: str = Field(default="", alias="displayName")
    active: bool = True


class Transition(BaseModel):
    """A workflow transition available on an issue now."""

    id: str
    name: str
    to_status: str


def idempotency_label(key: str) -> str:
    """The label carrying EAS's idempotency key (labels cannot contain spaces)."""
    return LABEL_PREFIX + re.sub(r"\s+", "-", key.strip())


def jql_string(value: str) -> str:
    """``value`` as a quoted JQL string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rate_limit_reset(value: str | None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (an ISO 8601 time), else None."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - datetime.now(UTC).timestamp())


def _translate(exc: JIRAError) -> Transient | VendorRejected:
    status = exc.status_code
    detail = (exc.text or "").strip() or "no message"
    message = f"jira: HTTP {status} : {detail}" if status is not None else f"jira: {detail}"
    if status in RETRYABLE_STATUSES:
        headers = exc.response.headers if exc.response is not None else {}
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if retry_after is None:
            retry_after = _rate_limit_reset(headers.get("X-RateLimit-Reset"))
        return Transient(message, status=status, retry_after=retry_after)
    return VendorRejected(message, status=status)


class JiraClient:
    """Typed calls on one Jira Cloud site; each is retried and guarded by the resource."""

    def __init__(self, resource: JiraResource):
        self._resource = resource
        self._jira: JIRA | None = None

    def _connect(self) -> JIRA:
        resource = self._resource
        return JIRA(
            server=resource.base_url.rstrip("/"),
            basic_auth=(resource.email, resource.api_token),
            options={"verify": resource.trusted_ca or True, "check_update": False},
            timeout=resource.timeout_s,
            max_retries=0,  # the SDK's own retries off: guarded() retries and the breaker counts
        )

    def _attempt(self, operation: Callable[[JIRA], T]) -> T:
        try:
            if self._jira is None:
                self._jira = self._connect()
            return operation(self._jira)
        except JIRAError as exc:
            raise _translate(exc) from None  # its text carries the request headers: never chain it
        except requests.RequestException as exc:
            raise Transient(f"jira: {type(exc).__name__}: {exc}") from None

    def _call(self, operation: Callable[[JIRA], T]) -> T:
        return self._resource.guarded(lambda: self._attempt(operation))

    def _pages(self, jql: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen = 0
        while True:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - seen)
            page = self._call(
                lambda jira, token=token, size=size: jira.enhanced_search_issues(
                    jql, nextPageToken=token, maxResults=size, fields=list(SEARCH_FIELDS), json_result=True
                )
            )
            issues = page.get("issues") or []
            yield from issues
            seen += len(issues)
            token = page.get("nextPageToken")
            if not token or not issues or (limit is not None and seen >= limit):
                return

    def search(self, jql: str, *, limit: int | None = None) -> list[Issue]:
        """Every issue matching ``jql`` (page by page with ``nextPageToken``), or the first ``limit``."""
        return [Issue.from_raw(raw) for raw in self._pages(jql, limit=limit)]

    def create_issue(
        self,
        project: str,
        summary: str,
        *,
        idempotency_key: str,
        description: str = "",
        issue_type: str = "Task",
        labels: list[str] | None = None,
    ) -> Issue:
        """Open an issue once per ``idempotency_key`` (kept as the label ``eas-<key>``).

        Each attempt searches for the label before it posts, so an attempt whose POST went through but
        whose answer was lost (a timeout, a 5xx from a proxy) is not repeated by the retry.
        """
        label = idempotency_label(idempotency_key)
        jql = f"labels = {jql_string(label)}"
        fields = {
            "project": {"key": project},
            "summary": summary,
            "description": description,
            "issuetype": {"name": issue_type},
            "labels": [*(labels or []), label],
        }

        def find_or_create(jira: JIRA) -> tuple[str, dict[str, Any] | None]:
            page = jira.enhanced_search_issues(
                jql, maxResults=1, fields=list(SEARCH_FIELDS), json_result=True
            )
            if page.get("issues"):
                return page["issues"][0]["key"], page["issues"][0]
            return jira.create_issue(fields=fields, prefetch=False).key, None

        key, existing = self._call(find_or_create)
        if existing is not None:
            return Issue.from_raw(existing)
        found = self.issue(key)
        if found is None:
            raise VendorRejected(f"jira: issue {key} was created but cannot be read", status=404)
        return found

    def issue(self, key: str) -> Issue | None:
        """An issue by key or id; None when there is none (or it is hidden from this account)."""
        try:
            return Issue.from_raw(self._call(lambda jira: jira.issue(key).raw))
        except VendorRejected as exc:
            if exc.status == 404:
                return None
            raise

    def transitions(self, key: str) -> list[Transition]:
        """The transitions the workflow offers on the issue now."""
        found = self._call(lambda jira: jira.transitions(key))
        return [
            Transition(id=str(t["id"]), name=t["name"], to_status=(t.get("to") or {}).get("name", ""))
            for t in found
        ]

    def transition(self, key: str, name: str) -> Issue:
        """Move the issue by a transition's name or its target status ("Start Progress" or "In Progress").

        An issue already in the status named is returned unchanged, so a retried transition is harmless.
        """
        current = self.issue(key)
        if current is None:
            raise VendorRejected(f"jira: issue {key} does not exist", status=404)
        if current.status.lower() == name.lower():
            return current
        offered = self.transitions(key)
        chosen = next((t for t in offered if t.name.lower() == name.lower()), None)
        chosen = chosen or next((t for t in offered if t.to_status.lower() == name.lower()), None)
        if chosen is None:
            names = ", ".join(t.name for t in offered) or "none"
            raise VendorRejected(
                f"jira: no transition {name!r} from {current.status!r} on {key} (offered: {names})"
            )
        self._call(lambda jira: jira.transition_issue(key, chosen.id))
        moved = self.issue(key)
        assert moved is not None
        return moved

    # -- users and groups (access administration) ---------------------------------------------------
    # Jira Cloud's platform API has no "deactivate": an account's product access is its groups
    # (``jira-software-users``...), so access is revoked by removing it from every group; deactivating the
    # Atlassian account itself is the organization admin API's (api.atlassian.com), which EAS does not use.
    # The SDK's add/remove_user_from_group send Server's ``username``, which Cloud no longer accepts: these
    # calls use the SDK's session (its auth, its error handling) with ``accountId`` instead.

    def _rest(self, method: str, path: str, **kwargs: Any) -> Any:
        def call(jira: JIRA) -> Any:
            response = jira._session.request(method, jira._get_url(path), **kwargs)  # noqa: SLF001
            return response.json() if response.content else None

        return self._call(call)

    def user_by_email(self, email: str) -> JiraUser | None:
        """The account with this e-mail (``GET user/search?query=``), else None."""
        found = self._rest("GET", "user/search", params={"query": email, "maxResults": 10}) or []
        matches = [
            JiraUser.model_validate(u)
            for u in found
            if str(u.get("emailAddress", "")).lower() == email.lower()
        ]
        return matches[0] if matches else None

    def users(self) -> list[JiraUser]:
        """Every account of the site (``GET users/search``, paged by ``startAt``)."""
        found: list[JiraUser] = []
        while True:
            page = self._rest("GET", "users/search", params={"startAt": len(found), "maxResults": 100}) or []
            found.extend(JiraUser.model_validate(u) for u in page)
            if len(page) < 100:
                return found

    def create_user(self, email: str, *, display_name: str, products: list[str] | None = None) -> JiraUser:
        """Invite an account (``POST user``), unless one with this e-mail exists (looked up first)."""
        existing = self.user_by_email(email)
        if existing is not None:
            return existing
        body = {"emailAddress": email, "displayName": display_name, "products": products or ["jira-software"]}
        return JiraUser.model_validate(self._rest("POST", "user", json=body))

    def user_groups(self, account_id: str) -> list[str]:
        """The names of the groups the account is in (``GET user/groups``)."""
        found = self._rest("GET", "user/groups", params={"accountId": account_id}) or []
        return [str(group["name"]) for group in found]

    def add_to_group(self, account_id: str, group: str) -> None:
        """Put the account in ``group`` (already in it: nothing changes)."""
        if group in self.user_groups(account_id):
            return
        self._rest("POST", "group/user", params={"groupname": group}, json={"accountId": account_id})

    def remove_from_group(self, account_id: str, group: str) -> None:
        """Take the account out of ``group`` (``DELETE group/user``)."""
        self._rest("DELETE", "group/user", params={"groupname": group, "accountId": account_id})

    def close(self) -> None:
        if self._jira is not None:
            self._jira.close()


class JiraResource(ConnectorResource):
    """Jira Cloud: the site URL and an account's email and API token (``EAS_JIRA_*``)."""

    system = "jira"

    base_url: str = Field(description="https://<site>.atlassian.net (EAS_JIRA_URL)")
    email: str = Field(description="the integration account's email (EAS_JIRA_EMAIL)")
    api_token: str = Field(description="its API token (EAS_JIRA_API_TOKEN)")

    def client(self) -> JiraClient:
        return self.reused_client(JiraClient)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> JiraResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            base_url=dg.EnvVar("EAS_JIRA_URL"),
            email=dg.EnvVar("EAS_JIRA_EMAIL"),
            api_token=dg.EnvVar("EAS_JIRA_API_TOKEN"),
        )
