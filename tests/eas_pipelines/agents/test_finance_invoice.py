"""finance_invoice_processing end to end: real PostgreSQL, Redis and Dagster instance."""

from __future__ import annotations

import uuid

import dagster as dg
import pytest

from eas_pipelines.agents import finance_invoice_processing
from eas_pipelines.resources.connectors.ledger import SandboxLedger
from eas_pipelines.resources.connectors.notifications import SandboxNotifier
from eas_pipelines.resources.connectors.purchase_orders import SandboxPurchaseOrders
from eas_pipelines.runs import TAG_DUPLICATE
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import Sandbox, entity, queued_request, run_workflow

INTENT = "finance.invoice_process"


def invoice_request(
    store: RequestStore, vendor: str, amount: str, invoice_id: str | None = None, **extra: str
):
    invoice_id = invoice_id or f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Please process {invoice_id} from {vendor} for {amount}"
    entities = [
        entity(text, "invoice_id", invoice_id),
        entity(text, "vendor", vendor),
        entity(text, "amount", amount),
    ]
    return queued_request(store, text, INTENT, entities, **extra), invoice_id


def actions(store: RequestStore, request_id: str, actor: str | None = None) -> list[str]:
    return [e.action for e in store.audit_trail(request_id) if actor is None or e.actor == actor]


def test_invoice_under_threshold_is_posted_against_the_vendors_po(
    store, eas_resources, dagster_instance, sandbox
):
    vendor = sandbox.vendor("Globex")
    small_po = sandbox.purchase_order(vendor, 2_000)
    big_po = sandbox.purchase_order(vendor, 9_000)
    record, invoice_id = invoice_request(store, vendor, "$1,850.50")

    result = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert done.run_ids == (result.run_id,)
    postings = SandboxLedger(sandbox.engine).postings(request_id=record.id)
    assert [(p.invoice_id, p.vendor, p.amount, p.currency, p.po_number) for p in postings] == [
        (invoice_id, vendor, 1850.5, "USD", small_po)  # the smallest open PO that covers it
    ]
    orders = SandboxPurchaseOrders(sandbox.engine)
    assert orders.get(small_po).amount_invoiced == pytest.approx(1850.5)
    assert orders.get(big_po).amount_invoiced == 0
    sent = SandboxNotifier(sandbox.engine).sent(request_id=record.id)
    assert {n.recipient for n in sent} == {record.client_id, "#finance"}
    assert {n.channel for n in sent} == {"email", "chat"}
    steps = actions(store, record.id, actor="finance")
    for step in (
        "request.running",
        "invoice.extracted",
        "invoice.duplicate_check",
        "invoice.po_matched",
        "approval.not_required",
        "ledger.posted",
        "notifications.sent",
        "request.succeeded",
        "workflow.completed",
    ):
        assert step in steps
    assert all(
        e.detail.get("run_id") == result.run_id
        for e in store.audit_trail(record.id)
        if e.action.startswith(("invoice.", "ledger.", "workflow."))
    )


def test_invoice_over_threshold_waits_for_approval_then_posts(
    store, eas_resources, dagster_instance, sandbox
):
    vendor = sandbox.vendor("Acme")
    po = sandbox.purchase_order(vendor, 50_000)
    record, _ = invoice_request(store, vendor, "$12,400")

    first = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert first.success  # the run ends; nothing stays running while a person decides
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    skipped = {e.step_key for e in first.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert {"post_invoice", "notify_invoice_posted", "complete_request"} <= skipped
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "finance_manager"
    assert approval.deadline > approval.created_at
    ledger = SandboxLedger(sandbox.engine)
    assert ledger.postings(request_id=record.id) == []
    assert [n.recipient for n in SandboxNotifier(sandbox.engine).sent(request_id=record.id)] == [
        "finance_manager"
    ]

    store.decide(record.id, "approved", "omar.haddad", "within budget")
    context = dg.build_sensor_context(instance=dagster_instance, resources=eas_resources)
    approval_resume_sensor.evaluate_tick(context)
    resumed = store.get(record.id)
    assert resumed.status is Status.QUEUED
    assert resumed.lane.value == "standard"  # no live fast-lane worker in this test

    second = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert second.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert done.run_ids == (first.run_id, second.run_id)
    (posting,) = ledger.postings(request_id=record.id)
    assert (posting.amount, posting.po_number) == (12400.0, po)
    assert "approval.granted" in actions(store, record.id, actor="finance")


def test_rejected_invoice_is_never_posted(store, eas_resources, dagster_instance, sandbox):
    vendor = sandbox.vendor("Hooli")
    sandbox.purchase_order(vendor, 150_000)
    record, _ = invoice_request(store, vendor, "$99,000")
    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    store.decide(record.id, "rejected", "omar.haddad", "not budgeted")
    approval_resume_sensor.evaluate_tick(
        dg.build_sensor_context(instance=dagster_instance, resources=eas_resources)
    )

    assert store.get(record.id).status is Status.REJECTED
    assert SandboxLedger(sandbox.engine).postings(request_id=record.id) == []


def test_duplicate_invoice_fails_naming_the_first_request(store, eas_resources, dagster_instance, sandbox):
    vendor = sandbox.vendor("Initech")
    sandbox.purchase_order(vendor, 20_000)
    first, invoice_id = invoice_request(store, vendor, "$2,000")
    assert run_workflow(finance_invoice_processing, first.id, dagster_instance, eas_resources, store).success
    # The same invoice again, the vendor spelled differently.
    second, _ = invoice_request(store, vendor.replace(" Corp", ""), "$2,000", invoice_id=invoice_id)

    result = run_workflow(finance_invoice_processing, second.id, dagster_instance, eas_resources, store)

    assert result.success  # a business refusal is not a run failure: nothing to retry
    refused = store.get(second.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith(f"duplicate of {first.id}")
    assert SandboxLedger(sandbox.engine).postings(request_id=second.id) == []
    (notice,) = SandboxNotifier(sandbox.engine).sent(request_id=second.id)
    assert notice.recipient == second.client_id and first.id in notice.body


def test_invoice_without_a_covering_po_fails(store, eas_resources, dagster_instance, sandbox):
    vendor = sandbox.vendor("Northwind")
    sandbox.purchase_order(vendor, 1_000)
    sandbox.purchase_order(vendor, 10_000, status="closed")
    record, _ = invoice_request(store, vendor, "$5,000")

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith(f"no open purchase order of {vendor} covers 5,000.00 USD")


def test_quoted_po_within_tolerance_is_accepted(store, eas_resources, dagster_instance, sandbox):
    vendor = sandbox.vendor("Contoso")
    po = sandbox.purchase_order(vendor, 1_000)
    invoice_id = f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Match invoice {invoice_id} against {po} and post it: {vendor}, $1,040"
    entities = [
        entity(text, "invoice_id", invoice_id),
        entity(text, "po_number", po),
        entity(text, "vendor", vendor),
        entity(text, "amount", "$1,040"),
    ]
    record = queued_request(store, text, INTENT, entities)

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED  # 4% over the PO: inside the 5% tolerance
    (posting,) = SandboxLedger(sandbox.engine).postings(request_id=record.id)
    assert posting.po_number == po


def test_missing_fields_fail_with_the_list(store, eas_resources, dagster_instance):
    text = "process invoice INV-77120"
    record = queued_request(store, text, INTENT, [entity(text, "invoice_id", "INV-77120")])

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error == "missing required invoice fields: vendor, amount"


def test_duplicate_delivery_fails_at_start_without_side_effects(
    store, eas_resources, dagster_instance, sandbox
):
    vendor = sandbox.vendor("Fabrikam")
    sandbox.purchase_order(vendor, 5_000)
    record, _ = invoice_request(store, vendor, "$300")
    first = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)
    assert first.success
    trail_before = store.audit_trail(record.id)

    again = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert not again.success
    (failure,) = [e for e in again.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "start_request"
    assert "duplicate delivery" in failure.event_specific_data.error.message
    assert dagster_instance.get_run_by_id(again.run_id).tags[TAG_DUPLICATE] == "true"
    after = store.get(record.id)
    assert after.status is Status.SUCCEEDED and after.run_ids == (first.run_id,)
    assert store.audit_trail(record.id) == trail_before
    assert len(SandboxLedger(sandbox.engine).postings(request_id=record.id)) == 1


def test_run_on_a_request_another_run_holds_does_nothing(store, eas_resources, dagster_instance, sandbox):
    vendor = sandbox.vendor("Tailspin")
    sandbox.purchase_order(vendor, 5_000)
    record, _ = invoice_request(store, vendor, "$400")
    store.transition(
        record.id, Status.RUNNING, actor="worker-1", expected=Status.QUEUED, run_id="other", attempt=True
    )

    result = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING
    assert SandboxLedger(sandbox.engine).postings(request_id=record.id) == []
    assert SandboxNotifier(sandbox.engine).sent(request_id=record.id) == []


def test_sandbox_fixture_is_isolated(sandbox: Sandbox):
    assert sandbox.vendor() != Sandbox(sandbox.engine).vendor()
