"""Finance agent: ``finance_invoice_status``, answered from SAP S/4HANA's supplier invoices.

find the invoice(s) the request asks about -> read each from SAP -> answer the requester -> succeeded.

SAP finds a supplier invoice by its supplier and the supplier's own reference (the invoice id the
requester quotes), or by the reference alone (:meth:`SapClient.supplier_invoices`, a ``$filter`` on
``SupplierInvoiceIDByInvcgParty``). So a request that names both is looked up directly, and
"status of INV-1042" asks SAP for every invoice with that reference, whoever sent it (two
suppliers may use the same number: each is answered). "Did we pay Globex", a vendor alone, is
completed from the invoices EAS itself submitted: the earlier ``finance.invoice_process`` requests
in the request store, which carry both. A request naming neither, or an invoice SAP does not
hold, is refused with what to add.

What SAP says is the document's status (``SupplierInvoiceStatus``: parked, held, posted...);
whether a posted invoice was paid is the payment run's clearing in FI accounting, which the
supplier invoice API does not carry: the answer says so rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.finance.invoice import vendor_key
from eas_pipelines.agents.finance.jobs import find_supplier
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.sap import SapResource, SupplierInvoice
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import RequestStore

INTENT = "finance.invoice_status"
STATUS_JOB = ROUTES[INTENT].job or "finance_invoice_status"
SUBMIT_INTENT = "finance.invoice_process"
HISTORY_LIMIT = 1000
"""How many of the finance agent's latest requests are searched for the invoices EAS submitted."""
MAX_ANSWERED = 10
"""Invoices one answer lists at most (a vendor with many invoices: the newest submitted)."""
ANY_VENDOR = ""
"""The vendor of an invoice quoted without one: SAP is asked by the reference alone."""

SAP_STATUS: dict[str, str] = {
    "1": "saved, not yet posted",
    "2": "deleted",
    "3": "waiting for background verification",
    "4": "deleted",
    "5": "posted (booked for payment)",
    "A": "parked",
    "B": "parked and complete",
    "C": "parked and held",
    "D": "entered and held",
    "E": "parked and released",
}
"""SAP's invoice document status (``SupplierInvoiceStatus``, domain RBSTAT) in words."""


@dataclass(frozen=True)
class InvoiceQuery:
    """What the request asks about and what SAP answered, as the workflow carries it."""

    item: WorkItem
    wanted: tuple[tuple[str, str], ...]
    """(vendor, invoice id) pairs to look up in SAP."""
    found: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    missing: tuple[str, ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> InvoiceQuery:
        return replace(self, **changes)


def status_text(invoice: SupplierInvoice) -> str:
    return SAP_STATUS.get(invoice.status, f"in SAP status {invoice.status or 'unknown'}")


def describe(vendor: str, invoice: SupplierInvoice) -> dict[str, Any]:
    """One invoice's answer, as the audit and the message carry it."""
    return {
        "vendor": vendor,
        "invoice_id": invoice.invoice_reference,
        "sap_invoice": f"{invoice.invoice_number}/{invoice.fiscal_year}",
        "status": status_text(invoice),
        "amount": f"{invoice.amount:,.2f} {invoice.currency}",
        "posted_on": invoice.posting_date.isoformat() if invoice.posting_date else None,
        "po_numbers": list(invoice.po_numbers),
    }


def answer_line(found: dict[str, Any]) -> str:
    posted = f", posting date {found['posted_on']}" if found["posted_on"] else ""
    po = f", against {', '.join(found['po_numbers'])}" if found["po_numbers"] else ""
    return (
        f"Invoice {found['invoice_id']} from {found['vendor']} ({found['amount']}): {found['status']}"
        f"{posted}{po}; SAP document {found['sap_invoice']}."
    )


def submitted_invoices(store: RequestStore, limit: int = HISTORY_LIMIT) -> list[tuple[str, str]]:
    """(vendor, invoice id) of the invoices submitted to EAS, newest first (the finance agent's requests)."""
    pairs: list[tuple[str, str]] = []
    before: str | None = None
    seen = 0
    while seen < limit:
        page = store.list(agent="finance", limit=min(100, limit - seen), before=before)
        for record in page:
            if record.intent != SUBMIT_INTENT or not isinstance(record.entities, list):
                continue
            values = {e.get("type"): e.get("value") for e in record.entities if isinstance(e, dict)}
            if values.get("vendor") and values.get("invoice_id"):
                pairs.append((str(values["vendor"]), str(values["invoice_id"])))
        if len(page) < 100:
            break
        seen += len(page)
        before = page[-1].id
    return list(dict.fromkeys(pairs))


def wanted_invoices(item: WorkItem, history: list[tuple[str, str]]) -> list[tuple[str, str]] | str:
    """The (vendor, invoice id) pairs the request asks about, or why none can be told."""
    vendors = [str(v) for v in item.values("vendor")]
    invoice_ids = [str(i).upper() for i in item.values("invoice_id")]
    if vendors and invoice_ids:
        return [(vendor, invoice_id) for vendor in vendors for invoice_id in invoice_ids]
    if invoice_ids:
        return [(ANY_VENDOR, invoice_id) for invoice_id in invoice_ids]
    if vendors:
        keys = {vendor_key(v) for v in vendors}
        found = [(v, i) for v, i in history if vendor_key(v) in keys][:MAX_ANSWERED]
        if not found:
            return f"EAS has submitted no invoices from {', '.join(vendors)}: give the invoice number"
        return found
    return "the request names no invoice number or vendor: say which invoice"


@workflow_step(InvoiceQuery)
def find_invoice_query(item: WorkItem, *, store: RequestStoreResource) -> Step:
    """Which invoices the request asks about (a vendor alone: completed from what EAS was sent)."""
    needs_history = bool(item.values("vendor")) and not item.values("invoice_id")
    history = submitted_invoices(store.get_store()) if needs_history else []
    wanted = wanted_invoices(item, history)
    if isinstance(wanted, str):
        return Step.refused(wanted)
    query = InvoiceQuery(item=item, wanted=tuple(wanted))
    asked = [f"{v or 'any supplier'}: {i}" for v, i in wanted]
    return Step.passed(query, "invoice_status.asked", invoices=asked)


@workflow_step(InvoiceQuery)
def read_invoice_status(query: InvoiceQuery, *, sap: SapResource) -> Step:
    """Each invoice as SAP holds it (by supplier and reference, or by reference alone); none: refused."""
    client = sap.client()
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for vendor, invoice_id in query.wanted:
        if vendor == ANY_VENDOR:
            invoices = client.supplier_invoices(reference=invoice_id)[-MAX_ANSWERED:]
            for invoice in invoices:
                sender = client.supplier(invoice.supplier_id)
                found.append(describe(sender.name if sender else invoice.supplier_id, invoice))
            if not invoices:
                missing.append(f"{invoice_id} from any supplier")
            continue
        supplier = find_supplier(client, vendor)
        invoice = client.supplier_invoice(supplier.supplier_id, invoice_id) if supplier is not None else None
        if invoice is None or supplier is None:
            missing.append(
                f"{invoice_id} from {vendor}" if supplier else f"{invoice_id} ({vendor} is no SAP supplier)"
            )
        else:
            found.append(describe(supplier.name, invoice))
    if not found:
        return Step.refused(f"SAP holds no invoice {'; '.join(missing)}: it was not posted", missing=missing)
    return Step.passed(
        query.with_(found=tuple(found), missing=tuple(missing)),
        "invoice_status.read",
        found=found,
        missing=missing,
    )


@workflow_step(WorkResult, optional=False)
def answer_invoice_status(query: InvoiceQuery, *, notifications: NotificationsResource) -> Step:
    """Send the requester the status of each invoice (and which were not found)."""
    item = query.item
    lines = [answer_line(found) for found in query.found]
    lines += [f"Invoice {missing}: not in SAP." for missing in query.missing]
    lines.append("Payment itself is made by the payment run; SAP's supplier invoice record does not show it.")
    title = f"Invoice status: {', '.join(f['invoice_id'] for f in query.found)}"
    notifications.send(
        item.requester,
        title,
        "\n".join(lines),
        request_id=item.request_id,
        idempotency_key=item.key("notify:invoice_status"),
        detail={"invoices": [f["sap_invoice"] for f in query.found]},
    )
    summary = "; ".join(f"{f['invoice_id']} {f['status']}" for f in query.found)
    detail = {"invoices": list(query.found), "missing": list(query.missing)}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


finance_invoice_status = workflow_job(
    name=STATUS_JOB,
    agent="finance",
    description="Answer an invoice status question from SAP's supplier invoices.",
    steps=(find_invoice_query, read_invoice_status, answer_invoice_status),
)
