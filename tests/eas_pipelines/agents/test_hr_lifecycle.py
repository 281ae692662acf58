"""hr_onboarding and hr_offboarding end to end against the emulators (BambooHR, Salesforce, ServiceNow,
Jira, Slack SCIM and Web API, SMTP), plus the orientation invite.

The accounts are read back through the connectors' clients, the mail from the SMTP emulator's record
of it (with its attachments). Each test onboards a fresh person: the emulators live for the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
import pytest
from icalendar import Calendar

from eas_pipelines.agents.hr.lifecycle import hr_offboarding, hr_onboarding, orientation_invite, work_email
from eas_pipelines.agents.security.accounts import AccountSystems, Person
from eas_pipelines.agents.security.policy import Grant
from eas_pipelines.store import Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow, today
from tests.eas_pipelines.notifications_support import received

ONBOARD, OFFBOARD = "hr.onboarding", "hr.offboarding"
QUICK_OUTAGE = {"max_attempts": 2, "initial_backoff_s": 0.01, "breaker_fail_max": 2}


@pytest.fixture
def systems(eas_resources) -> Iterator[AccountSystems]:
    keys = ("salesforce", "servicenow", "jira", "slack_scim")
    with dg.build_resources({key: eas_resources[key] for key in keys}) as built:
        yield AccountSystems(*(getattr(built, key) for key in keys))


def fresh_name() -> str:
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])
    return f"Robin {letters.title()}"


def hr_actions(store, request_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.action, e.detail) for e in store.audit_trail(request_id) if e.actor == "hr"]


def mail_to(sandbox_session, address: str, request_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in sandbox_session.sandbox.records.all("email", "messages")
        if address in m["rcpt_to"] and request_id in m["body_text"]
    ]


def test_orientation_invite_is_an_icalendar_request():
    person = Person("robin.x@example.com", "Robin", "X")
    ics = orientation_invite(
        person, date(2027, 3, 1), uid="r1-orientation@eas", attendees=[person.email, "me@home.example"]
    )
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["method"]) == "REQUEST" and str(event["uid"]) == "r1-orientation@eas"
    assert event.decoded("dtstart").isoformat() == "2027-03-01T09:30:00+00:00"
    assert [str(a) for a in event["attendee"]] == ["mailto:robin.x@example.com", "mailto:me@home.example"]
    assert work_email("Robin Van Dijk") == "robin.van.dijk@example.com"


def test_onboarding_provisions_accounts_equipment_orientation_and_welcome(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    name = fresh_name()
    text = (
        f"new hire {name} starts 2027-03-01 in sales as account executive, personal email robin@home.example"
    )
    ents = [
        entity(text, "employee", name),
        entity(text, "date", "2027-03-01", "2027-03-01"),
        entity(text, "department", "sales"),
        entity(text, "role", "account executive"),
        entity(text, "email", "robin@home.example"),
    ]
    record = queued_request(store, text, ONBOARD, ents)

    result = run_workflow(hr_onboarding, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    email = work_email(name)
    assert systems.salesforce.client().user_by_email(email).is_active  # sales: Salesforce by policy
    jira = systems.jira.client()
    assert jira.user_groups(jira.user_by_email(email).account_id) == ["jira-software-users"]
    assert systems.slack_scim.client().user_by_email(email).active
    assert systems.servicenow.client().users(f"email={email}") == []  # not a sales system
    (issue,) = jira.search(f'labels = "eas-{record.id}:equipment"')
    assert issue.project == "OPS" and name in issue.summary and "2027-03-01" in issue.summary
    (invite,) = mail_to(sandbox_session, email, record.id)
    assert "robin@home.example" in invite["rcpt_to"]
    assert invite["attachments"] == [
        {
            "filename": "orientation.ics",
            "content_type": "text/calendar",
            "size": invite["attachments"][0]["size"],
        }
    ]
    slack = eas_resources["notifications"]
    with dg.build_resources({"notifications": slack}) as built:
        client = built.notifications.slack.client()
        dm = client.history(client.dm_channel_for(email))
    assert any(record.id in m.get("text", "") and "Welcome to the team" in m.get("text", "") for m in dm)
    (hr_post,) = received(sandbox_session, redis_url, "#hr", request_id=record.id)
    assert f"Onboarded {name}" in hr_post.text
    steps = [a for a, _ in hr_actions(store, record.id)]
    for step in (
        "onboarding.new_hire",
        "access.granted",
        "onboarding.equipment_requested",
        "onboarding.orientation_scheduled",
        "onboarding.welcomed",
    ):
        assert step in steps
    granted = {d["system"] for a, d in hr_actions(store, record.id) if a == "access.granted"}
    assert granted == {"slack", "jira", "salesforce"}

    # offboarding the same person on their last day (today: at once; a later one is scheduled, see
    # test_deferred_work): every account revoked with the same function, payroll flagged
    last_day = today().isoformat()
    text = f"offboard {name}, last day {last_day}"
    leave = queued_request(
        store,
        text,
        OFFBOARD,
        [entity(text, "employee", name), entity(text, "date", last_day, last_day)],
    )
    assert run_workflow(hr_offboarding, leave.id, dagster_instance, eas_resources, store).success
    assert store.get(leave.id).status is Status.SUCCEEDED
    assert not systems.salesforce.client().user_by_email(email).is_active
    assert jira.user_groups(jira.user_by_email(email).account_id) == []
    assert not systems.slack_scim.client().user_by_email(email).active
    revoked = {d["system"]: d["outcome"] for a, d in hr_actions(store, leave.id) if a == "access.revoked"}
    assert revoked == {
        "salesforce": "revoked",
        "servicenow": "no_account",
        "jira": "revoked",
        "slack": "revoked",
    }
    (pay,) = received(sandbox_session, redis_url, "#payroll", request_id=leave.id)
    assert f"Final pay: {name}" in pay.text and last_day in pay.text


def test_onboarding_without_a_name_is_refused(store, eas_resources, dagster_instance):
    text = "new hire starting next week, please set everything up"
    record = queued_request(store, text, ONBOARD, [])
    assert run_workflow(hr_onboarding, record.id, dagster_instance, eas_resources, store).success
    failed = store.get(record.id)
    assert failed.status is Status.FAILED and "name the new hire" in failed.last_error


def test_offboarding_fails_the_run_when_a_system_is_down(
    store, dagster_instance, sandbox_session, migrated_database_url, redis_url, redis_key_prefix, systems
):
    resources = make_resources(migrated_database_url, redis_url, f"{redis_key_prefix}outage:", **QUICK_OUTAGE)
    person = Person(f"temp.{uuid.uuid4().hex[:8]}@example.com", "Temp", "Worker")
    systems.grant(person, [Grant("jira", "editor")], "setup")
    text = f"offboard {person.email}"
    record = queued_request(store, text, OFFBOARD, [entity(text, "email", person.email)])
    sandbox_session.sandbox.faults.add(Fault(kind="error", vendor="salesforce", rate=1.0))
    try:
        result = run_workflow(hr_offboarding, record.id, dagster_instance, resources, store)
    finally:
        sandbox_session.sandbox.faults.clear()
    assert not result.success and store.get(record.id).status is Status.RUNNING
    failed = [d["system"] for a, d in hr_actions(store, record.id) if a == "access.revoked_failed"]
    assert set(failed) == {"salesforce"}  # once per try of the op
    jira = systems.jira.client()
    assert jira.user_groups(jira.user_by_email(person.email).account_id) == []  # revoked anyway
    assert (
        received(sandbox_session, redis_url, "#payroll", request_id=record.id) == []
    )  # not before access is gone
