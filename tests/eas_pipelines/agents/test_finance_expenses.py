"""finance_expense_submission end to end against the QuickBooks emulator, plus its policy rules.

Each test claims as a fresh person (its own e-mail as the API client), so the duplicate check, which
looks in the session-long emulator, only ever sees that test's claims. What was booked is read back
through the QuickBooks connector's client; what the claimant was told, from the e-mail emulator.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import dagster as dg
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.finance.expense_jobs import EXPENSE_JOB, finance_expense_submission
from eas_pipelines.agents.finance.expenses import (
    category_of,
    claim_fingerprint,
    policy_problem,
    read_claim,
)
from eas_pipelines.connectors.quickbooks import QuickBooksClient, QuickBooksResource
from eas_pipelines.routing import ROUTES, ApprovalPolicy
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow, today, with_breaker
from tests.eas_pipelines.notifications_support import received

INTENT = "finance.expense_submit"


def item(text: str, *entities: dict, requester: str = "pat@example.com") -> WorkItem:
    return WorkItem("r1", "finance", INTENT, text, requester, 1, tuple(entities), 1, "run", date(2026, 3, 2))


def amount(value: float, currency: str | None = "USD") -> dict:
    return {"type": "amount", "text": str(value), "value": {"amount": value, "currency": currency}}


def claimant() -> str:
    return f"pat.{uuid.uuid4().hex[:8]}@example.com"


def expense_request(store, text: str, snippet: str, claimant_email: str, *extra: dict):
    entities = [entity(text, "amount", snippet), *extra]
    return queued_request(store, text, INTENT, entities, client_id=claimant_email)


def booked(quickbooks: QuickBooksClient, request_id: str):
    return [e for e in quickbooks.expenses() if request_id in e.private_note]


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("expense $40 taxi yesterday", "travel"),
        ("the hotel was $300, file it as an expense", "lodging"),
        ("need to expense $90 for client dinner", "meals"),
        ("conference fee $450, please reimburse", "training"),
        ("bought a monitor for work for $220, claim it", "equipment"),
        ("submit an expense for $50", None),
    ],
)
def test_category_is_read_from_the_words(text, category):
    found = category_of(text)
    assert (found.name if found else None) == category


def test_claim_refusals_name_what_is_missing_or_wrong():
    assert "names no amount" in read_claim(item("expense my lunch"), "USD")
    assert "category could not be told" in read_claim(item("submit an expense", amount(50.0)), "USD")
    assert "booked in USD" in read_claim(item("hotel expense", amount(200.0, "EUR")), "USD")


def test_policy_limits_receipts_and_dates():
    dinner = read_claim(item("client dinner, receipt attached", amount(180.0)), "USD")
    assert "over the meals limit of 150.00 USD" in policy_problem(dinner, date(2026, 3, 2))
    taxi = read_claim(item("taxi to the airport", amount(80.0)), "USD")
    assert "receipt is required for expenses over 75.00 USD" in policy_problem(taxi, date(2026, 3, 2))
    cheap = read_claim(item("taxi to the airport", amount(30.0)), "USD")
    assert policy_problem(cheap, date(2026, 3, 2)) is None
    assert "in the future" in policy_problem(cheap, date(2026, 3, 1))


def test_fingerprint_is_one_per_claimant_day_amount_and_category():
    day = date(2026, 3, 2)
    first = claim_fingerprint("Pat@example.com", day, 30.0, "travel")
    assert first == claim_fingerprint("pat@example.com ", day, 30.0, "travel")
    assert len(first) <= 21 and first.startswith("EXP-")  # QuickBooks' DocNumber holds 21
    assert first != claim_fingerprint("pat@example.com", day, 30.0, "meals")
    assert first != claim_fingerprint("pat@example.com", day + timedelta(days=1), 30.0, "travel")


def test_route_runs_the_job_with_an_amount_policy():
    route = ROUTES[INTENT]
    assert route.job == EXPENSE_JOB == finance_expense_submission.name
    assert (route.approval, route.approver_role) == (ApprovalPolicy.AMOUNT_OVER_THRESHOLD, "finance_manager")


# --------------------------------------------------------------------------- end to end


def test_expense_is_booked_in_quickbooks_and_the_claimant_told(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, quickbooks
):
    who = claimant()
    text = "I took a client to dinner yesterday, it was $120, receipt attached"
    record = expense_request(store, text, "$120", who, entity(text, "date", "yesterday"))

    result = run_workflow(finance_expense_submission, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (expense,) = booked(quickbooks, record.id)
    meals = quickbooks.account_by_name("Meals and Entertainment")
    assert (expense.total, expense.account_ids, expense.payment_type) == (120.0, [meals.id], "Cash")
    assert expense.txn_date == (today() - timedelta(days=1)).isoformat()
    assert expense.doc_number == claim_fingerprint(who, today() - timedelta(days=1), 120.0, "meals")
    assert f"by {who}" in expense.private_note and "receipt: receipt" in expense.private_note
    (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
    assert f"QuickBooks expense {expense.id}" in mail.text
    trail = [e.action for e in store.audit_trail(record.id) if e.actor == "finance"]
    actions = [a for a in trail if a.startswith(("expense.", "approval."))]
    assert actions == [
        "expense.read",
        "expense.policy_checked",
        "expense.duplicate_check",
        "approval.not_required",
        "expense.booked",
    ]


def test_the_same_claim_twice_is_refused_as_a_duplicate(store, eas_resources, dagster_instance, quickbooks):
    who = claimant()
    text = "expense $45 taxi today"
    first = expense_request(store, text, "$45", who)
    second = expense_request(store, text, "$45", who)

    assert run_workflow(finance_expense_submission, first.id, dagster_instance, eas_resources, store).success
    assert run_workflow(finance_expense_submission, second.id, dagster_instance, eas_resources, store).success

    (original,) = booked(quickbooks, first.id)
    refused = store.get(second.id)
    assert refused.status is Status.FAILED
    assert f"duplicate claim: the same travel expense of 45.00 USD on {today()}" in refused.last_error
    assert f"QuickBooks expense {original.id}" in refused.last_error
    assert booked(quickbooks, second.id) == []


def test_claim_over_the_receipt_threshold_without_one_is_refused(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, quickbooks
):
    who = claimant()
    record = expense_request(store, "expense $95 parking today", "$95", who)

    assert run_workflow(finance_expense_submission, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert "a receipt is required" in refused.last_error
    assert booked(quickbooks, record.id) == []
    (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
    assert "a receipt is required" in mail.text


def test_large_claim_waits_for_the_finance_manager_then_is_booked(
    store, eas_resources, dagster_instance, quickbooks
):
    who = claimant()
    text = "reimburse my flight, $820, receipt attached"
    record = expense_request(store, text, "$820", who)

    first = run_workflow(finance_expense_submission, record.id, dagster_instance, eas_resources, store)

    assert first.success and store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "finance_manager"
    assert booked(quickbooks, record.id) == []

    store.decide(record.id, "approved", "omar.haddad", "conference travel")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    second = run_workflow(finance_expense_submission, record.id, dagster_instance, eas_resources, store)

    assert second.success and store.get(record.id).status is Status.SUCCEEDED
    (expense,) = booked(quickbooks, record.id)
    assert expense.total == 820.0 and expense.account_ids == [quickbooks.account_by_name("Travel").id]


def test_quickbooks_down_fails_the_run_and_books_nothing(
    store, eas_resources, dagster_instance, redis_key_prefix, quickbooks
):
    down = dict(eas_resources)
    values = dict(eas_resources["quickbooks"]._get_non_default_public_field_values())
    unreachable = {"base_url": "https://127.0.0.1:9", "token_url": "https://127.0.0.1:9/oauth2/token"}
    down["quickbooks"] = with_breaker(
        QuickBooksResource(**{**values, **unreachable}), f"{redis_key_prefix}down", max_attempts=1
    )
    record = expense_request(store, "expense $20 taxi today", "$20", claimant())

    result = run_workflow(finance_expense_submission, record.id, dagster_instance, down, store)

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # the failure sensor retries or fails it
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failed and failed[-1].step_key == "check_duplicate_claim"
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) == 3  # the job's retry policy, before the run fails
    assert booked(quickbooks, record.id) == []
