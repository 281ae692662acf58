"""Security agent workflows: grant access, revoke access, report an incident.

``security_access_grant``: who and what (person, systems, levels) -> the access policy
(:mod:`.policy`) -> the security officer's approval when a system is sensitive or a level privileged
-> the accounts provisioned (:meth:`.accounts.AccountSystems.grant`) -> notify -> succeeded.

``security_access_revoke`` (P0): who (and which systems: those named, else every managed one) -> each
system's account revoked (:meth:`.accounts.AccountSystems.revoke`), each change audited on its own ->
notify the requester and #security -> succeeded. A system that refused leaves the request ``failed``
naming it (the others stay revoked); a system that could not be reached fails the run, after the
others were revoked, so that the op's retries and then the failure sensor try again (revoking is
idempotent: a retry finds the accounts already revoked).

``security_incident_report`` (P0): a ServiceNow incident (category security, assigned to the incident
response group, urgency and impact from the priority) -> the on-call channel paged -> the requester
told the incident number -> succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import dagster as dg

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, audit, workflow_job, workflow_step
from eas_pipelines.agents.customer_service.tickets import URGENCY_IMPACT, ticket_priority
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.security.accounts import AccountChange, AccountSystems, Person, summary
from eas_pipelines.agents.security.people import identify
from eas_pipelines.agents.security.policy import (
    MANAGED_SYSTEMS,
    Grant,
    grant_problem,
    level_of,
    needs_security_officer,
    system_of,
)
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource
from eas_pipelines.resources import RequestStoreResource, WorkflowPolicyResource

GRANT_JOB = "security_access_grant"
REVOKE_JOB = "security_access_revoke"
INCIDENT_JOB = "security_incident_report"
SECURITY_CHANNEL = "#security"
ONCALL_CHANNEL = "#security-oncall"
APPROVER_ROLE = "security_officer"
INCIDENT_GROUP = "security-incident-response"


@dataclass(frozen=True)
class AccessCase:
    """An access request as the workflow carries it from op to op."""

    item: WorkItem
    person: Person
    grants: tuple[Grant, ...] = ()
    systems: tuple[str, ...] = ()  # revocation: the systems to revoke on
    changes: tuple[AccountChange, ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> AccessCase:
        return replace(self, **changes)


def systems_named(item: WorkItem) -> tuple[list[str], list[str]]:
    """The managed systems a request names, and the names it gives that EAS does not manage."""
    managed, unknown = [], []
    for name in item.values("system"):
        system = system_of(str(name))
        (managed if system else unknown).append(system or str(name))
    return list(dict.fromkeys(managed)), unknown


def account_systems(
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
) -> AccountSystems:
    return AccountSystems(salesforce, servicenow, jira, slack_scim)


def record_changes(
    store: RequestStoreResource, item: WorkItem, verb: str, changes: list[AccountChange]
) -> None:
    """One audit entry per system: ``access.<verb>`` or ``access.<verb>_failed`` with what happened."""
    requests = store.get_store()
    for change in changes:
        action = f"access.{verb}_failed" if change.failed else f"access.{verb}"
        audit(
            requests,
            item,
            action,
            system=change.system,
            outcome=change.outcome,
            account_id=change.account_id,
            level=change.level,
            detail=change.detail,
        )


def failure_outcome(
    case: AccessCase, verb: str, changes: list[AccountChange], notifications: NotificationsResource
) -> Step | None:
    """What partial failures mean: None when there were none; else #security is told, and the run fails
    (a system unreachable: retried) or the request is refused naming the systems (a system refused)."""
    failed = [change for change in changes if change.failed]
    if not failed:
        return None
    item = case.item
    notifications.send(
        SECURITY_CHANNEL,
        f"Access {verb} incomplete for {case.person.email}",
        f"Request {item.request_id}: {summary(changes)}.",
        request_id=item.request_id,
        idempotency_key=item.key(f"notify:{verb}:partial:{item.attempts}"),
        detail={"failed": [change.system for change in failed]},
    )
    if any(change.retryable for change in failed):
        names = ", ".join(change.system for change in failed if change.retryable)
        raise dg.Failure(
            f"access {verb} for {case.person.email} incomplete, {names} unreachable: {summary(changes)}",
            metadata={"failed": names},
        )
    reasons = "; ".join(f"{change.system}: {change.detail}" for change in failed)
    return Step.refused(f"access could not be {verb} on every system ({reasons})", result=summary(changes))


class AccessCarrier(Protocol):
    """What an access-changing op carries: the request, the person, and a copy-with-changes."""

    @property
    def item(self) -> WorkItem: ...

    @property
    def person(self) -> Person: ...

    def with_(self, **changes: Any) -> Any: ...


def changes_settled(
    carried: AccessCarrier,
    verb: str,
    changes: list[AccountChange],
    *,
    store: RequestStoreResource,
    notifications: NotificationsResource,
    **more: Any,
) -> Step:
    """After granting or revoking: each system's change audited (:func:`record_changes`), then partial
    failures settled (:func:`failure_outcome`), else the op passes ``carried`` on with the changes (and
    ``more``). The security and HR lifecycle jobs share this so that both audit and fail alike."""
    record_changes(store, carried.item, verb, changes)
    outcome = failure_outcome(AccessCase(carried.item, carried.person), verb, changes, notifications)
    if outcome is not None:
        return outcome
    return Step.passed(carried.with_(changes=tuple(changes), **more), None)


# -- security_access_grant ---------------------------------------------------------------------------


@workflow_step(AccessCase)
def check_access_policy(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """Who and what: the person (by e-mail, name or the requester), the systems and levels; the policy."""
    person, named = identify(item, bamboohr.client())
    if person is None:
        return Step.refused(f"{named!r} was not found in BambooHR: name the person by work e-mail")
    systems, unknown = systems_named(item)
    if unknown:
        return Step.refused(
            f"EAS does not manage accounts on {', '.join(unknown)} (it manages {', '.join(MANAGED_SYSTEMS)})"
        )
    if not systems:
        return Step.refused("the request names no system to grant access to")
    role = item.value("role")
    grants = tuple(Grant(system, level_of(str(role) if role else None, system)) for system in systems)
    problems = [p for grant in grants if (p := grant_problem(grant, person.department))]
    if problems:
        return Step.refused("; ".join(problems), person=person.email)
    case = AccessCase(item, person, grants=grants)
    return Step.passed(
        case,
        "access.policy_checked",
        person=person.email,
        department=person.department,
        grants=[f"{g.system}:{g.level}" for g in grants],
    )


@workflow_step(AccessCase)
def security_officer_approval(case: AccessCase, *, policy: WorkflowPolicyResource) -> Step:
    """Sensitive systems and privileged levels wait for the security officer; the rest go on."""
    sensitive = [g for g in case.grants if needs_security_officer(g)]
    if not sensitive:
        return Step.passed(case, "approval.not_required", reason="no sensitive system or privileged level")
    asked = ", ".join(f"{g.level} on {g.system}" for g in sensitive)
    return Step.needs_approval(
        approver=APPROVER_ROLE,
        recipient=SECURITY_CHANNEL,
        reason=f"access for {case.person.email} ({asked}) needs the security officer",
        deadline_hours=policy.approval_deadline_hours,
    )


@workflow_step(AccessCase)
def provision_access(
    case: AccessCase,
    *,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    store: RequestStoreResource,
    notifications: NotificationsResource,
) -> Step:
    """Create or re-enable the accounts, each system on its own; each grant audited."""
    systems = account_systems(salesforce, servicenow, jira, slack_scim)
    changes = systems.grant(case.person, case.grants, case.item.request_id)
    return changes_settled(case, "granted", changes, store=store, notifications=notifications)


@workflow_step(WorkResult, optional=False)
def notify_access(case: AccessCase, *, notifications: NotificationsResource) -> Step:
    """Tell the requester (and the person, when it is someone else) and #security what was done."""
    item = case.item
    verb = "granted" if case.grants else "revoked"
    changed = summary(case.changes)
    recipients = list(dict.fromkeys([item.requester, case.person.email]))
    if verb == "revoked":
        recipients = [item.requester]  # the person whose access was cut is not told by EAS
    for recipient in [*recipients, SECURITY_CHANNEL]:
        notifications.send(
            recipient,
            f"Access {verb}: {case.person.email}",
            f"Access {verb} for {case.person.email}: {changed}.",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:{verb}:{recipient}"),
        )
    detail = {"person": case.person.email, "changes": {c.system: c.outcome for c in case.changes}}
    result = WorkResult(item, f"access {verb} for {case.person.email}: {changed}", detail)
    return Step.passed(result, "notifications.sent", recipients=[*recipients, SECURITY_CHANNEL])


security_access_grant = workflow_job(
    name=GRANT_JOB,
    agent="security",
    description="Grant access: policy, security officer approval for sensitive systems, accounts, notify.",
    steps=(check_access_policy, security_officer_approval, provision_access, notify_access),
)


# -- security_access_revoke --------------------------------------------------------------------------


@workflow_step(AccessCase)
def whose_access(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """The person, and the systems: those the request names, else every managed system."""
    person, named = identify(item, bamboohr.client())
    if person is None:
        return Step.refused(f"{named!r} was not found in BambooHR: name the person by work e-mail")
    systems, unknown = systems_named(item)
    scope = tuple(systems) or MANAGED_SYSTEMS
    case = AccessCase(item, person, systems=scope)
    return Step.passed(
        case, "access.revocation_scoped", person=person.email, systems=list(scope), unmanaged=unknown
    )


@workflow_step(AccessCase)
def revoke_access(
    case: AccessCase,
    *,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    store: RequestStoreResource,
    notifications: NotificationsResource,
) -> Step:
    """Revoke on each system on its own, each audited; partial failures reported (:func:`failure_outcome`)."""
    systems = account_systems(salesforce, servicenow, jira, slack_scim)
    changes = systems.revoke(case.person, case.systems)
    return changes_settled(case, "revoked", changes, store=store, notifications=notifications)


security_access_revoke = workflow_job(
    name=REVOKE_JOB,
    agent="security",
    description="Revoke a person's access on every connected system (or those named), each audited.",
    steps=(whose_access, revoke_access, notify_access),
)


# -- security_incident_report ------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentCase:
    item: WorkItem
    priority: str
    number: str = ""
    sys_id: str = ""


def incident_subject(item: WorkItem) -> str:
    words = " ".join(item.text.split())
    return f"[security] {words[:100]}{'...' if len(words) > 100 else ''}"


@workflow_step(IncidentCase)
def open_security_incident(item: WorkItem, *, servicenow: ServiceNowResource) -> Step:
    """The ServiceNow incident, once per request (its correlation id), for the incident response group."""
    priority = ticket_priority(item)
    urgency, impact = URGENCY_IMPACT[priority]
    systems = [str(name) for name in item.values("system")]
    try:
        incident = servicenow.client().create_incident(
            incident_subject(item),
            correlation_id=item.key("incident"),
            description=item.text,
            urgency=urgency,
            impact=impact,
            assignment_group=INCIDENT_GROUP,
            category="security",
            u_requester=item.requester,
            u_affected_systems=", ".join(systems),
        )
    except VendorRejected as exc:
        if exc.status in (401, 403):
            raise
        return Step.refused(f"ServiceNow refused the incident: {exc}")
    case = IncidentCase(item, priority, incident.number, incident.sys_id)
    return Step.passed(
        case, "incident.created", ticket_number=incident.number, priority=priority, systems=systems
    )


@workflow_step(WorkResult, optional=False)
def page_on_call(case: IncidentCase, *, notifications: NotificationsResource) -> Step:
    """Page the security on-call channel, then tell the requester the incident number."""
    item = case.item
    notifications.send(
        ONCALL_CHANNEL,
        f"{case.priority} security incident {case.number}",
        f"{incident_subject(item)}\nReported by {item.requester}.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:oncall"),
        detail={"ticket_number": case.number},
    )
    notifications.send(
        item.requester,
        f"Security incident {case.number} opened",
        f"Your report is incident {case.number} ({case.priority}); the security on-call has been paged.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:requester"),
        detail={"ticket_number": case.number},
    )
    result = WorkResult(
        item, f"opened {case.priority} security incident {case.number}", {"ticket_number": case.number}
    )
    return Step.passed(result, "notifications.sent", recipients=[ONCALL_CHANNEL, item.requester])


security_incident_report = workflow_job(
    name=INCIDENT_JOB,
    agent="security",
    description="Report a security incident: a ServiceNow incident, the on-call paged, the requester told.",
    steps=(open_security_incident, page_on_call),
)
