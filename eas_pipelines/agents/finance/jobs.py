"""Finance agent: ``finance_invoice_processing``.

extract fields -> duplicate check -> purchase-order match -> approval (amount over the
threshold, by ``finance_manager``) -> ledger posting -> notifications -> succeeded.

Missing required fields end the request ``failed`` with the list of what is missing, rather than
``needs_review``: the state machine has no running -> needs_review edge, and the requester is the
one who can say which invoice they meant (they are notified and resubmit).
"""

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.finance.invoice import Invoice, extract_invoice, match_purchase_order, money
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import (
    LedgerResource,
    PurchaseOrderResource,
    WorkflowPolicyResource,
)
from eas_pipelines.resources.connectors.ledger import DuplicatePosting, JournalEntry
from eas_pipelines.routing import INVOICE_JOB, ROUTES

APPROVER_ROLE = ROUTES["finance.invoice_process"].approver_role or "finance_manager"
FINANCE_CHANNEL = "#finance"


@workflow_step(Invoice)
def extract_invoice_fields(
    item: WorkItem, *, purchase_orders: PurchaseOrderResource, policy: WorkflowPolicyResource
) -> Step:
    """Read vendor, invoice id, amount, currency, PO and due date from the request's entities."""
    po_vendor = None
    if item.value("po_number") and not item.value("vendor"):
        po = purchase_orders.get(item.value("po_number"))
        po_vendor = po.vendor if po is not None else None
    invoice = extract_invoice(item, policy.default_currency, po_vendor)
    if isinstance(invoice, list):
        return Step.refused(f"missing required invoice fields: {', '.join(invoice)}", missing=invoice)
    return Step.passed(
        invoice,
        "invoice.extracted",
        vendor=invoice.vendor,
        invoice_id=invoice.invoice_id,
        amount=invoice.amount,
        currency=invoice.currency,
        po_number=invoice.po_number,
        due_date=invoice.due_date.isoformat() if invoice.due_date else None,
    )


@workflow_step(Invoice)
def check_duplicate_invoice(invoice: Invoice, *, ledger: LedgerResource) -> Step:
    """Refuse an invoice the ledger already holds for another request (paying twice is the risk)."""
    existing = ledger.find_posting(invoice.vendor, invoice.invoice_id)
    if existing is not None and existing.request_id != invoice.item.request_id:
        reason = (
            f"duplicate of {existing.request_id}: {invoice.label} was already posted on "
            f"{existing.posted_at:%Y-%m-%d} (posting {existing.id})"
        )
        return Step.refused(reason, duplicate_of=existing.request_id)
    return Step.passed(invoice, "invoice.duplicate_check", duplicate=False)


@workflow_step(Invoice)
def match_invoice_to_po(
    invoice: Invoice, *, purchase_orders: PurchaseOrderResource, policy: WorkflowPolicyResource
) -> Step:
    """Find the vendor's open PO that covers the amount (the quoted one, if a PO number is given)."""
    if invoice.po_number:
        quoted = purchase_orders.get(invoice.po_number)
        candidates = [quoted] if quoted is not None else []
    else:
        candidates = purchase_orders.by_vendor(invoice.vendor)
    po, why = match_purchase_order(invoice, candidates, policy.po_match_tolerance)
    if po is None:
        return Step.refused(why)
    return Step.passed(
        invoice.with_(matched_po=po.po_number),
        "invoice.po_matched",
        po_number=po.po_number,
        why=why,
        po_remaining=po.remaining,
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


@workflow_step(Invoice)
def post_invoice(invoice: Invoice, *, ledger: LedgerResource) -> Step:
    """Book the invoice (expenses to payables) once: the posting is keyed by request id."""
    item = invoice.item
    entry = JournalEntry(
        vendor=invoice.vendor,
        invoice_id=invoice.invoice_id,
        amount=invoice.amount,
        currency=invoice.currency,
        po_number=invoice.matched_po,
        memo=f"EAS request {item.request_id}",
        due_date=invoice.due_date,
    )
    try:
        posting = ledger.post_entry(entry, request_id=item.request_id, idempotency_key=item.key("ledger"))
    except DuplicatePosting as exc:
        return Step.refused(
            f"duplicate of {exc.existing.request_id}: {exc}", duplicate_of=exc.existing.request_id
        )
    booked = {
        "posting_id": posting.id,
        "po_number": posting.po_number,
        "amount": posting.amount,
        "currency": posting.currency,
    }
    return Step.passed(invoice.with_(posting_id=posting.id), "ledger.posted", **booked)


@workflow_step(WorkResult, optional=False)
def notify_invoice_posted(invoice: Invoice, *, notifications: NotificationsResource) -> Step:
    """Tell the requester and the finance channel what was booked."""
    item = invoice.item
    summary = f"posted {invoice.label} against {invoice.matched_po} (posting {invoice.posting_id})"
    body = f"{summary[0].upper()}{summary[1:]}. Request {item.request_id}."
    title = f"Invoice {invoice.invoice_id} posted"
    recipients = notify_all(
        notifications,
        item,
        [item.requester, FINANCE_CHANNEL],
        title,
        body,
        key="posted",
        detail={"posting_id": invoice.posting_id},
    )
    detail = {"posting_id": invoice.posting_id, "po_number": invoice.matched_po}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


finance_invoice_processing = workflow_job(
    name=INVOICE_JOB,
    agent="finance",
    description="Process a vendor invoice: validate, de-duplicate, match a PO, approve, post, notify.",
    steps=(
        extract_invoice_fields,
        check_duplicate_invoice,
        match_invoice_to_po,
        approve_invoice,
        post_invoice,
        notify_invoice_posted,
    ),
)
