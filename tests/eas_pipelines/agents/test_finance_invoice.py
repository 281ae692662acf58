"""finance_invoice_processing end to end: real PostgreSQL, Redis, Dagster instance and the SAP emulator.

Each test gets suppliers and purchase orders of its own in the SAP emulator (a supplier record put
into the emulator's records, POs created through the SAP client with a fresh number), so that no
two tests share a PO's open amount or an invoice reference. What the workflow did is read back as
finance would: SAP's supplier invoices and POs through the connector's client, the notifications
from the Slack and email emulators.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest

from eas_pipelines.agents import finance_invoice_processing
from eas_pipelines.agents.finance.invoice import supplier_name_candidates
from eas_pipelines.agents.finance.jobs import POSTING_STEP
from eas_pipelines.agents.notifications import is_team_channel
from eas_pipelines.connectors.sap import (
    NewPurchaseOrderLine,
    PurchaseOrder,
    SapClient,
    SupplierInvoice,
    invoice_marker,
)
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.runs import TAG_DUPLICATE
from eas_pipelines.sensors import approval_resume_sensor
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received
from tests.support.vendor_clients import reader, sap_resource

INTENT = "finance.invoice_process"


class SapData:
    """Fresh SAP reference data for one test, and what the workflow posted there."""

    def __init__(self, sandbox_session: Any, client: SapClient) -> None:
        self.records = sandbox_session.sandbox.records
        self.client = client
        self.tag = uuid.uuid4().hex[:6].upper()

    def supplier(self, name: str = "Supplies") -> str:
        """A new supplier in SAP's supplier master (laid out as the emulator's seed); its name."""
        full = f"{name} {self.tag} Corp"
        number = f"9{uuid.uuid4().int % 10**9:09d}"
        self.records.put("sap", "A_Supplier", number, {"Supplier": number, "SupplierName": full})
        return full

    def purchase_order(
        self, supplier: str, amount: float, *, currency: str = "USD", closed: bool = False
    ) -> str:
        """A one-item PO of ``supplier`` for ``amount``; ``closed``: its item finally invoiced."""
        number = f"PO-{uuid.uuid4().hex[:8].upper()}"
        line = NewPurchaseOrderLine(text="test order", net_price=Decimal(str(amount)))
        self.client.create_purchase_order(
            supplier, [line], currency, idempotency_key=f"test-po:{number}", po_number=number
        )
        if closed:  # the API cannot set the final-invoice flag: as SAP shows a closed PO
            order = self.records.get("sap", "A_PurchaseOrder", number)
            assert order is not None
            for item in order["to_PurchaseOrderItem"]:
                item["IsFinallyInvoiced"] = True
            self.records.put("sap", "A_PurchaseOrder", number, order)
        return number

    def po(self, number: str) -> PurchaseOrder:
        found = self.client.purchase_order(number)
        assert found is not None, number
        return found

    def invoices_of(self, request_id: str) -> list[dict[str, Any]]:
        """The supplier invoices (emulator records) the request's workflow posted: those carrying its
        marker, whatever their supplier or reference."""
        marker = invoice_marker(f"{request_id}:{POSTING_STEP}")
        return [
            record
            for record in self.records.all("sap", "A_SupplierInvoice")
            if record.get("DocumentHeaderText") == marker
        ]

    def invoice(self, supplier: str, invoice_id: str) -> SupplierInvoice | None:
        return self.client.supplier_invoice(supplier, invoice_id)


@pytest.fixture
def sap(sandbox_session, reading: dict) -> Iterator[SapData]:
    with reader(sap_resource(sandbox_session.env, **reading)) as client:
        yield SapData(sandbox_session, client)


@pytest.fixture
def inbox(sandbox_session, redis_url: str, redis_key_prefix: str):
    """What a recipient got about a request: "#finance" read from Slack, a person's email otherwise.

    A channel is read by its ID (``conversations.history`` takes IDs only, as Slack does), which
    ``notifications_support.received`` does not look up; people go through it.
    """
    env = sandbox_session.env
    slack = SlackResource(
        token=env["EAS_SLACK_BOT_TOKEN"],
        base_url=env["EAS_SLACK_URL"],
        ca_bundle=env["EAS_CONNECTOR_CA_BUNDLE"],
        redis_url=redis_url,
        breaker_prefix=f"{redis_key_prefix}reader-circuit",
    )

    def read(recipient: str, request_id: str) -> list[str]:
        if is_team_channel(recipient):
            client = slack.client()
            texts = [m.get("text", "") for m in client.history(client.channel_id(recipient))][::-1]
            return [text for text in texts if request_id in text]
        return [r.text for r in received(sandbox_session, redis_url, recipient, request_id=request_id)]

    return read


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


def posted_document(store: RequestStore, request_id: str) -> str:
    """The SAP document (``SI<number>/<year>``) the request's posting step recorded in its audit trail."""
    (entry,) = [e for e in store.audit_trail(request_id) if e.action == "ledger.posted"]
    return entry.detail["sap_invoice"]


def test_invoice_under_threshold_is_posted_against_the_vendors_po(
    store, eas_resources, dagster_instance, sap, inbox
):
    vendor = sap.supplier("Globex")
    small_po = sap.purchase_order(vendor, 2_000)
    big_po = sap.purchase_order(vendor, 9_000)
    record, invoice_id = invoice_request(store, vendor, "$1,850.50")

    result = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert done.run_ids == (result.run_id,)
    (posted,) = sap.invoices_of(record.id)
    invoice = sap.invoice(vendor, invoice_id)
    assert invoice is not None and invoice.invoice_number == posted["SupplierInvoice"]
    assert (invoice.invoice_reference, invoice.amount, invoice.currency, invoice.po_numbers) == (
        invoice_id,
        Decimal("1850.50"),
        "USD",
        [small_po],  # the smallest open PO that covers it
    )
    assert posted_document(store, record.id) == f"SI{invoice.invoice_number}/{invoice.fiscal_year}"
    assert sap.po(small_po).invoiced_amount == Decimal("1850.50")
    assert sap.po(small_po).open_amount == Decimal("149.50")
    assert sap.po(big_po).invoiced_amount == 0
    assert inbox(record.client_id, record.id) and inbox("#finance", record.id)
    assert posted_document(store, record.id) in inbox("#finance", record.id)[0]
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
    store, eas_resources, dagster_instance, sap, inbox
):
    vendor = sap.supplier("Acme")
    po = sap.purchase_order(vendor, 50_000)
    record, invoice_id = invoice_request(store, vendor, "$12,400")

    first = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert first.success  # the run ends; nothing stays running while a person decides
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    skipped = {e.step_key for e in first.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert {"post_invoice", "notify_invoice_posted"} <= skipped
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "finance_manager"
    assert approval.deadline > approval.created_at
    assert sap.invoices_of(record.id) == [] and sap.invoice(vendor, invoice_id) is None
    assert len(inbox("finance_manager", record.id)) == 1
    assert inbox(record.client_id, record.id) == [] and inbox("#finance", record.id) == []

    store.decide(record.id, "approved", "omar.haddad", "within budget")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)
    resumed = store.get(record.id)
    assert resumed.status is Status.QUEUED
    assert resumed.lane.value == "standard"  # no live fast-lane worker in this test

    second = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert second.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert done.run_ids == (first.run_id, second.run_id)
    (posted,) = sap.invoices_of(record.id)
    (item,) = posted["to_SuplrInvcItemPurOrdRef"]
    assert (Decimal(posted["InvoiceGrossAmount"]), item["PurchaseOrder"]) == (Decimal("12400.00"), po)
    assert sap.po(po).open_amount == Decimal("37600.00")
    assert "approval.granted" in actions(store, record.id, actor="finance")


def test_rejected_invoice_is_never_posted(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Hooli")
    sap.purchase_order(vendor, 150_000)
    record, invoice_id = invoice_request(store, vendor, "$99,000")
    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    store.decide(record.id, "rejected", "omar.haddad", "not budgeted")
    with dg.build_sensor_context(instance=dagster_instance, resources=eas_resources) as context:
        approval_resume_sensor.evaluate_tick(context)

    assert store.get(record.id).status is Status.REJECTED
    assert sap.invoices_of(record.id) == [] and sap.invoice(vendor, invoice_id) is None


def test_duplicate_invoice_fails_naming_the_invoice_the_first_request_posted(
    store, eas_resources, dagster_instance, sap, inbox
):
    vendor = sap.supplier("Initech")
    sap.purchase_order(vendor, 20_000)
    first, invoice_id = invoice_request(store, vendor, "$2,000")
    assert run_workflow(finance_invoice_processing, first.id, dagster_instance, eas_resources, store).success
    document = posted_document(store, first.id)
    # The same invoice again, the vendor spelled differently.
    second, _ = invoice_request(store, vendor.replace(" Corp", ""), "$2,000", invoice_id=invoice_id)

    result = run_workflow(finance_invoice_processing, second.id, dagster_instance, eas_resources, store)

    assert result.success  # a business refusal is not a run failure: nothing to retry
    refused = store.get(second.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith(f"duplicate of SAP supplier invoice {document}: ")
    assert "by another request" in refused.last_error
    assert "invoice.duplicate_check" not in actions(store, second.id)
    assert sap.invoices_of(second.id) == []
    assert len(sap.invoices_of(first.id)) == 1
    (notice,) = inbox(second.client_id, second.id)
    assert document in notice


def test_invoice_its_own_request_already_posted_is_no_duplicate(store, eas_resources, dagster_instance, sap):
    """A run after an earlier run of the same request posted (its answer lost, the op or request
    retried) finds that invoice by the request's key: it goes on, and SAP still holds one invoice."""
    vendor = sap.supplier("Proseware")
    po = sap.purchase_order(vendor, 4_000)
    record, invoice_id = invoice_request(store, vendor, "$640")
    earlier = sap.client.post_supplier_invoice(
        vendor, invoice_id, Decimal("640"), "USD", po, date.today(), f"{record.id}:{POSTING_STEP}"
    )

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    (posted,) = sap.invoices_of(record.id)
    assert posted["SupplierInvoice"] == earlier.invoice_number
    assert posted_document(store, record.id) == f"SI{earlier.invoice_number}/{earlier.fiscal_year}"
    assert sap.po(po).invoiced_amount == Decimal("640.00")


def test_invoice_without_a_covering_po_fails(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Northwind")
    sap.purchase_order(vendor, 1_000)
    sap.purchase_order(vendor, 10_000, closed=True)
    sap.purchase_order(vendor, 10_000, currency="EUR")
    record, _ = invoice_request(store, vendor, "$5,000")

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error.startswith(f"no open purchase order of {vendor} covers 5,000.00 USD")
    assert "(2 open order(s) checked" in refused.last_error  # the closed one is not open
    assert sap.invoices_of(record.id) == []


def test_open_amount_counts_what_earlier_invoices_took(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Wingtip")
    po = sap.purchase_order(vendor, 2_000)
    first, _ = invoice_request(store, vendor, "$1,500")
    assert run_workflow(finance_invoice_processing, first.id, dagster_instance, eas_resources, store).success
    assert store.get(first.id).status is Status.SUCCEEDED
    invoice_id = f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Post invoice {invoice_id} from {vendor} against {po} for $1,000"
    entities = [
        entity(text, "invoice_id", invoice_id),
        entity(text, "po_number", po),
        entity(text, "vendor", vendor),
        entity(text, "amount", "$1,000"),
    ]
    second = queued_request(store, text, INTENT, entities)

    assert run_workflow(finance_invoice_processing, second.id, dagster_instance, eas_resources, store).success

    refused = store.get(second.id)
    assert refused.status is Status.FAILED
    assert refused.last_error == (
        f"purchase order {po} has 500.00 USD left, the invoice is 1,000.00 USD (tolerance 5%)"
    )
    assert sap.invoices_of(second.id) == []


def test_quoted_closed_po_is_refused(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Lucerne")
    po = sap.purchase_order(vendor, 5_000, closed=True)
    invoice_id = f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Post invoice {invoice_id} from {vendor} against {po} for $100"
    entities = [
        entity(text, "invoice_id", invoice_id),
        entity(text, "po_number", po),
        entity(text, "vendor", vendor),
        entity(text, "amount", "$100"),
    ]
    record = queued_request(store, text, INTENT, entities)

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).last_error == f"purchase order {po} is closed"
    assert sap.invoices_of(record.id) == []


def test_quoted_po_within_tolerance_is_accepted(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Contoso")
    po = sap.purchase_order(vendor, 1_000)
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
    (posted,) = sap.invoices_of(record.id)
    assert [item["PurchaseOrder"] for item in posted["to_SuplrInvcItemPurOrdRef"]] == [po]
    assert sap.po(po).open_amount == 0  # over-invoiced within tolerance: nothing left


def test_quoted_po_gives_the_vendor_when_the_text_names_none(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Adatum")
    po = sap.purchase_order(vendor, 3_000)
    invoice_id = f"INV-{uuid.uuid4().hex[:6].upper()}"
    text = f"Pay invoice {invoice_id} on {po}, $700"
    entities = [
        entity(text, "invoice_id", invoice_id),
        entity(text, "po_number", po),
        entity(text, "amount", "$700"),
    ]
    record = queued_request(store, text, INTENT, entities)

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    invoice = sap.invoice(vendor, invoice_id)
    assert invoice is not None and invoice.po_numbers == [po]


def test_unknown_supplier_fails_without_posting(store, eas_resources, dagster_instance, sap):
    vendor = f"Nobody {sap.tag} Corp"  # never put into SAP's supplier master
    record, _ = invoice_request(store, vendor, "$100")

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error == f"{vendor} is not a supplier in SAP"
    assert sap.invoices_of(record.id) == []


def test_missing_fields_fail_with_the_list(store, eas_resources, dagster_instance):
    text = "process invoice INV-77120"
    record = queued_request(store, text, INTENT, [entity(text, "invoice_id", "INV-77120")])

    assert run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert refused.last_error == "missing required invoice fields: vendor, amount"


def test_duplicate_delivery_fails_at_start_without_side_effects(store, eas_resources, dagster_instance, sap):
    vendor = sap.supplier("Fabrikam")
    sap.purchase_order(vendor, 5_000)
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
    assert len(sap.invoices_of(record.id)) == 1


def test_run_on_a_request_another_run_holds_does_nothing(store, eas_resources, dagster_instance, sap, inbox):
    vendor = sap.supplier("Tailspin")
    sap.purchase_order(vendor, 5_000)
    record, invoice_id = invoice_request(store, vendor, "$400")
    store.transition(
        record.id, Status.RUNNING, actor="worker-1", expected=Status.QUEUED, run_id="other", attempt=True
    )

    result = run_workflow(finance_invoice_processing, record.id, dagster_instance, eas_resources, store)

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING
    assert sap.invoices_of(record.id) == [] and sap.invoice(vendor, invoice_id) is None
    assert inbox(record.client_id, record.id) == [] and inbox("#finance", record.id) == []


def test_sap_test_data_is_isolated(sap, sandbox_session):
    other = SapData(sandbox_session, sap.client)
    vendor, other_vendor = sap.supplier(), other.supplier()
    assert vendor != other_vendor
    open_po, closed_po = sap.purchase_order(vendor, 750), sap.purchase_order(vendor, 750, closed=True)
    assert open_po != closed_po
    assert (sap.po(open_po).supplier_name, sap.po(open_po).open_amount, sap.po(open_po).closed) == (
        vendor,
        Decimal("750.00"),
        False,
    )
    assert (sap.po(closed_po).open_amount, sap.po(closed_po).closed) == (0, True)
    assert sap.client.purchase_orders_of_supplier(other_vendor) == []


def test_supplier_spellings_reach_the_masters_one():
    first = supplier_name_candidates("Initech 1A2B3C")[:3]
    assert first == ["Initech 1A2B3C", "Initech 1A2B3C Corp", "Initech 1A2B3C Inc"]
    assert "Acme Corp" in supplier_name_candidates("acme corp.")
    assert "Initech Ltd" in supplier_name_candidates("Initech")
    assert supplier_name_candidates("Acme Corp")[0] == "Acme Corp"  # the exact name first: one look-up
