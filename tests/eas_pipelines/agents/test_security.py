"""The security agent end to end against the emulators (Salesforce, ServiceNow, Jira, Slack SCIM,
BambooHR, Slack/e-mail notifications), plus its policy and review rules.

Accounts are set up with the agent's own grant function (:meth:`AccountSystems.grant`) and read back
through the connectors' clients. The emulators live for the whole session: each test uses fresh people.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pytest

from eas_pipelines.agents.security import (
    security_access_grant,
    security_access_revoke,
    security_incident_report,
)
from eas_pipelines.agents.security.accounts import AccountSystems, Person
from eas_pipelines.agents.security.compliance import Account, review
from eas_pipelines.agents.security.policy import (
    Grant,
    grant_problem,
    jira_group,
    needs_security_officer,
    onboarding_grants,
    system_of,
)
from eas_pipelines.agents.security.review import security_accounts, security_compliance_check
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

GRANT, REVOKE = "security.access_grant", "security.access_revoke"
INCIDENT, CHECK = "security.incident_report", "security.compliance_check"
QUICK_OUTAGE = {"max_attempts": 2, "initial_backoff_s": 0.01, "breaker_fail_max": 2}


def fresh_person() -> Person:
    tag = uuid.uuid4().hex[:8]
    return Person(f"casey.{tag}@example.com", "Casey", tag.title())


@contextmanager
def built_systems(resources: dict[str, Any]) -> Iterator[AccountSystems]:
    """The account connectors of ``resources``, configured (their ``EnvVar`` settings read) outside a run."""
    keys = ("salesforce", "servicenow", "jira", "slack_scim")
    with dg.build_resources({key: resources[key] for key in keys}) as built:
        yield AccountSystems(*(getattr(built, key) for key in keys))


@pytest.fixture
def systems(eas_resources) -> Iterator[AccountSystems]:
    with built_systems(eas_resources) as found:
        yield found


def actions(store, request_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.detail) for e in store.audit_trail(request_id) if e.actor == "security"]


def state_of(systems: AccountSystems, person: Person) -> dict[str, Any]:
    """Each system's account of the person, as a plain value: active or not; Jira: its groups."""
    sf = systems.salesforce.client().user_by_email(person.email)
    sn = systems.servicenow.client().users(f"email={person.email}")
    jira = systems.jira.client()
    jira_user = jira.user_by_email(person.email)
    slack = systems.slack_scim.client().user_by_email(person.email)
    return {
        "salesforce": None if sf is None else sf.is_active,
        "servicenow": [u.is_active for u in sn],
        "jira": None if jira_user is None else jira.user_groups(jira_user.account_id),
        "slack": None if slack is None else slack.active,
    }


# -- rules -------------------------------------------------------------------------------------------


def test_policy_rules():
    assert (
        system_of("the CRM") == "salesforce" and system_of(" Slack ") == "slack" and system_of("SAP") is None
    )
    assert grant_problem(Grant("jira", "contributor"), None) is None
    assert "never granted" in grant_problem(Grant("jira", "superuser"), "engineering")
    assert "no 'approver'" in grant_problem(Grant("jira", "approver"), "engineering")
    assert "not open to people outside" in grant_problem(Grant("salesforce", "read-only"), None)
    assert "not open to the Engineering" in grant_problem(Grant("salesforce", "read-only"), "Engineering")
    assert grant_problem(Grant("salesforce", "read-only"), "Sales") is None
    assert needs_security_officer(Grant("salesforce", "read-only"))
    assert needs_security_officer(Grant("jira", "admin")) and not needs_security_officer(
        Grant("jira", "editor")
    )
    assert jira_group("admin") == "jira-administrators" and jira_group("viewer") == "jira-viewers"
    assert [g.system for g in onboarding_grants("Sales")] == ["slack", "jira", "salesforce"]
    assert [g.system for g in onboarding_grants(None)] == ["slack", "jira"]


def test_review_rules():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old, recent = now - timedelta(days=200), now - timedelta(days=3)
    accounts = [
        Account("salesforce", "1", "dana.smith@example.com", True, recent, old, "req-ok"),
        Account("salesforce", "2", "gone@example.com", True, old, old, ""),
        Account("servicenow", "3", "dana.smith@example.com", True, None, old, "req-ok"),  # never used
        Account("jira", "4", "gone@example.com", False),  # inactive: not judged
        Account("slack", "5", "dana.smith@example.com", True),
    ]
    findings = review(accounts, {"dana.smith@example.com"}, lambda grant: grant == "req-ok", now)
    assert [a.account_id for a in findings["no_owner"]] == ["2"]
    assert [a.account_id for a in findings["stale_access"]] == ["2", "3"]
    assert [a.account_id for a in findings["missing_approval"]] == ["2"]


# -- security_access_revoke --------------------------------------------------------------------------


def test_revoke_all_access_deactivates_every_system(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    person = fresh_person()
    grants = [
        Grant("salesforce", "read-only"),
        Grant("servicenow", "read-only"),
        Grant("jira", "editor"),
        Grant("slack", "member"),
    ]
    assert not any(change.failed for change in systems.grant(person, grants, f"setup-{uuid.uuid4().hex[:6]}"))
    assert state_of(systems, person) == {
        "salesforce": True,
        "servicenow": [True],
        "jira": ["jira-software-users"],
        "slack": True,
    }
    text = f"revoke all access for {person.email} effective immediately"
    record = queued_request(store, text, REVOKE, [entity(text, "email", person.email)])

    result = run_workflow(security_access_revoke, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    assert state_of(systems, person) == {
        "salesforce": False,
        "servicenow": [False],
        "jira": [],
        "slack": False,
    }
    revoked = {
        d["system"]: d["outcome"] for action, d in actions(store, record.id) if action == "access.revoked"
    }
    assert revoked == {s: "revoked" for s in ("salesforce", "servicenow", "jira", "slack")}
    (post,) = received(sandbox_session, redis_url, "#security", request_id=record.id)
    assert "*Access revoked: <EMAIL_ADDRESS>*" in post.text  # a channel is cleared for no PII
    assert "salesforce revoked, servicenow revoked, jira revoked, slack revoked" in post.text
    assert received(sandbox_session, redis_url, record.client_id, request_id=record.id)

    again = queued_request(store, text, REVOKE, [entity(text, "email", person.email)])  # idempotent
    assert run_workflow(security_access_revoke, again.id, dagster_instance, eas_resources, store).success
    outcomes = {d["system"]: d["outcome"] for a, d in actions(store, again.id) if a == "access.revoked"}
    assert set(outcomes.values()) == {"already_revoked"}


def test_revoke_named_system_only_and_a_system_down_fails_the_run_after_the_rest(
    store, dagster_instance, sandbox_session, migrated_database_url, redis_url, redis_key_prefix, systems
):
    # the outage run's breakers apart from the fixture's, which read the state back afterwards
    resources = make_resources(migrated_database_url, redis_url, f"{redis_key_prefix}outage:", **QUICK_OUTAGE)
    person = fresh_person()
    systems.grant(person, [Grant("jira", "editor"), Grant("slack", "member")], "setup")
    text = f"remove {person.email} from Jira"
    only_jira = queued_request(
        store, text, REVOKE, [entity(text, "email", person.email), entity(text, "system", "Jira")]
    )
    assert run_workflow(security_access_revoke, only_jira.id, dagster_instance, resources, store).success
    assert state_of(systems, person)["jira"] == [] and state_of(systems, person)["slack"] is True

    systems.grant(person, [Grant("jira", "editor")], "setup-2")
    text = f"revoke all access for {person.email}"
    record = queued_request(store, text, REVOKE, [entity(text, "email", person.email)])
    sandbox_session.sandbox.faults.add(Fault(kind="error", vendor="slack_scim", rate=1.0))
    try:
        result = run_workflow(security_access_revoke, record.id, dagster_instance, resources, store)
    finally:
        sandbox_session.sandbox.faults.clear()

    assert not result.success  # the failure sensor retries the request; nothing hides the outage
    assert store.get(record.id).status is Status.RUNNING
    state = state_of(systems, person)
    assert state["jira"] == [] and state["slack"] is True  # the reachable systems were revoked anyway
    failed = [d for a, d in actions(store, record.id) if a == "access.revoked_failed"]
    assert failed and {d["system"] for d in failed} == {"slack"}
    posts = received(sandbox_session, redis_url, "#security", request_id=record.id)
    assert posts and "slack failed" in posts[0].text


def test_revoke_of_an_unknown_name_is_refused(store, eas_resources, dagster_instance):
    text = "revoke all access for Nobody Atall"
    record = queued_request(store, text, REVOKE, [entity(text, "employee", "Nobody Atall")])
    assert run_workflow(security_access_revoke, record.id, dagster_instance, eas_resources, store).success
    failed = store.get(record.id)
    assert failed.status is Status.FAILED and "'Nobody Atall' was not found in BambooHR" in failed.last_error


# -- security_access_grant ---------------------------------------------------------------------------


def test_grant_of_a_plain_system_needs_no_approval(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    person = fresh_person()
    text = f"give {person.email} editor access to Jira"
    ents = [
        entity(text, "email", person.email),
        entity(text, "role", "editor"),
        entity(text, "system", "Jira"),
    ]
    record = queued_request(store, text, GRANT, ents)

    assert run_workflow(security_access_grant, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    assert state_of(systems, person)["jira"] == ["jira-software-users"]
    steps = [a for a, _ in actions(store, record.id)]
    assert "approval.not_required" in steps and "access.granted" in steps
    assert received(sandbox_session, redis_url, person.email, request_id=record.id)


def test_sensitive_grant_waits_for_the_security_officer(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    text = "give Omar Haddad read-only access to Salesforce"  # Finance: Salesforce is open to it
    ents = [
        entity(text, "employee", "Omar Haddad"),
        entity(text, "role", "read-only"),
        entity(text, "system", "Salesforce"),
    ]
    record = queued_request(store, text, GRANT, ents)

    first = run_workflow(security_access_grant, record.id, dagster_instance, eas_resources, store)

    assert first.success and store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "security_officer"
    assert received(sandbox_session, redis_url, "#security", request_id=record.id)
    salesforce = systems.salesforce.client()
    before = salesforce.user_by_email("omar.haddad@example.com")
    assert before is None or before.grant != record.id

    store.decide(record.id, "approved", "security_officer", "needed for the audit")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    second = run_workflow(security_access_grant, record.id, dagster_instance, eas_resources, store)

    assert second.success and store.get(record.id).status is Status.SUCCEEDED
    user = salesforce.user_by_email("omar.haddad@example.com")
    assert user is not None and user.is_active and (user.access_role, user.grant) == ("read-only", record.id)


@pytest.mark.parametrize(
    ("system", "reason"),
    [
        ("Salesforce", "not open to people outside the HR directory"),
        ("SAP", "EAS does not manage accounts on SAP"),
    ],
)
def test_grant_refused_by_policy(store, eas_resources, dagster_instance, systems, system, reason):
    person = fresh_person()
    text = f"grant {person.email} access to {system}"
    record = queued_request(
        store, text, GRANT, [entity(text, "email", person.email), entity(text, "system", system)]
    )
    assert run_workflow(security_access_grant, record.id, dagster_instance, eas_resources, store).success
    failed = store.get(record.id)
    assert failed.status is Status.FAILED and reason in failed.last_error
    assert systems.salesforce.client().user_by_email(person.email) is None


# -- security_incident_report ------------------------------------------------------------------------


def test_incident_report_opens_a_servicenow_incident_and_pages_on_call(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    text = f"suspicious logins on Salesforce from an unknown IP ({uuid.uuid4().hex[:6]}), looks like a breach"
    record = queued_request(store, text, INCIDENT, [entity(text, "system", "Salesforce")])

    assert run_workflow(security_incident_report, record.id, dagster_instance, eas_resources, store).success

    (incident,) = systems.servicenow.client().incidents(f"correlation_id={record.id}:incident")
    assert (incident.assignment_group, incident.urgency, incident.impact) == (
        "security-incident-response",
        "1",
        "1",
    )
    assert incident.field("category") == "security" and incident.field("u_affected_systems") == "Salesforce"
    (page,) = received(sandbox_session, redis_url, "#security-oncall", request_id=record.id)
    assert f"P0 security incident {incident.number}" in page.text
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert incident.number in mail.text


def test_incident_report_fails_the_run_when_servicenow_is_down(
    store, dagster_instance, sandbox_session, migrated_database_url, redis_url, redis_key_prefix
):
    resources = make_resources(migrated_database_url, redis_url, redis_key_prefix, **QUICK_OUTAGE)
    text = "ransomware note on a laptop in finance"
    record = queued_request(store, text, INCIDENT, [])
    sandbox_session.sandbox.faults.add(Fault(kind="error", vendor="servicenow", rate=1.0))
    try:
        result = run_workflow(security_incident_report, record.id, dagster_instance, resources, store)
    finally:
        sandbox_session.sandbox.faults.clear()
    assert not result.success and store.get(record.id).status is Status.RUNNING


# -- compliance --------------------------------------------------------------------------------------


def test_compliance_check_job_and_asset_report_an_orphaned_stale_account(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    orphan = f"left.{uuid.uuid4().hex[:8]}@example.com"
    long_ago = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    user_id = "005SB" + uuid.uuid4().hex[:13]
    sandbox_session.sandbox.records.put(
        "salesforce",
        "User",
        user_id,
        {
            "Id": user_id,
            "Username": orphan,
            "Email": orphan,
            "FirstName": "Left",
            "LastName": "Behind",
            "Name": "Left Behind",
            "Alias": "lbehind",
            "IsActive": True,
            "LastLoginDate": long_ago,
            "EAS_Access_Role__c": None,
            "EAS_Grant__c": None,
            "CreatedDate": long_ago,
            "LastModifiedDate": long_ago,
        },
    )
    text = "run an access review"
    record = queued_request(store, text, CHECK, [])

    assert run_workflow(security_compliance_check, record.id, dagster_instance, eas_resources, store).success

    done = [d for a, d in actions(store, record.id) if a == "compliance.reviewed"]
    assert done and min(done[0]["no_owner"], done[0]["stale_access"], done[0]["missing_approval"]) >= 1
    assert received(sandbox_session, redis_url, "#security", request_id=record.id)
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert f"salesforce:{orphan}" in mail.text  # e-mail is cleared for addresses; Slack masks them

    result = dg.materialize([security_accounts], resources=eas_resources, instance=dagster_instance)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"no_owner", "stale_access", "missing_approval"}
    assert not checks["no_owner"].passed and not checks["missing_approval"].passed
