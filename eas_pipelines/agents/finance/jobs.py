"""Finance agent: ``finance_invoice_processing``, on SAP S/4HANA.

extract fields (the vendor found in SAP's supplier master) -> duplicate check (SAP's supplier
invoice look-up) -> purchase-order match (SAP's open amount) -> approval (amount over the threshold,
by ``finance_manager``) -> supplier invoice posted in SAP -> notifications -> succeeded.

Missing required fields end the request ``failed`` with the list of what is missing, rather than
``needs_review``: the state machine has no running -> needs_review edge, and the requester is the
one who can say which invoice they meant (they are notified and resubmit).

SAP has no idempotency key; the connector marks each supplier invoice with a digest of the
request's key (:data:`POSTING_STEP`), so that a re-run of the same request finds its own invoice
(and goes on) while an invoice another request posted is refused as a duplicate.
"""

from datetime import date
from decimal import Decimal

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.finance.invoice import (
    Invoice,
    duplicate_reason,
    extract_invoice,
    match_purchase_order,
    money,
    open_amount,
    sap_document,
    supplier_name_candidates,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import CompletedStep
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.sap import DuplicateInvoice, SapClient, SapResource, Supplier, invoice_marker
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import INVOICE_JOB, ROUTES

APPROVER_ROLE = ROUTES["finance.invoice_process"].approver_role or "finance_manager"
FINANCE_CHANNEL = "#finance"
POSTING_STEP = "sap_invoice"
"""The step name in the posting's idempotency key (``<request id>:sap_invoice``)."""


def posting_key(item: WorkItem) -> str:
    """The idempotency key of the request's one supplier invoice in SAP."""
    return item.key(POSTING_STEP)


def find_supplier(sap: SapClient, vendor: str) -> Supplier | None:
    """The SAP supplier the request's vendor names: SAP matches names exactly, so the usual
    spellings of the name are tried in turn ("Initech" finds "Initech Ltd")."""
    for name in supplier_name_candidates(vendor):
        supplier = sap.supplier_by_name(name)
        if supplier is not None:
            return supplier
    return None


@workflow_step(Invoice)
def extract_invoice_fields(item: WorkItem, *, sap: SapResource, policy: WorkflowPolicyResource) -> Step:
    """Read vendor, invoice id, amount, currency, PO and due date from the request's entities, and
    find the vendor in SAP's supplier master (an invoice of an unknown supplier cannot be posted)."""
    client = sap.client()
    po_vendor = None
    if item.value("po_number") and not item.value("vendor"):
        po = client.purchase_order(item.value("po_number"))
        po_vendor = po.supplier_name if po is not None else None
    invoice = extract_invoice(item, policy.default_currency, po_vendor)
    if isinstance(invoice, list):
        return Step.refused(f"missing required invoice fields: {', '.join(invoice)}", missing=invoice)
    supplier = find_supplier(client, invoice.vendor)
    if supplier is None:
        return Step.refused(f"{invoice.vendor} is not a supplier in SAP", vendor=invoice.vendor)
    invoice = invoice.with_(supplier_id=supplier.supplier_id, supplier_name=supplier.name)
    return Step.passed(
        invoice,
        "invoice.extracted",
        vendor=invoice.vendor,
        supplier_id=supplier.supplier_id,
        supplier_name=supplier.name,
        invoice_id=invoice.invoice_id,
        amount=invoice.amount,
        currency=invoice.currency,
        po_number=invoice.po_number,
        due_date=invoice.due_date.isoformat() if invoice.due_date else None,
    )


@workflow_step(Invoice)
def check_duplicate_invoice(invoice: Invoice, *, sap: SapResource) -> Step:
    """Refuse an invoice SAP already holds for another request (paying twice is the risk).

    The supplier's invoice reference is the key SAP checks; an invoice carrying this request's own
    marker is this request's (a re-run after approval) and is no duplicate.
    """
    existing = sap.client().supplier_invoice(invoice.supplier_id or invoice.vendor, invoice.invoice_id)
    if existing is not None and existing.header_text != invoice_marker(posting_key(invoice.item)):
        return Step.refused(duplicate_reason(invoice, existing), duplicate_of=sap_document(existing))
    return Step.passed(
        invoice,
        "invoice.duplicate_check",
        duplicate=False,
        sap_invoice=sap_document(existing) if existing is not None else None,
    )


@workflow_step(Invoice)
def match_invoice_to_po(invoice: Invoice, *, sap: SapResource, policy: WorkflowPolicyResource) -> Step:
    """Find the vendor's open PO that covers the amount (the quoted one, if a PO number is given)."""
    client = sap.client()
    if invoice.po_number:
        quoted = client.purchase_order(invoice.po_number)
        candidates = [quoted] if quoted is not None else []
    else:
        candidates = client.purchase_orders_of_supplier(invoice.supplier_name or invoice.vendor)
    po, why = match_purchase_order(invoice, candidates, policy.po_match_tolerance)
    if po is None:
        return Step.refused(why)
    return Step.passed(
        invoice.with_(matched_po=po.po_number),
        "invoice.po_matched",
        po_number=po.po_number,
        why=why,
        po_remaining=open_amount(po),
    )


@workflow_step(Invoice)
def approve_invoice(invoice: Invoice, *, policy: WorkflowPolicyResource) -> Step:
    """Amounts over the threshold wait for ``finance_manager``; the run ends until they decide."""
    threshold = policy.approval_amount_threshold
    if invoice.amount <= threshold:
        return Step.passed(invoice, "approval.not_required", amount=invoice.amount, threshold=threshold)
    return Step.needs_approval(
        approver=APPROVER_ROLE,
        reason=f"{invoice.label} exceeds the approval threshold of {money(threshold, invoice.currency)}",
        deadline_hours=policy.approval_deadline_hours,
    )


def reverse_posted_invoice(done: CompletedStep, *, sap: SapResource) -> str | None:
    """Compensation of :func:`post_invoice`: reverse the supplier invoice in SAP (``Cancel``).

    The document comes from the step's ``ledger.posted`` detail (``SI<number>/<fiscal year>``); SAP
    answers an invoice already reversed with its reversal, so a retried rollback reverses once.
    """
    document = str(done.detail.get("sap_invoice") or "")
    number, _, year = document.removeprefix("SI").partition("/")
    if not number or not year:
        return None
    reversal = sap.client().cancel_supplier_invoice(number, year)
    return (
        f"SAP supplier invoice {document} reversed by "
        f"SI{reversal.reverse_document}/{reversal.reverse_fiscal_year}"
    )


@workflow_step(Invoice, compensate=reverse_posted_invoice)
def post_invoice(invoice: Invoice, *, sap: SapResource) -> Step:
    """Post the supplier invoice in SAP against the matched PO, once: keyed by the request.

    A second invoice with the same supplier reference (another request raced past the duplicate
    check) is refused by SAP and ends the request as a duplicate; any other refusal (the PO or the
    supplier is gone) ends it too, with SAP's reason. An outage propagates: the op retries.
    """
    item = invoice.item
    client = sap.client()
    try:
        posted = client.post_supplier_invoice(
            invoice.supplier_id or invoice.vendor,
            invoice.invoice_id,
            Decimal(str(invoice.amount)),
            invoice.currency,
            invoice.matched_po,
            item.requested_on or date.today(),
            posting_key(item),
        )
    except DuplicateInvoice as exc:
        existing = client.supplier_invoice(invoice.supplier_id or invoice.vendor, invoice.invoice_id)
        if existing is None:
            return Step.refused(f"duplicate: {exc}")
        return Step.refused(duplicate_reason(invoice, existing), duplicate_of=sap_document(existing))
    except VendorRejected as exc:
        return Step.refused(f"SAP refused {invoice.label}: {exc}")
    document = sap_document(posted)
    booked = {
        "sap_invoice": document,
        "supplier_id": posted.supplier_id,
        "po_number": invoice.matched_po,
        "amount": float(posted.amount),
        "currency": posted.currency,
    }
    return Step.passed(invoice.with_(sap_invoice=document), "ledger.posted", **booked)


@workflow_step(WorkResult, optional=False)
def notify_invoice_posted(invoice: Invoice, *, notifications: NotificationsResource) -> Step:
    """Tell the requester and the finance channel what was booked."""
    item = invoice.item
    summary = f"posted {invoice.label} against {invoice.matched_po} (SAP invoice {invoice.sap_invoice})"
    body = f"{summary[0].upper()}{summary[1:]}. Request {item.request_id}."
    title = f"Invoice {invoice.invoice_id} posted"
    recipients = notify_all(
        notifications,
        item,
        [item.requester, FINANCE_CHANNEL],
        title,
        body,
        key="posted",
        detail={"sap_invoice": invoice.sap_invoice},
    )
    detail = {"sap_invoice": invoice.sap_invoice, "po_number": invoice.matched_po}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


finance_invoice_processing = workflow_job(
    name=INVOICE_JOB,
    agent="finance",
    description="Process a vendor invoice: validate, de-duplicate, match a PO, approve, post in SAP, notify.",
    steps=(
        extract_invoice_fields,
        check_duplicate_invoice,
        match_invoice_to_po,
        approve_invoice,
        post_invoice,
        notify_invoice_posted,
    ),
)
