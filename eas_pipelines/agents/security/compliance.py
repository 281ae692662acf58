"""Access reviews: every account on the managed systems, checked for an owner, recent use and approval.

The rules (plain functions, :func:`review`), for the *active* accounts:

- **no owner**: the account's e-mail is nobody in the HR directory (BambooHR): a leaver missed by
  offboarding, a shared or test account;
- **stale access**: not used for :data:`STALE_AFTER` (Salesforce ``LastLoginDate``, ServiceNow
  ``last_login_time``; never used and created that long ago counts too). Jira and Slack SCIM do not
  report logins, so their accounts are not judged stale;
- **missing approval**: an account on a sensitive system (:data:`.policy.SENSITIVE_SYSTEMS`) without an
  approved EAS request behind it (the ``EAS_Grant__c``/``u_eas_grant`` the grant wrote, whose request's
  approval is ``approved`` in the request store).

They run two ways: as the asset ``security_accounts`` with one asset check per rule (materialised daily
by :data:`security_accounts_schedule`, so the UI shows the findings), and on request
(``security.compliance_check``), whose job reports the same findings to the requester and #security.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from eas_pipelines.agents.security.accounts import AccountSystems
from eas_pipelines.agents.security.policy import SENSITIVE_SYSTEMS
from eas_pipelines.connectors.bamboohr import BambooHRClient
from eas_pipelines.store import RequestStore

STALE_AFTER = timedelta(days=90)
RULES = ("no_owner", "stale_access", "missing_approval")


@dataclass(frozen=True)
class Account:
    """One account on one system, as the review sees it."""

    system: str
    account_id: str
    email: str
    active: bool
    last_login: datetime | None = None
    created: datetime | None = None
    grant: str = ""  # the EAS request that granted it, when EAS did

    def row(self) -> dict[str, str]:
        values = asdict(self)
        return {key: "" if value is None else str(value) for key, value in values.items()}


def parse_time(value: str | None) -> datetime | None:
    """Salesforce ("2026-01-02T03:04:05.000+0000") or ServiceNow ("2026-01-02 03:04:05", UTC) time."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("+0000"):
        text = text[:-5] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def collect_accounts(systems: AccountSystems) -> list[Account]:
    """Every account of the four managed systems (a Jira account is active while it is in a group)."""
    found: list[Account] = []
    for user in systems.salesforce.client().users():
        found.append(
            Account(
                "salesforce",
                user.id,
                user.email.lower(),
                user.is_active,
                parse_time(user.last_login_date),
                parse_time(user.created_date),
                user.grant or "",
            )
        )
    for user in systems.servicenow.client().users():
        found.append(
            Account(
                "servicenow",
                user.sys_id,
                user.email.lower(),
                user.is_active,
                parse_time(user.last_login_time),
                parse_time(user.sys_created_on),
                user.u_eas_grant,
            )
        )
    jira = systems.jira.client()
    for user in jira.users():
        found.append(
            Account("jira", user.account_id, user.email.lower(), bool(jira.user_groups(user.account_id)))
        )
    for member in systems.slack_scim.client().users():
        found.append(Account("slack", member.id, member.email.lower(), member.active))
    return found


def directory_emails(bamboohr: BambooHRClient) -> set[str]:
    return {person.work_email.lower() for person in bamboohr.directory() if person.work_email}


def approved(store: RequestStore, request_id: str) -> bool:
    return bool(request_id) and bool(store.approvals("approved", request_id=request_id, limit=1))


def review(
    accounts: Iterable[Account], owners: set[str], is_approved: Callable[[str], bool], now: datetime
) -> dict[str, list[Account]]:
    """The active accounts breaking each rule of :data:`RULES`."""
    active = [account for account in accounts if account.active]
    findings: dict[str, list[Account]] = {rule: [] for rule in RULES}
    for account in active:
        if account.email not in owners:
            findings["no_owner"].append(account)
        used = account.last_login or (
            account.created if account.system in ("salesforce", "servicenow") else None
        )
        if used is not None and now - used > STALE_AFTER:
            findings["stale_access"].append(account)
        if account.system in SENSITIVE_SYSTEMS and not is_approved(account.grant):
            findings["missing_approval"].append(account)
    return findings


def findings_text(findings: dict[str, list[Account]]) -> str:
    """A readable report: per rule, the count and the accounts (system: e-mail)."""
    lines = []
    for rule in RULES:
        accounts = findings[rule]
        names = ", ".join(f"{a.system}:{a.email or a.account_id}" for a in accounts[:20])
        more = f" (+{len(accounts) - 20} more)" if len(accounts) > 20 else ""
        lines.append(f"{rule.replace('_', ' ')}: {len(accounts)}" + (f" - {names}{more}" if accounts else ""))
    return "\n".join(lines)
