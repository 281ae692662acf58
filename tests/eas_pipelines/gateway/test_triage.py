"""The routing decision as a pure function of an NLP answer (the real routing table, no service)."""

from __future__ import annotations

from eas_pipelines.gateway.nlp_client import Classification, ParsedEntity
from eas_pipelines.gateway.triage import decide, entity_priority
from eas_pipelines.routing import ApprovalPolicy, Lane, Priority


def _result(intent: str, confidence: float = 0.95, out_of_scope: bool = False, *entities: ParsedEntity):
    return Classification(intent, confidence, out_of_scope, tuple(entities), "v1")


def test_routable_intent_gets_route_and_priority() -> None:
    decision = decide(_result("customer_service.ticket_escalate"), 0.6, 10_000)
    assert decision.review_reason is None
    assert decision.route is not None and decision.route.lane is Lane.FAST
    assert decision.priority is Priority.P0


def test_intent_without_workflow_goes_to_review() -> None:
    decision = decide(_result("finance.invoice_status"), 0.6, 10_000)
    assert decision.review_reason == "agent 'finance' has no workflow for intent 'finance.invoice_status' yet"


def test_intent_outside_the_routing_table_goes_to_review() -> None:
    decision = decide(_result("weather.forecast"), 0.6, 10_000)
    assert decision.review_reason == "intent 'weather.forecast' is not in the routing table"


def test_low_confidence_and_out_of_scope_go_to_review() -> None:
    assert decide(_result("hr.leave_request", 0.59), 0.6, 10_000).review_reason.startswith("low confidence")
    assert decide(_result("oos", 0.99, True), 0.6, 10_000).review_reason.startswith("out of scope")


def test_priority_entity_raises_priority_but_never_lowers() -> None:
    urgent = ParsedEntity("priority", "urgent", 0, 6, "P0")
    low = ParsedEntity("priority", "whenever", 0, 8, "P2")
    assert decide(_result("hr.leave_request", 0.9, False, urgent), 0.6, 1).priority is Priority.P0
    assert decide(_result("hr.leave_request", 0.9, False, low), 0.6, 1).priority is Priority.P1
    assert entity_priority([urgent.to_dict(), low.to_dict()]) is Priority.P0


def test_amount_policy_expectation_follows_the_threshold() -> None:
    small = ParsedEntity("amount", "$99", 0, 3, {"amount": 99.0, "currency": "USD"})
    big = ParsedEntity("amount", "$20,000", 0, 7, {"amount": 20000.0, "currency": "USD"})
    for entity, expected in ((small, False), (big, True)):
        approval = decide(_result("finance.invoice_process", 0.9, False, entity), 0.6, 10_000).approval
        assert approval is not None and approval.policy is ApprovalPolicy.AMOUNT_OVER_THRESHOLD
        assert approval.expected is expected
    unknown = decide(_result("finance.invoice_process"), 0.6, 10_000).approval
    assert unknown is not None and unknown.expected is None
