"""Approvals by sentence (``approvals_decision``, ``approvals_listing``), with the approver's role
enforced, delegation, and the second approval level for large invoices, end to end: a sentence with
the entities the NLP service extracts -> the workflow -> the decision in the store and the mail the
people got from the e-mail emulator. Plus the rules as plain functions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from eas_pipelines.agents import finance_invoice_processing
from eas_pipelines.agents.approvals.decisions import approvals_decision, approvals_listing, pick_target
from eas_pipelines.agents.approvals.levels import SecondLevelPolicy, approval_levels, request_amount
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import ApprovalForbidden, RequestStore, Status
from eas_pipelines.store.authority import Authority, decision_authority
from tests.eas_pipelines.agents import test_finance_invoice as finance_tests
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

INVOICE_INTENT = "finance.invoice_process"
sap, inbox = finance_tests.sap, finance_tests.inbox  # the finance tests' SAP data and inbox fixtures
invoice_request = finance_tests.invoice_request


def person(name: str) -> str:
    """A fresh person (client id) per test: roles and delegations outlive a test's requests."""
    return f"{name}.{uuid.uuid4().hex[:6]}"


def awaiting_invoice(store: RequestStore, amount: str = "$12,400") -> tuple[str, str]:
    """An invoice request whose workflow stopped for finance_manager: (request id, invoice id)."""
    invoice_id = f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Please process {invoice_id} from Acme for {amount}"
    entities = [entity(text, "invoice_id", invoice_id), entity(text, "amount", amount)]
    record = queued_request(store, text, INVOICE_INTENT, entities, client_id=person("requester"))
    store.transition(record.id, Status.RUNNING, actor="finance", expected=Status.QUEUED, run_id="r1")
    store.request_approval(record.id, "finance_manager", datetime.now(UTC) + timedelta(hours=4), "finance")
    return record.id, invoice_id


def say(store: RequestStore, who: str, text: str, intent: str, *refs: tuple[str, str]):
    """The request a person's sentence becomes, with the entities the NLP service would extract."""
    entities = [entity(text, kind, snippet) for kind, snippet in refs]
    return queued_request(store, text, intent, entities, client_id=who)


def test_role_holder_approves_an_invoice_by_its_number(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    target, invoice_id = awaiting_invoice(store)
    dana = person("dana")
    store.grant_role(dana, "finance_manager", "test")
    sentence = say(
        store, dana, f"approve invoice {invoice_id}", "approvals.approve", ("invoice_id", invoice_id)
    )

    result = run_workflow(approvals_decision, sentence.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(sentence.id).status is Status.SUCCEEDED
    assert store.get(target).status is Status.APPROVED
    (decided,) = store.approvals("approved", request_id=target)
    assert decided.decided_by == f"client:{dana}"
    entry = [e for e in store.audit_trail(target) if e.action == "approval.decided"][-1]
    assert entry.detail["basis"] == "holds role finance_manager"
    (mail,) = received(sandbox_session, redis_url, dana, request_id=target)
    assert f"Approved request {target} ({invoice_id})" in mail.text


def test_somebody_without_the_role_is_refused_and_nothing_is_decided(store, eas_resources, dagster_instance):
    target, invoice_id = awaiting_invoice(store)
    eve = person("eve")
    sentence = say(store, eve, f"approve {invoice_id}", "approvals.approve", ("invoice_id", invoice_id))

    result = run_workflow(approvals_decision, sentence.id, dagster_instance, eas_resources, store)

    assert result.success  # a business refusal, not a run failure
    failed = store.get(sentence.id)
    assert failed.status is Status.FAILED
    assert f"{eve} may not decide" in failed.last_error and "finance_manager" in failed.last_error
    assert store.get(target).status is Status.AWAITING_APPROVAL


def test_a_delegate_approves_by_request_id_while_the_approver_is_away(store, eas_resources, dagster_instance):
    target, _ = awaiting_invoice(store)
    dana, frank = person("dana"), person("frank")
    store.grant_role(dana, "finance_manager", "test")
    store.delegate(dana, frank, datetime.now(UTC) + timedelta(days=7), f"client:{dana}", reason="holiday")
    # The NLP normaliser upper-cases ids; the store's are lower-case UUIDs.
    sentence = say(
        store, frank, f"I approve {target.upper()}", "approvals.approve", ("request_id", target.upper())
    )

    assert run_workflow(approvals_decision, sentence.id, dagster_instance, eas_resources, store).success

    assert store.get(target).status is Status.APPROVED
    entry = [e for e in store.audit_trail(target) if e.action == "approval.decided"][-1]
    assert entry.actor == f"client:{frank}" and entry.detail["on_behalf_of"] == dana


def test_reject_by_sentence_ends_the_request_and_tells_its_requester(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    target, invoice_id = awaiting_invoice(store)
    dana = person("dana")
    store.grant_role(dana, "finance_manager", "test")
    text = f"reject {invoice_id}, the vendor is not on the approved list"
    sentence = say(store, dana, text, "approvals.reject", ("invoice_id", invoice_id))

    assert run_workflow(approvals_decision, sentence.id, dagster_instance, eas_resources, store).success

    assert store.get(target).status is Status.REJECTED
    (decided,) = store.approvals("rejected", request_id=target)
    assert decided.reason == text
    requester = store.get(target).client_id
    (mail,) = received(sandbox_session, redis_url, requester, request_id=target)
    assert "was rejected" in mail.text and "not on the approved list" in mail.text


def test_unknown_reference_and_own_request_are_refused(store, eas_resources, dagster_instance):
    nobody = say(
        store, person("dana"), "approve INV-NOPE00", "approvals.approve", ("invoice_id", "INV-NOPE00")
    )
    assert run_workflow(approvals_decision, nobody.id, dagster_instance, eas_resources, store).success
    assert store.get(nobody.id).last_error == "no request matches INV-NOPE00"

    target, invoice_id = awaiting_invoice(store)
    requester = store.get(target).client_id
    store.grant_role(requester, "finance_manager", "test")
    own = say(store, requester, f"approve {invoice_id}", "approvals.approve", ("invoice_id", invoice_id))
    assert run_workflow(approvals_decision, own.id, dagster_instance, eas_resources, store).success
    assert "is your own" in store.get(own.id).last_error
    assert store.get(target).status is Status.AWAITING_APPROVAL


def test_list_my_approvals_shows_what_i_may_decide(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    mine, _ = awaiting_invoice(store)
    dana = person("dana")
    store.grant_role(dana, "finance_manager", "test")
    sentence = say(store, dana, "list my approvals", "approvals.list")

    result = run_workflow(approvals_listing, sentence.id, dagster_instance, eas_resources, store)

    assert result.success and store.get(sentence.id).status is Status.SUCCEEDED
    completed = [e for e in store.audit_trail(sentence.id) if e.action == "approvals.listed"][-1]
    assert mine in completed.detail["request_ids"]
    (mail,) = received(sandbox_session, redis_url, dana, request_id=sentence.id)
    assert mine in mail.text and "12,400.00" in mail.text
    nobody = say(store, person("zed"), "list my approvals", "approvals.list")
    assert run_workflow(approvals_listing, nobody.id, dagster_instance, eas_resources, store).success
    listed = [e for e in store.audit_trail(nobody.id) if e.action == "approvals.listed"][-1]
    assert listed.detail["count"] == 0


def _resume(dagster_instance, eas_resources) -> None:
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)


def test_invoice_over_the_second_threshold_needs_the_cfo_after_finance_manager(
    store, eas_resources, dagster_instance, sap, inbox
):
    vendor = sap.supplier("Umbrella")
    sap.purchase_order(vendor, 200_000)
    record, invoice_id = invoice_request(store, vendor, "$75,000")
    dana, carl = person("dana"), person("carl")
    store.grant_role(dana, "finance_manager", "test")
    store.grant_role(dana, "cfo", "test")  # holds both: still may not approve both levels
    store.grant_role(carl, "cfo", "test")

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success
    first = say(store, dana, f"approve {invoice_id}", "approvals.approve", ("invoice_id", invoice_id))
    assert run_workflow(approvals_decision, first.id, dagster_instance, eas_resources, store).success
    _resume(dagster_instance, eas_resources)

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    (second_level,) = store.approvals(request_id=record.id)
    assert (second_level.approver, second_level.stage) == ("cfo", 2)
    assert len(inbox("cfo", record.id)) == 1
    with pytest.raises(ApprovalForbidden, match="already decided an earlier level"):
        store.decide(record.id, "approved", f"client:{dana}", principal=dana, route_role="finance_manager")
    second = say(store, carl, f"approve {invoice_id}", "approvals.approve", ("invoice_id", invoice_id))
    assert run_workflow(approvals_decision, second.id, dagster_instance, eas_resources, store).success
    _resume(dagster_instance, eas_resources)

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success
    assert store.get(record.id).status is Status.SUCCEEDED
    (posted,) = sap.invoices_of(record.id)
    assert Decimal(posted["InvoiceGrossAmount"]) == Decimal("75000.00")
    granted = [e for e in store.audit_trail(record.id) if e.action == "approval.granted"][-1]
    assert granted.detail["approved_by"] == [f"client:{dana}", f"client:{carl}"]


# ------------------------------------------------------------------ rules


def test_second_level_applies_to_invoices_above_the_threshold_only() -> None:
    policy = SecondLevelPolicy(50_000, "cfo")
    big = [{"type": "amount", "value": {"amount": 75_000.0, "currency": "USD"}}]
    small = [{"type": "amount", "value": {"amount": 50_000.0, "currency": "USD"}}]
    assert approval_levels(INVOICE_INTENT, big, "finance_manager", policy) == ("finance_manager", "cfo")
    assert approval_levels(INVOICE_INTENT, small, "finance_manager", policy) == ("finance_manager",)
    assert approval_levels("hr.leave_request", big, "manager:E1", policy) == ("manager:E1",)
    assert approval_levels(INVOICE_INTENT, [], "finance_manager", policy) == ("finance_manager",)
    assert approval_levels(INVOICE_INTENT, big, "cfo", policy) == ("cfo",)
    assert request_amount([{"type": "amount", "value": 12.5}]) == 12.5
    assert request_amount([{"type": "amount", "value": True}]) is None


@pytest.mark.parametrize(
    ("principal", "approver", "roles", "delegators", "stage", "expected"),
    [
        ("dana", "dana", {}, [], 1, "named approver"),
        (
            "client:dana",
            "finance_manager",
            {"dana": {"finance_manager"}},
            [],
            1,
            "holds role finance_manager",
        ),
        ("dana", "manager:E1001", {"dana": {"manager"}}, [], 1, "holds role manager"),
        ("dana", "dana.smith", {"dana": {"manager"}}, [], 1, "holds the route's approver role manager"),
        ("dana", "dana.smith", {"dana": {"manager"}}, [], 2, None),
        ("frank", "finance_manager", {"dana": {"finance_manager"}}, ["dana"], 1, "delegate of dana"),
        ("frank", "finance_manager", {}, ["dana"], 1, None),
        ("eve", "finance_manager", {"eve": {"cfo"}}, [], 1, None),
    ],
)
def test_who_may_decide(principal, approver, roles, delegators, stage, expected) -> None:
    found = decision_authority(principal, approver, roles, delegators, stage=stage, route_role="manager")
    if expected is None:
        assert isinstance(found, str) and "does not hold" in found
    else:
        assert isinstance(found, Authority) and found.basis.startswith(expected)


def test_nobody_decides_two_levels() -> None:
    found = decision_authority(
        "dana", "cfo", {"dana": {"cfo"}}, [], stage=2, earlier_deciders=["client:dana"]
    )
    assert isinstance(found, str) and "earlier level" in found


def test_pick_target_wants_exactly_one_request_awaiting_approval(store) -> None:
    assert pick_target("INV-1", []) == (None, "no request matches INV-1")
    target, _ = awaiting_invoice(store)
    one = store.get(target)
    assert pick_target("INV-1", [one]) == (one, "")
    other, _ = awaiting_invoice(store)
    record, why = pick_target("INV-1", [one, store.get(other)])
    assert record is None and "2 requests about INV-1 await approval" in why


def test_the_gate_also_tells_the_delegate_of_an_approver_who_is_away(
    store, eas_resources, sandbox_session, redis_url
):
    from eas_pipelines.agents.common import WorkItem, approval_gate

    dana, frank = person("dana"), person("frank")
    store.delegate(dana, frank, datetime.now(UTC) + timedelta(days=3), f"client:{dana}")
    record = queued_request(store, "open a ticket: billing portal down", "customer_service.ticket_create", [])
    store.transition(record.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r1")
    item = WorkItem(
        record.id, "customer_service", record.intent, record.text, record.client_id, 1, (), 1, "r1"
    )
    resources = {key: eas_resources[key] for key in ("policy", "notifications")}
    with dg.build_op_context(resources=resources) as context:  # resolves the connectors' settings
        asked = approval_gate(
            context,
            store,
            context.resources.notifications,
            item,
            approver=dana,
            reason="check",
            deadline_hours=2,
        )

    assert asked is False and store.get(record.id).status is Status.AWAITING_APPROVAL
    for who in (dana, frank):
        (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
        assert "Approval needed" in mail.text and "level 1 of 1" in mail.text
