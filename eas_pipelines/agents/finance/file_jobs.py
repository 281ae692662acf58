"""Finance agent: ``finance_invoice_file``, a CSV of invoices in S3 posted in SAP row by row.

"Process the invoices in s3://finance-inbox/march.csv" is routed here rather than to the one-invoice
workflow (:func:`eas_pipelines.routing.route_for`: the text names an ``s3://`` CSV). A bulk fan-out
(:mod:`eas_pipelines.agents.fanout`):

read the file (S3) and its rows (:mod:`.invoice_file`: bad rows kept, with their reason) -> each
row's supplier found in SAP and the row booked against a PO, the file's rows in order (a PO's open
amount taken row by row) -> one approval by ``finance_manager`` when any row is over the approval
threshold -> each row posted in SAP, in batches, its rows in parallel -> the requester and #finance
told how many were posted and which rows were rejected, by row number and reason -> succeeded.

Idempotent per row: each posting carries the key ``<request id>:sap_invoice:row<N>`` as its SAP
marker, so a retried batch finds its rows already posted (SAP answers with the row's invoice) and a
re-run of the request finds them while matching (they are reported done, not posted again), while the
same invoice posted by another request is refused by SAP as a duplicate and the row rejected.

The file is read again by the run after an approval; its digest is kept in the audit trail, and a
file that changed since (what was approved is no longer what would be posted) is refused.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_step
from eas_pipelines.agents.fanout import (
    FanoutBatch,
    FanoutItem,
    FanoutPlan,
    FanoutSummary,
    ItemRefused,
    fanout_job,
)
from eas_pipelines.agents.finance.invoice import Invoice, duplicate_reason, money, sap_document
from eas_pipelines.agents.finance.invoice_file import (
    InvoiceFileError,
    InvoiceRow,
    allocate_purchase_orders,
    file_of,
    read_rows,
)
from eas_pipelines.agents.finance.jobs import APPROVER_ROLE, FINANCE_CHANNEL, POSTING_STEP, find_supplier
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sap import DuplicateInvoice, SapResource, Supplier, invoice_marker
from eas_pipelines.resources import RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.routing import BULK_INVOICE_JOB

READ_ACTION = "invoice_file.read"
"""Audit action of the file read: its URL, digest and row counts."""


def posting_key(item: WorkItem, row: InvoiceRow) -> str:
    """The idempotency key of the row's one posting in SAP (``<request id>:sap_invoice:row<N>``):
    what the fan-out's ``batch.key(entry, POSTING_STEP)`` gives for the row's item."""
    return item.key(f"{POSTING_STEP}:{row.key}")


def _invoice(item: WorkItem, row: InvoiceRow, supplier: Supplier) -> Invoice:
    """The row as the single-invoice rules see an invoice (PO matching, duplicate reasons)."""
    return Invoice(
        item=item,
        vendor=row.vendor,
        invoice_id=row.invoice_id,
        amount=row.amount,
        currency=row.currency,
        po_number=row.po_number,
        due_date=row.due_date,
        supplier_id=supplier.supplier_id,
        supplier_name=supplier.name,
    )


def _over_second_level(row: InvoiceRow, threshold: float) -> InvoiceRow:
    """A row above the second approval threshold is rejected: it needs two approvals of its own."""
    if row.problem is None and row.amount > threshold:
        why = (
            f"{money(row.amount, row.currency)} is over {money(threshold, row.currency)}: an invoice that "
            "large needs two approvals, submit it on its own"
        )
        return row.rejected(why)
    return row


@workflow_step(FanoutPlan)
def read_invoice_file(
    item: WorkItem,
    *,
    s3: S3ConnectorResource,
    store: RequestStoreResource,
    policy: WorkflowPolicyResource,
) -> Step:
    """Read the CSV the request names from S3 into rows: each row an item, bad rows kept with their reason."""
    location = file_of(item.text)
    if location is None:
        return Step.refused("the request names no invoice file: give the s3:// URL of a CSV")
    try:
        content = s3.client().get(location.bucket, location.key)
    except VendorRejected as exc:
        return Step.refused(f"S3 refused to read {location}: {exc}", file=str(location))
    if content is None:
        return Step.refused(f"{location} does not exist", file=str(location))
    digest = hashlib.sha256(content).hexdigest()
    earlier = [e for e in store.get_store().audit_trail(item.request_id) if e.action == READ_ACTION]
    if earlier and earlier[0].detail.get("sha256") != digest:
        return Step.refused(
            f"{location} changed since this request first read it: submit it again", file=str(location)
        )
    try:
        rows = read_rows(content, policy.default_currency)
    except InvoiceFileError as exc:
        return Step.refused(f"{location}: {exc}", file=str(location))
    rows = [_over_second_level(row, policy.approval_second_threshold) for row in rows]
    entries = tuple(FanoutItem(row.key, row.target, row.payload()) for row in rows)
    plan = FanoutPlan(item, "invoice", entries, {"file": str(location)})
    rejected = sum(1 for row in rows if row.problem)
    return Step.passed(
        plan, READ_ACTION, file=str(location), sha256=digest, rows=len(rows), rejected_at_read=rejected
    )


@workflow_step(FanoutPlan)
def match_invoice_file(plan: FanoutPlan, *, sap: SapResource, policy: WorkflowPolicyResource) -> Step:
    """Find each row's supplier in SAP and book it against a PO (open amounts taken row by row), and
    find the rows an earlier run of this request already posted (their SAP marker): done, not re-posted.

    Done here, for the whole file, rather than row by row in the batches: the rows of one supplier
    share its POs' open amounts, so they are matched in file order before any is posted, and each
    batch then only posts, all its rows in parallel.
    """
    client = sap.client()
    rows = [InvoiceRow.from_payload(entry.payload) for entry in plan.entries]
    suppliers: dict[str, Supplier | None] = {}
    for row in rows:
        if row.problem is None and row.vendor not in suppliers:
            suppliers[row.vendor] = find_supplier(client, row.vendor)
    by_supplier: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.problem is not None:
            continue
        supplier = suppliers[row.vendor]
        if supplier is None:
            rows[index] = row.rejected(f"{row.vendor} is not a supplier in SAP")
        else:
            rows[index] = row.with_(supplier_id=supplier.supplier_id)
            by_supplier.setdefault(supplier.supplier_id, []).append(index)
    for supplier_id, indexes in by_supplier.items():
        supplier = suppliers[rows[indexes[0]].vendor]
        assert supplier is not None  # indexes only hold rows whose supplier was found
        mine = {invoice_marker(posting_key(plan.item, rows[i])): i for i in indexes}
        for posted in client.supplier_invoices(supplier_id=supplier_id):
            if posted.header_text in mine:
                index = mine.pop(posted.header_text)
                rows[index] = rows[index].with_(posted=sap_document(posted))
        pending = sorted(mine.values())
        orders = {po.po_number: po for po in client.purchase_orders_of_supplier(supplier.name)}
        for quoted in {rows[i].po_number for i in pending if rows[i].po_number} - set(orders):
            found = client.purchase_order(quoted)
            if found is not None:
                orders[found.po_number] = found
        invoices = [(rows[i], _invoice(plan.item, rows[i], supplier)) for i in pending]
        booked = allocate_purchase_orders(invoices, orders, policy.po_match_tolerance)
        for index, row in zip(pending, booked, strict=True):
            rows[index] = row
    entries = tuple(FanoutItem(row.key, row.target, row.payload()) for row in rows)
    counts = {
        "matched": sum(1 for row in rows if row.matched_po and not row.problem),
        "already_posted": sum(1 for row in rows if row.posted),
        "rejected": sum(1 for row in rows if row.problem),
    }
    return Step.passed(
        FanoutPlan(plan.item, plan.noun, entries, plan.shared), "invoice_file.matched", **counts
    )


@workflow_step(FanoutPlan)
def approve_invoice_file(plan: FanoutPlan, *, policy: WorkflowPolicyResource) -> Step:
    """One approval by ``finance_manager`` for the file when any of its invoices is over the threshold."""
    threshold = policy.approval_amount_threshold
    rows = [InvoiceRow.from_payload(entry.payload) for entry in plan.entries]
    over = [row for row in rows if row.problem is None and row.amount > threshold]
    if not over:
        return Step.passed(plan, "approval.not_required", rows=len(rows), threshold=threshold)
    largest = max(over, key=lambda row: row.amount)
    return Step.needs_approval(
        approver=APPROVER_ROLE,
        reason=(
            f"{len(over)} of the {len(rows)} invoices in {plan.shared['file']} exceed the approval "
            f"threshold of {money(threshold, largest.currency)} (the largest: {largest.target}, "
            f"{money(largest.amount, largest.currency)})"
        ),
        deadline_hours=policy.approval_deadline_hours,
    )


def post_invoice_row(entry: FanoutItem, batch: FanoutBatch, *, sap: SapResource) -> str:
    """Post one row's invoice in SAP against the PO it was matched to, once (keyed by request and row)."""
    row = InvoiceRow.from_payload(entry.payload)
    if row.problem:
        raise ItemRefused(row.problem)
    if row.posted:
        return row.posted  # posted by an earlier run of this request
    client = sap.client()
    try:
        posted = client.post_supplier_invoice(
            row.supplier_id or row.vendor,
            row.invoice_id,
            Decimal(str(row.amount)),
            row.currency,
            row.matched_po,
            batch.item.requested_on or date.today(),
            posting_key(batch.item, row),
        )
    except DuplicateInvoice as exc:
        existing = client.supplier_invoice(row.supplier_id or row.vendor, row.invoice_id)
        if existing is None:
            raise ItemRefused(f"duplicate: {exc}") from exc
        supplier = Supplier(supplier_id=existing.supplier_id, name=row.vendor)
        raise ItemRefused(duplicate_reason(_invoice(batch.item, row, supplier), existing)) from exc
    return f"{sap_document(posted)} against {row.matched_po}"


@workflow_step(WorkResult, optional=False)
def report_invoice_file(summary: FanoutSummary, *, notifications: NotificationsResource) -> Step:
    """Tell the requester and #finance how many invoices were posted and which rows were rejected, and why."""
    item = summary.item
    line = (
        f"{summary.succeeded:,} of {summary.total:,} invoices in {summary.shared['file']} posted in SAP, "
        f"{summary.failed:,} rejected"
    )
    failures = summary.failure_lines()
    body = f"{line}.\nRequest {item.request_id}." + (
        "\nRejected:\n" + "\n".join(f"- {failure}" for failure in failures) if failures else ""
    )
    counts = {"total": summary.total, "posted": summary.succeeded, "rejected": summary.failed}
    recipients = notify_all(
        notifications,
        item,
        [item.requester, FINANCE_CHANNEL],
        f"Invoice file: {summary.succeeded:,} of {summary.total:,} posted",
        body,
        key="invoice_file",
        detail=counts,
    )
    result = WorkResult(item, line, {"file": summary.shared["file"], **counts})
    return Step.passed(result, "notifications.sent", recipients=recipients)


finance_invoice_file = fanout_job(
    name=BULK_INVOICE_JOB,
    agent="finance",
    description="Post a CSV of invoices from S3 in SAP, rows in batches; bad rows reported with the reason.",
    plan=(read_invoice_file, match_invoice_file, approve_invoice_file),
    item=post_invoice_row,
    finish=(report_invoice_file,),
    prefix="invoice_file",
)
