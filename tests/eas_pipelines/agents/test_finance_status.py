"""finance_invoice_status end to end against the SAP emulator, plus its look-up rules.

Each test has its own supplier in SAP's supplier master and posts its invoices through the SAP
connector's client (as the invoice workflow would have); the answer is read from the requester's
mailbox in the e-mail emulator.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.finance.status import (
    ANY_VENDOR,
    STATUS_JOB,
    finance_invoice_status,
    status_text,
    wanted_invoices,
)
from eas_pipelines.connectors.sap import SapClient, SupplierInvoice
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

INTENT = "finance.invoice_status"


def item(text: str, *entities: dict) -> WorkItem:
    return WorkItem("r1", "finance", INTENT, text, "c", 1, tuple(entities), 1, "run")


def new_supplier(sandbox_session) -> str:
    """A supplier of this test's own in SAP's supplier master (as the emulator's seed lays them out)."""
    name = f"Status {uuid.uuid4().hex[:6].upper()} Corp"
    number = f"8{uuid.uuid4().int % 10**9:09d}"
    sandbox_session.sandbox.records.put(
        "sap", "A_Supplier", number, {"Supplier": number, "SupplierName": name}
    )
    return name


def post(sap: SapClient, supplier: str, amount: str = "1250.00") -> str:
    """A supplier invoice posted in SAP with a fresh reference; the reference."""
    reference = f"INV-{uuid.uuid4().hex[:6].upper()}"
    sap.post_supplier_invoice(
        supplier, reference, Decimal(amount), "USD", None, date(2026, 3, 2), f"test:{reference}"
    )
    return reference


def asker() -> str:
    return f"ap.clerk.{uuid.uuid4().hex[:6]}@example.com"


def test_route_runs_the_job():
    assert ROUTES[INTENT].job == STATUS_JOB == finance_invoice_status.name


def test_wanted_invoices_complete_from_what_eas_submitted():
    history = [("Globex", "INV-1"), ("Initech Ltd", "INV-2"), ("Globex Corp", "INV-3")]
    both = item("x", {"type": "vendor", "value": "Hooli"}, {"type": "invoice_id", "value": "INV-9"})
    assert wanted_invoices(both, history) == [("Hooli", "INV-9")]
    # An invoice id alone is asked of SAP by its reference, from any supplier (history not needed).
    assert wanted_invoices(item("x", {"type": "invoice_id", "value": "inv-2"}), history) == [
        (ANY_VENDOR, "INV-2")
    ]
    assert wanted_invoices(item("x", {"type": "vendor", "value": "globex"}), history) == [
        ("Globex", "INV-1"),
        ("Globex Corp", "INV-3"),
    ]
    assert wanted_invoices(item("x", {"type": "invoice_id", "value": "X"}), []) == [(ANY_VENDOR, "X")]
    assert "names no invoice number or vendor" in wanted_invoices(item("did we pay?"), history)


def test_status_words():
    invoice = SupplierInvoice(
        invoice_number="1",
        fiscal_year="2026",
        supplier_id="1",
        invoice_reference="A",
        amount=1,
        currency="USD",
    )
    assert status_text(invoice.model_copy(update={"status": "5"})) == "posted (booked for payment)"
    assert status_text(invoice.model_copy(update={"status": "A"})) == "parked"


def test_status_of_a_quoted_invoice_is_answered_from_sap(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, sap
):
    supplier = new_supplier(sandbox_session)
    reference = post(sap, supplier)
    who = asker()
    text = f"what's the status of invoice {reference} from {supplier}"
    entities = [entity(text, "invoice_id", reference), entity(text, "vendor", supplier)]
    record = queued_request(store, text, INTENT, entities, client_id=who)

    result = run_workflow(finance_invoice_status, record.id, dagster_instance, eas_resources, store)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    assert done.status is Status.SUCCEEDED and f"{reference} posted" in store.history(record.id)[-1].reason
    (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
    assert f"Invoice {reference} from {supplier} (1,250.00 USD): posted (booked for payment)" in mail.text


def test_invoice_id_alone_is_found_in_sap_by_its_reference(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, sap
):
    """No ``finance.invoice_process`` request names it: SAP is asked by the reference alone."""
    supplier = new_supplier(sandbox_session)
    reference = post(sap, supplier, "99.00")
    who = asker()
    text = f"has {reference} been paid yet"
    record = queued_request(store, text, INTENT, [entity(text, "invoice_id", reference)], client_id=who)

    assert run_workflow(finance_invoice_status, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
    assert f"Invoice {reference} from {supplier} (99.00 USD)" in mail.text


def test_invoice_sap_does_not_hold_is_refused(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    supplier = new_supplier(sandbox_session)
    who = asker()
    text = f"status of INV-NOPE1 from {supplier}"
    entities = [entity(text, "invoice_id", "INV-NOPE1"), entity(text, "vendor", supplier)]
    record = queued_request(store, text, INTENT, entities, client_id=who)

    assert run_workflow(finance_invoice_status, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert f"SAP holds no invoice INV-NOPE1 from {supplier}" in refused.last_error
    (mail,) = received(sandbox_session, redis_url, who, request_id=record.id)
    assert "could not be completed" in mail.text


def test_invoice_id_alone_that_sap_does_not_hold_is_refused(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    missing = f"INV-NONE{uuid.uuid4().hex[:4].upper()}"
    who = asker()
    text = f"has {missing} been paid"
    record = queued_request(store, text, INTENT, [entity(text, "invoice_id", missing)], client_id=who)

    assert run_workflow(finance_invoice_status, record.id, dagster_instance, eas_resources, store).success

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert f"SAP holds no invoice {missing} from any supplier" in refused.last_error
