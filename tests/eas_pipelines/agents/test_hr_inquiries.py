"""hr_leave_balance (BambooHR) and hr_payroll_question (ADP) end to end, plus their rules.

Leave balances are asked about people each test hires through the BambooHR client (their balances
and supervisor set in the emulator's records, as BambooHR's API cannot); payroll questions about
ADP's seeded workers, which nothing changes (ADP is only read). Answers are read from the e-mail
emulator and the #payroll Slack channel.
"""

from __future__ import annotations

import uuid
from datetime import date

import dagster as dg
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.hr.inquiries import (
    hr_leave_balance,
    hr_payroll_question,
    may_see,
    next_payday,
    payroll_topic,
)
from eas_pipelines.connectors.adp import ADPResource, PayStatement
from eas_pipelines.routing import ROUTES
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow, with_breaker
from tests.eas_pipelines.notifications_support import received

BALANCE = "hr.leave_balance"
PAYROLL = "hr.payroll_question"
MARCUS = "marcus.chen@example.com"  # ADP's seeded Software Engineer (130,000 a year), reports to Dana
DANA = "dana.smith@example.com"
TOM = "tom.nguyen@example.com"


def item(text: str, *entities: dict) -> WorkItem:
    return WorkItem("r1", "hr", PAYROLL, text, "c", 1, tuple(entities), 1, "run")


def statement(pay_date: str) -> PayStatement:
    return PayStatement(statement_id=pay_date, pay_date=date.fromisoformat(pay_date), gross_pay=1, net_pay=1)


def mail(sandbox_session, redis_url: str, who: str, request_id: str) -> str:
    (message,) = received(sandbox_session, redis_url, who, request_id=request_id)
    return message.text


# --------------------------------------------------------------------------- rules


def test_routes_run_the_jobs():
    assert ROUTES[BALANCE].job == hr_leave_balance.name
    assert ROUTES[PAYROLL].job == hr_payroll_question.name


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("when is my next payday", "payday"),
        ("when do I get paid", "payday"),
        ("update my direct deposit to a new bank", "change"),
        ("I switched banks, how do I update my direct deposit", "change"),
        ("increase my federal withholding", "change"),
        ("I need a copy of my W-2", "year_end"),
        ("where can I download my pay stub", "statements"),
        ("why is my paycheck $200 short", "pay"),
    ],
)
def test_payroll_topic(text, topic):
    assert payroll_topic(item(text)) == topic


def test_next_payday_continues_the_cycle():
    statements = [statement("2026-01-30"), statement("2026-02-13")]
    assert next_payday(statements, date(2026, 2, 14)) == date(2026, 2, 27)
    assert next_payday(statements, date(2026, 2, 27)) == date(2026, 2, 27)
    assert next_payday(statements, date(2026, 12, 6)) == date(2026, 12, 18)
    assert next_payday(statements[:1], date(2026, 2, 14)) is None


def test_only_the_person_and_their_manager_may_see():
    assert may_see("Marcus.Chen@example.com ", {"marcus.chen@example.com"}, {"dana.smith@example.com"})
    assert may_see("dana.smith@example.com", {"marcus.chen@example.com"}, {"dana.smith@example.com"})
    assert not may_see("tom.nguyen@example.com", {"marcus.chen@example.com"}, {"dana.smith@example.com"})
    assert not may_see("", {""}, set())


# --------------------------------------------------------------------------- leave balance


def test_own_leave_balance_is_answered_from_bamboohr(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, staff
):
    me = staff.hire("Lena", "Berg", {"vacation": 15, "sick": 8})
    text = "how much vacation do I have left"
    record = queued_request(
        store, text, BALANCE, [entity(text, "leave_type", "vacation")], client_id=me.work_email
    )

    assert run_workflow(hr_leave_balance, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    answer = mail(sandbox_session, redis_url, me.work_email, record.id)
    assert "Vacation: 15 day(s) left (0 used this year)" in answer and "Sick" not in answer


def test_a_manager_may_ask_for_a_reports_balance_but_nobody_else(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, staff
):
    boss = staff.hire("Ines", "Moreau", {"vacation": 25})
    report = staff.hire("Yusuf", "Demir", {"vacation": 9, "sick": 4}, manager=boss)
    stranger = staff.hire("Ola", "Nordmann", {"vacation": 30})
    text = f"leave balance for {report.full_name}"
    ask = [entity(text, "employee", report.full_name)]
    by_boss = queued_request(store, text, BALANCE, ask, client_id=boss.work_email)
    by_stranger = queued_request(store, text, BALANCE, ask, client_id=stranger.work_email)

    assert run_workflow(hr_leave_balance, by_boss.id, dagster_instance, eas_resources, store).success
    assert run_workflow(hr_leave_balance, by_stranger.id, dagster_instance, eas_resources, store).success

    answer = mail(sandbox_session, redis_url, boss.work_email, by_boss.id)
    assert "Vacation: 9 day(s) left" in answer and "Sick: 4 day(s) left" in answer
    refused = store.get(by_stranger.id)
    assert refused.status is Status.FAILED
    assert f"{report.full_name}'s leave balance is told to them and their manager only" in refused.last_error


def test_unknown_employee_is_refused(store, eas_resources, dagster_instance):
    text = "how much vacation does Nobody Atall have left"
    record = queued_request(store, text, BALANCE, [entity(text, "employee", "Nobody Atall")])

    assert run_workflow(hr_leave_balance, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert (
        refused.status is Status.FAILED and "'Nobody Atall' was not found in BambooHR" in refused.last_error
    )


# --------------------------------------------------------------------------- payroll


def test_payday_question_is_answered_from_adp(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    record = queued_request(store, "when is my next payday", PAYROLL, [], client_id=MARCUS)

    assert run_workflow(hr_payroll_question, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    answer = mail(sandbox_session, redis_url, MARCUS, record.id)
    assert "The next payday is" in answer and "The last one was 2026-02-13" in answer


def test_manager_gets_a_reports_pay_statement_and_others_are_refused(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    text = "what's the gross pay for Marcus Chen for last month"
    ask = [entity(text, "employee", "Marcus Chen")]
    by_manager = queued_request(store, text, PAYROLL, ask, client_id=DANA)
    by_peer = queued_request(store, text, PAYROLL, ask, client_id=TOM)

    assert run_workflow(hr_payroll_question, by_manager.id, dagster_instance, eas_resources, store).success
    assert run_workflow(hr_payroll_question, by_peer.id, dagster_instance, eas_resources, store).success

    answer = mail(sandbox_session, redis_url, DANA, by_manager.id)
    assert "Pay statement of 2026-02-13: gross 5,000.00 USD" in answer
    assert "Deduction Federal Income Tax: 1,100.00 USD" in answer
    refused = store.get(by_peer.id)
    assert refused.status is Status.FAILED
    assert "Marcus Chen's pay is discussed with them and their manager only" in refused.last_error


def test_direct_deposit_change_waits_for_payroll_then_goes_to_payroll(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    text = f"update my direct deposit to a new bank {uuid.uuid4().hex[:4]}"
    record = queued_request(store, text, PAYROLL, [], client_id=MARCUS)

    assert run_workflow(hr_payroll_question, record.id, dagster_instance, eas_resources, store).success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "payroll_admin"

    store.decide(record.id, "approved", "payroll.lead", "verified by phone")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    assert run_workflow(hr_payroll_question, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    assert "handed to payroll" in mail(sandbox_session, redis_url, MARCUS, record.id)
    (posted,) = received(sandbox_session, redis_url, "#payroll", request_id=record.id)
    assert "Approved pay change for Marcus Chen" in posted.text


def test_adp_down_fails_the_run(store, eas_resources, dagster_instance, redis_key_prefix):
    down = dict(eas_resources)
    values = dict(eas_resources["adp"]._get_non_default_public_field_values())
    unreachable = {"base_url": "https://127.0.0.1:9", "token_url": "https://127.0.0.1:9/auth/oauth/v2/token"}
    down["adp"] = with_breaker(
        ADPResource(**{**values, **unreachable}), f"{redis_key_prefix}down", max_attempts=1
    )
    record = queued_request(store, "when is payday", PAYROLL, [], client_id=MARCUS)

    result = run_workflow(hr_payroll_question, record.id, dagster_instance, down, store)

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # left to the failure sensor
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failed and failed[-1].step_key == "read_payroll_question"
