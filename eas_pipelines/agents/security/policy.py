"""Access policy, free of Dagster: which systems EAS manages accounts on, who may get which access, and
what needs the security officer.

The systems are the connected ones that hold accounts (:data:`MANAGED_SYSTEMS`): an access request
names them as people write them ("Salesforce", "the CRM", "ServiceNow", "Jira", "Slack"). Access
levels are the request's ``role`` entity (an access role: "read-only", "editor", "admin"...), else the
system's default. The rules, in the order :func:`check_grant` applies them:

- a system EAS does not manage (SAP, "the production database"...) is refused: no connector grants it;
- a level the system does not offer, or one never granted on request (:data:`NEVER_ON_REQUEST`), is refused;
- a system kept to some departments (:data:`SystemPolicy.departments`) is refused to people of others
  (a person HR does not know, a contractor named only by e-mail, has no department);
- a sensitive system (:data:`SENSITIVE_SYSTEMS`: customer data, the service desk's admin) or a
  privileged level (:data:`PRIVILEGED_LEVELS`) needs the security officer's approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MANAGED_SYSTEMS = ("salesforce", "servicenow", "jira", "slack")
"""The connected systems with accounts, in the order access is revoked (customer data first)."""

SYSTEM_NAMES: dict[str, str] = {
    "salesforce": "salesforce",
    "the crm": "salesforce",
    "crm": "salesforce",
    "servicenow": "servicenow",
    "service now": "servicenow",
    "jira": "jira",
    "slack": "slack",
}
"""How requests name the managed systems (lower-cased ``system`` entity values)."""

NEVER_ON_REQUEST = frozenset({"superuser", "owner"})
"""Levels granted only by the systems' own administrators, never through a request."""
PRIVILEGED_LEVELS = frozenset({"admin", "billing admin", "maintainer"})
"""Levels that need the security officer whatever the system."""
SENSITIVE_SYSTEMS = frozenset({"salesforce", "servicenow"})
"""Systems whose every grant needs the security officer (customer records; the service desk)."""


@dataclass(frozen=True)
class SystemPolicy:
    """What one system offers: its access levels, the default, and who may hold an account."""

    levels: frozenset[str]
    default_level: str
    departments: frozenset[str] | None = None  # None: anyone; else lower-cased department names


POLICY: dict[str, SystemPolicy] = {
    "salesforce": SystemPolicy(
        frozenset({"read-only", "viewer", "editor", "read-write", "contributor", "admin"}),
        "read-only",
        frozenset(
            {"sales", "customer success", "customer support", "finance", "operations", "business development"}
        ),
    ),
    "servicenow": SystemPolicy(
        frozenset({"read-only", "viewer", "editor", "read-write", "approver", "auditor", "admin"}),
        "read-only",
        frozenset(
            {
                "it",
                "engineering",
                "customer support",
                "operations",
                "security",
                "compliance",
                "internal audit",
            }
        ),
    ),
    "jira": SystemPolicy(
        frozenset(
            {"viewer", "read-only", "guest", "contributor", "editor", "read-write", "maintainer", "admin"}
        ),
        "contributor",
    ),
    "slack": SystemPolicy(
        frozenset({"member", "guest", "viewer", "contributor", "editor", "admin"}), "member"
    ),
}

ONBOARDING_SYSTEMS: dict[str, tuple[str, ...]] = {
    "sales": ("salesforce",),
    "customer success": ("salesforce",),
    "customer support": ("servicenow",),
    "it": ("servicenow",),
}
"""Systems a new hire of a department gets on top of :data:`EVERYONE_GETS`, at the default level.
Pre-approved by this policy: the security officer is asked only for grants beyond it."""
EVERYONE_GETS = ("slack", "jira")


@dataclass(frozen=True)
class Grant:
    """One account to provision: the system and the access level."""

    system: str
    level: str


def system_of(name: str) -> str | None:
    """The managed system a request's ``system`` entity names ("the CRM" -> "salesforce"), else None."""
    return SYSTEM_NAMES.get(re.sub(r"\s+", " ", name.strip().lower()))


def level_of(role: str | None, system: str) -> str:
    """The access level asked for, lower-cased; the system's default when none was."""
    return role.strip().lower() if role and role.strip() else POLICY[system].default_level


def department_key(department: str | None) -> str | None:
    return department.strip().lower() if department and department.strip() else None


def grant_problem(grant: Grant, department: str | None) -> str | None:
    """Why policy forbids ``grant`` for a person of ``department`` (None: it allows it)."""
    rule = POLICY[grant.system]
    if grant.level in NEVER_ON_REQUEST:
        return f"{grant.level} access to {grant.system} is never granted on request"
    if grant.level not in rule.levels:
        offered = ", ".join(sorted(rule.levels))
        return f"{grant.system} has no {grant.level!r} access level (it offers {offered})"
    if rule.departments is not None and department_key(department) not in rule.departments:
        who = f"the {department} department" if department else "people outside the HR directory"
        return f"{grant.system} is not open to {who} under the access policy"
    return None


def needs_security_officer(grant: Grant) -> bool:
    """Whether a grant needs the security officer's approval (sensitive system or privileged level)."""
    return grant.system in SENSITIVE_SYSTEMS or grant.level in PRIVILEGED_LEVELS


def onboarding_grants(department: str | None) -> list[Grant]:
    """The accounts a new hire of ``department`` gets, at each system's default level."""
    systems = [*EVERYONE_GETS, *ONBOARDING_SYSTEMS.get(department_key(department) or "", ())]
    return [Grant(system, POLICY[system].default_level) for system in dict.fromkeys(systems)]


def jira_group(level: str) -> str:
    """The Jira group that carries an access level (Jira Cloud's access is group membership)."""
    if level in PRIVILEGED_LEVELS:
        return "jira-administrators"
    if level in {"viewer", "read-only", "guest", "auditor"}:
        return "jira-viewers"
    return "jira-software-users"
