"""The routing decision as a pure function of an NLP answer (the real routing table, no service)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from eas_pipelines import routing
from eas_pipelines.gateway.nlp_client import Classification, ParsedEntity
from eas_pipelines.gateway.triage import amount_thresholds, decide, entity_priority
from eas_pipelines.routing import ROUTES, ApprovalPolicy, Lane, Priority, Route
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import RequestStore
from tests.eas_pipelines.gateway.conftest import bearer

THRESHOLDS = {"approval_amount_threshold": 10_000.0, "expense_approval_threshold": 500.0}


def _result(intent: str, confidence: float = 0.95, out_of_scope: bool = False, *entities: ParsedEntity):
    return Classification(intent, confidence, out_of_scope, tuple(entities), "v1")


def test_routable_intent_gets_route_and_priority() -> None:
    decision = decide(_result("customer_service.ticket_escalate"), 0.6, THRESHOLDS)
    assert decision.review_reason is None
    assert decision.route is not None and decision.route.lane is Lane.FAST
    assert decision.priority is Priority.P0


def test_intent_without_workflow_goes_to_review(monkeypatch: pytest.MonkeyPatch) -> None:
    # A synthetic route: every intent of the real table has a workflow.
    monkeypatch.setitem(routing.ROUTES, "test.no_workflow", Route("test.no_workflow", "test", None))
    decision = decide(_result("test.no_workflow"), 0.6, THRESHOLDS)
    assert decision.review_reason == "agent 'test' has no workflow for intent 'test.no_workflow' yet"


def test_intent_outside_the_routing_table_goes_to_review() -> None:
    decision = decide(_result("weather.forecast"), 0.6, THRESHOLDS)
    assert decision.review_reason == "intent 'weather.forecast' is not in the routing table"


def test_low_confidence_and_out_of_scope_go_to_review() -> None:
    assert decide(_result("hr.leave_request", 0.59), 0.6, THRESHOLDS).review_reason.startswith(
        "low confidence"
    )
    assert decide(_result("oos", 0.99, True), 0.6, THRESHOLDS).review_reason.startswith("out of scope")


def test_priority_entity_raises_priority_but_never_lowers() -> None:
    urgent = ParsedEntity("priority", "urgent", 0, 6, "P0")
    low = ParsedEntity("priority", "whenever", 0, 8, "P2")
    assert decide(_result("hr.leave_request", 0.9, False, urgent), 0.6, THRESHOLDS).priority is Priority.P0
    assert decide(_result("hr.leave_request", 0.9, False, low), 0.6, THRESHOLDS).priority is Priority.P1
    assert entity_priority([urgent.to_dict(), low.to_dict()]) is Priority.P0


def test_amount_policy_expectation_follows_the_threshold() -> None:
    small = ParsedEntity("amount", "$99", 0, 3, {"amount": 99.0, "currency": "USD"})
    big = ParsedEntity("amount", "$20,000", 0, 7, {"amount": 20000.0, "currency": "USD"})
    for entity, expected in ((small, False), (big, True)):
        approval = decide(_result("finance.invoice_process", 0.9, False, entity), 0.6, THRESHOLDS).approval
        assert approval is not None and approval.policy is ApprovalPolicy.AMOUNT_OVER_THRESHOLD
        assert approval.expected is expected
    unknown = decide(_result("finance.invoice_process"), 0.6, THRESHOLDS).approval
    assert unknown is not None and unknown.expected is None


def _amount(value: float) -> ParsedEntity:
    return ParsedEntity("amount", f"${value:,.0f}", 0, 4, {"amount": value, "currency": "USD"})


def test_each_route_is_expected_to_ask_above_its_own_threshold() -> None:
    """An expense claim of 800 is over the expense threshold (500): its workflow will ask. An invoice
    of 800 is far under the invoice threshold (10,000): it will not. The same amount, two answers."""
    thresholds = amount_thresholds(
        EASSettings.model_construct(approval_amount_threshold=10_000.0, expense_approval_threshold=500.0)
    )

    expense = decide(_result("finance.expense_submit", 0.9, False, _amount(800)), 0.6, thresholds)
    invoice = decide(_result("finance.invoice_process", 0.9, False, _amount(800)), 0.6, thresholds)

    assert expense.approval is not None and expense.approval.expected is True
    assert invoice.approval is not None and invoice.approval.expected is False
    assert ROUTES["finance.expense_submit"].amount_threshold_setting == "expense_approval_threshold"
    assert ROUTES["finance.invoice_process"].amount_threshold_setting == "approval_amount_threshold"


def test_every_route_names_a_numeric_threshold_setting() -> None:
    """A misspelt setting would fail the gateway at start; pinned here, with the values read."""
    fields = EASSettings.model_fields
    for route in ROUTES.values():
        assert fields[route.amount_threshold_setting].annotation is float, route.intent
    settings = EASSettings.model_construct()
    assert amount_thresholds(settings) == {
        "approval_amount_threshold": settings.approval_amount_threshold,
        "expense_approval_threshold": settings.expense_approval_threshold,
    }


def test_the_gateway_reads_each_routes_threshold_when_it_shows_a_request(
    gateway: TestClient, request_store: RequestStore
) -> None:
    """Through the API (settings at their defaults: invoices 10,000, expenses 500): the stored
    expense of 800 shows "approval expected", the invoice of 800 does not."""
    shown = {}
    for intent, workflow in (
        ("finance.expense_submit", "finance_expense_submission"),
        ("finance.invoice_process", "finance_invoice_processing"),
    ):
        record, _ = request_store.submit("threshold-test", f"{intent}-{uuid.uuid4()}", "for $800")
        request_store.classify(
            record.id,
            intent=intent,
            confidence=0.9,
            entities=[_amount(800).to_dict()],
            agent="finance",
            workflow=workflow,
            priority=Priority.P1,
            lane=Lane.FAST,
            model_version="test",
            needs_review=False,
        )
        body = gateway.get(f"/v1/requests/{record.id}?include=", headers=bearer()).json()
        shown[intent] = (body["approval"]["policy"], body["approval"]["expected"])

    assert shown == {
        "finance.expense_submit": ("amount_over_threshold", True),
        "finance.invoice_process": ("amount_over_threshold", False),
    }
