"""Accounts on the connected systems: granting and revoking one person's access, system by system.

The functions the security agent's jobs and the HR lifecycle jobs (onboarding, offboarding) share, so
that an account is provisioned and removed one way. Each system is reached through its connector:

- Salesforce: a ``User`` (Username = e-mail); revoked by ``IsActive = false`` (Salesforce never deletes
  users). The level and the granting request go in the org's ``EAS_Access_Role__c``/``EAS_Grant__c``.
- ServiceNow: a ``sys_user``; revoked by ``active = false``. Level and request: ``u_access_role`` and
  ``u_eas_grant``.
- Jira Cloud: access is group membership (``jira-software-users``, ``jira-viewers``,
  ``jira-administrators``); revoked by removing the account from every group (the platform API cannot
  deactivate an Atlassian account).
- Slack: a member through SCIM; revoked by ``active = false`` (signed out everywhere).

Every change is idempotent (a retry finds the state the first try left), and each system is tried
whatever happened on the others: one system down must not leave the person's access on the rest.
A system's refusal (:class:`VendorRejected`) is final; anything else (an outage after the connector's
retries, an open circuit) is ``retryable``: the caller fails the run so that it is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eas_pipelines.agents.security.policy import MANAGED_SYSTEMS, Grant, jira_group
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource

GRANTED, REVOKED, NO_ACCOUNT, ALREADY_REVOKED, FAILED = (
    "granted",
    "revoked",
    "no_account",
    "already_revoked",
    "failed",
)


@dataclass(frozen=True)
class Person:
    """Whose access it is: the work e-mail (every system's key) and the name accounts are made with."""

    email: str
    first_name: str
    last_name: str
    department: str | None = None
    employee_id: int | None = None  # BambooHR's number, when HR knows the person

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def from_email(cls, email: str, department: str | None = None) -> Person:
        """A person known only by e-mail: the name guessed from its local part ("dana.smith")."""
        local = email.partition("@")[0]
        first, _, last = local.replace("_", ".").partition(".")
        return cls(email.lower(), first.title(), last.replace(".", " ").title() or first.title(), department)


@dataclass(frozen=True)
class AccountChange:
    """What happened to the person's account on one system."""

    system: str
    outcome: str  # GRANTED, REVOKED, NO_ACCOUNT, ALREADY_REVOKED or FAILED
    account_id: str = ""
    level: str = ""
    detail: str = ""
    retryable: bool = False

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED


@dataclass(frozen=True)
class AccountSystems:
    """The connectors of the managed systems, as the jobs' resources hand them over."""

    salesforce: SalesforceResource
    servicenow: ServiceNowResource
    jira: JiraResource
    slack_scim: SlackScimResource

    # -- revoke ------------------------------------------------------------------------------------

    def _revoke_salesforce(self, person: Person) -> AccountChange:
        client = self.salesforce.client()
        user = client.user_by_email(person.email)
        if user is None:
            return AccountChange("salesforce", NO_ACCOUNT)
        if not user.is_active:
            return AccountChange("salesforce", ALREADY_REVOKED, user.id)
        client.set_user_active(user.id, False)
        return AccountChange("salesforce", REVOKED, user.id, detail="IsActive=false")

    def _revoke_servicenow(self, person: Person) -> AccountChange:
        client = self.servicenow.client()
        users = client.users(f"email={person.email}")
        if not users:
            return AccountChange("servicenow", NO_ACCOUNT)
        active = [user for user in users if user.is_active]
        for user in active:
            client.set_user_active(user.sys_id, False)
        ids = ",".join(user.sys_id for user in users)
        if not active:
            return AccountChange("servicenow", ALREADY_REVOKED, ids)
        return AccountChange("servicenow", REVOKED, ids, detail="active=false")

    def _revoke_jira(self, person: Person) -> AccountChange:
        client = self.jira.client()
        user = client.user_by_email(person.email)
        if user is None:
            return AccountChange("jira", NO_ACCOUNT)
        groups = client.user_groups(user.account_id)
        for group in groups:
            client.remove_from_group(user.account_id, group)
        if not groups:
            return AccountChange("jira", ALREADY_REVOKED, user.account_id)
        return AccountChange("jira", REVOKED, user.account_id, detail=f"removed from {', '.join(groups)}")

    def _revoke_slack(self, person: Person) -> AccountChange:
        client = self.slack_scim.client()
        user = client.user_by_email(person.email)
        if user is None:
            return AccountChange("slack", NO_ACCOUNT)
        if not user.active:
            return AccountChange("slack", ALREADY_REVOKED, user.id)
        client.set_active(user.id, False)
        return AccountChange("slack", REVOKED, user.id, detail="SCIM active=false")

    # -- grant -------------------------------------------------------------------------------------

    def _grant_salesforce(self, person: Person, level: str, reference: str) -> AccountChange:
        client = self.salesforce.client()
        marks = {"EAS_Access_Role__c": level, "EAS_Grant__c": reference}
        user = client.user_by_email(person.email)
        if user is None:
            user = client.create_user(
                person.email,
                first_name=person.first_name,
                last_name=person.last_name or person.first_name,
                **marks,
            )
        elif not user.is_active or user.access_role != level or user.grant != reference:
            user = client.set_user_active(user.id, True, **marks)
        return AccountChange("salesforce", GRANTED, user.id, level)

    def _grant_servicenow(self, person: Person, level: str, reference: str) -> AccountChange:
        client = self.servicenow.client()
        marks = {"u_access_role": level, "u_eas_grant": reference}
        found = client.users(f"email={person.email}", limit=1)
        if found:
            user = client.set_user_active(found[0].sys_id, True, **marks)
        else:
            user = client.create_user(
                person.email.partition("@")[0],
                email=person.email,
                name=person.full_name,
                correlation_id=f"{reference}:servicenow",
                **marks,
            )
        return AccountChange("servicenow", GRANTED, user.sys_id, level)

    def _grant_jira(self, person: Person, level: str, reference: str) -> AccountChange:
        client = self.jira.client()
        user = client.create_user(person.email, display_name=person.full_name)
        group = jira_group(level)
        client.add_to_group(user.account_id, group)
        return AccountChange("jira", GRANTED, user.account_id, level, detail=f"group {group}")

    def _grant_slack(self, person: Person, level: str, reference: str) -> AccountChange:
        client = self.slack_scim.client()
        user = client.create_user(person.email, given_name=person.first_name, family_name=person.last_name)
        return AccountChange("slack", GRANTED, user.id, level)

    # -- the shared entry points -------------------------------------------------------------------

    def revoke(self, person: Person, systems: Iterable[str] = MANAGED_SYSTEMS) -> list[AccountChange]:
        """Revoke the person's access on each of ``systems`` (default: every managed one), each on its own."""
        revokers: dict[str, Callable[[Person], AccountChange]] = {
            "salesforce": self._revoke_salesforce,
            "servicenow": self._revoke_servicenow,
            "jira": self._revoke_jira,
            "slack": self._revoke_slack,
        }
        return [_isolated(system, lambda system=system: revokers[system](person)) for system in systems]

    def grant(self, person: Person, grants: Iterable[Grant], reference: str) -> list[AccountChange]:
        """Provision each grant (an account at a level), each on its own; ``reference``: the request."""
        granters: dict[str, Callable[[Person, str, str], AccountChange]] = {
            "salesforce": self._grant_salesforce,
            "servicenow": self._grant_servicenow,
            "jira": self._grant_jira,
            "slack": self._grant_slack,
        }
        return [
            _isolated(g.system, lambda g=g: granters[g.system](person, g.level, reference), level=g.level)
            for g in grants
        ]


def _isolated(system: str, change: Callable[[], AccountChange], *, level: str = "") -> AccountChange:
    """One system's change; its failure recorded instead of raised, so the other systems still run."""
    try:
        return change()
    except VendorRejected as exc:
        return AccountChange(system, FAILED, level=level, detail=str(exc))
    except Exception as exc:  # noqa: BLE001 - an outage after the connector's retries, an open circuit
        return AccountChange(
            system, FAILED, level=level, detail=f"{type(exc).__name__}: {exc}", retryable=True
        )


def summary(changes: Iterable[AccountChange]) -> str:
    """ "salesforce revoked, jira no_account, slack failed (...)" for messages and audit."""
    parts = []
    for change in changes:
        parts.append(f"{change.system} {change.outcome}" + (f" ({change.detail})" if change.failed else ""))
    return ", ".join(parts)
