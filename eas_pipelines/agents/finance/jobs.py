"""Finance agent: ``finance_invoice_processing``.

extract fields -> duplicate check -> purchase-order match -> approval (amount over the
threshold, by ``finance_manager``) -> ledger posting -> notifications -> succeeded.

Missing required fields end the request ``failed`` with the list of what is missing, rather than
``needs_review``: the state machine has no running -> needs_review edge, and the requester is the
one who can say which invoice they meant (they are notified and resubmit).
"""

from collections.abc import Iterator

import dagster as dg

from eas_pipelines.agents.common import (
    WorkItem,
    WorkResult,
    approval_gate,
    audit,
    complete_request,
    refuse,
    start_request,
    workflow_job,
)
from eas_pipelines.agents.finance.invoice import Invoice, extract_invoice, match_purchase_order, money
from eas_pipelines.resources import (
    LedgerResource,
    NotificationResource,
    PurchaseOrderResource,
    RequestStoreResource,
    WorkflowPolicyResource,
)
from eas_pipelines.resources.connectors.ledger import DuplicatePosting, JournalEntry
from eas_pipelines.routing import INVOICE_JOB, ROUTES

APPROVER_ROLE = ROUTES["finance.invoice_process"].approver_role or "finance_manager"
FINANCE_CHANNEL = "#finance"


@dg.op(out=dg.Out(Invoice, is_required=False))
def extract_invoice_fields(
    context: dg.OpExecutionContext,
    item: WorkItem,
    store: RequestStoreResource,
    purchase_orders: PurchaseOrderResource,
    notifications: NotificationResource,
    policy: WorkflowPolicyResource,
) -> Iterator[dg.Output]:
    """Read vendor, invoice id, amount, currency, PO and due date from the request's entities."""
    po_vendor = None
    if item.value("po_number") and not item.value("vendor"):
        po = purchase_orders.get(item.value("po_number"))
        po_vendor = po.vendor if po is not None else None
    invoice = extract_invoice(item, policy.default_currency, po_vendor)
    if isinstance(invoice, list):
        refuse(
            context,
            store,
            notifications,
            item,
            f"missing required invoice fields: {', '.join(invoice)}",
            missing=invoice,
        )
        return
    audit(
        store.get_store(),
        item,
        "invoice.extracted",
        vendor=invoice.vendor,
        invoice_id=invoice.invoice_id,
        amount=invoice.amount,
        currency=invoice.currency,
        po_number=invoice.po_number,
        due_date=invoice.due_date.isoformat() if invoice.due_date else None,
    )
    yield dg.Output(invoice)


@dg.op(out=dg.Out(Invoice, is_required=False))
def check_duplicate_invoice(
    context: dg.OpExecutionContext,
    invoice: Invoice,
    store: RequestStoreResource,
    ledger: LedgerResource,
    notifications: NotificationResource,
) -> Iterator[dg.Output]:
    """Refuse an invoice the ledger already holds for another request (paying twice is the risk)."""
    item = invoice.item
    existing = ledger.find_posting(invoice.vendor, invoice.invoice_id)
    if existing is not None and existing.request_id != item.request_id:
        reason = (
            f"duplicate of {existing.request_id}: {invoice.label} was already posted on "
            f"{existing.posted_at:%Y-%m-%d} (posting {existing.id})"
        )
        refuse(context, store, notifications, item, reason, duplicate_of=existing.request_id)
        return
    audit(store.get_store(), item, "invoice.duplicate_check", duplicate=False)
    yield dg.Output(invoice)


@dg.op(out=dg.Out(Invoice, is_required=False))
def match_invoice_to_po(
    context: dg.OpExecutionContext,
    invoice: Invoice,
    store: RequestStoreResource,
    purchase_orders: PurchaseOrderResource,
    notifications: NotificationResource,
    policy: WorkflowPolicyResource,
) -> Iterator[dg.Output]:
    """Find the vendor's open PO that covers the amount (the quoted one, if a PO number is given)."""
    if invoice.po_number:
        quoted = purchase_orders.get(invoice.po_number)
        candidates = [quoted] if quoted is not None else []
    else:
        candidates = purchase_orders.by_vendor(invoice.vendor)
    po, why = match_purchase_order(invoice, candidates, policy.po_match_tolerance)
    if po is None:
        refuse(context, store, notifications, invoice.item, why)
        return
    audit(
        store.get_store(),
        invoice.item,
        "invoice.po_matched",
        po_number=po.po_number,
        why=why,
        po_remaining=po.remaining,
    )
    yield dg.Output(invoice.with_(matched_po=po.po_number))


@dg.op(out=dg.Out(Invoice, is_required=False))
def approve_invoice(
    context: dg.OpExecutionContext,
    invoice: Invoice,
    store: RequestStoreResource,
    notifications: NotificationResource,
    policy: WorkflowPolicyResource,
) -> Iterator[dg.Output]:
    """Amounts over the threshold wait for ``finance_manager``; the run ends until they decide."""
    item = invoice.item
    requests = store.get_store()
    if invoice.amount <= policy.approval_amount_threshold:
        audit(
            requests,
            item,
            "approval.not_required",
            amount=invoice.amount,
            threshold=policy.approval_amount_threshold,
        )
        yield dg.Output(invoice)
        return
    reason = (
        f"{invoice.label} exceeds the approval threshold of "
        f"{money(policy.approval_amount_threshold, invoice.currency)}"
    )
    if approval_gate(
        context,
        requests,
        notifications,
        item,
        approver=APPROVER_ROLE,
        reason=reason,
        deadline_hours=policy.approval_deadline_hours,
    ):
        yield dg.Output(invoice)


@dg.op(out=dg.Out(Invoice, is_required=False))
def post_invoice(
    context: dg.OpExecutionContext,
    invoice: Invoice,
    store: RequestStoreResource,
    ledger: LedgerResource,
    notifications: NotificationResource,
) -> Iterator[dg.Output]:
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
        refuse(
            context,
            store,
            notifications,
            item,
            f"duplicate of {exc.existing.request_id}: {exc}",
            duplicate_of=exc.existing.request_id,
        )
        return
    audit(
        store.get_store(),
        item,
        "ledger.posted",
        posting_id=posting.id,
        po_number=posting.po_number,
        amount=posting.amount,
        currency=posting.currency,
    )
    yield dg.Output(invoice.with_(posting_id=posting.id))


@dg.op
def notify_invoice_posted(
    invoice: Invoice, store: RequestStoreResource, notifications: NotificationResource
) -> WorkResult:
    """Tell the requester and the finance channel what was booked."""
    item = invoice.item
    summary = f"posted {invoice.label} against {invoice.matched_po} (posting {invoice.posting_id})"
    for recipient in (item.requester, FINANCE_CHANNEL):
        notifications.send(
            recipient,
            f"Invoice {invoice.invoice_id} posted",
            f"{summary[0].upper()}{summary[1:]}. Request {item.request_id}.",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:posted:{recipient}"),
            detail={"posting_id": invoice.posting_id},
        )
    audit(store.get_store(), item, "notifications.sent", recipients=[item.requester, FINANCE_CHANNEL])
    return WorkResult(item, summary, {"posting_id": invoice.posting_id, "po_number": invoice.matched_po})


@workflow_job(
    name=INVOICE_JOB,
    agent="finance",
    description="Process a vendor invoice: validate, de-duplicate, match a PO, approve, post, notify.",
)
def finance_invoice_processing() -> None:
    invoice = extract_invoice_fields(start_request())
    matched = match_invoice_to_po(check_duplicate_invoice(invoice))
    complete_request(notify_invoice_posted(post_invoice(approve_invoice(matched))))
