"""The documents agent's workflows: ``documents_extract`` and ``documents_generate``.

Extract: locate the document the request names -> read it (text layer; OCR of scanned pages) ->
find the invoice fields when it is an invoice -> hand an invoice to finance as a new
``finance.invoice_process`` request, queued as the gateway queues one (:mod:`.followup`) -> tell
the requester what was read. Generate: plan the document (type, who for, particulars, where it
goes) -> render the PDF and store it (S3, SharePoint or Google Drive) -> tell the requester where.

Refusals (the request ends ``failed``, the requester is told why): no document named, no such
document, not a readable PDF, no text even by OCR, an invoice missing what finance needs, no
document type to generate, a store refusing the file (a missing folder or bucket, an ACL). A
store's refusal of EAS's own credentials (401) and outages fail the run instead, for the op's
retries and then the failure sensor.
"""

from __future__ import annotations

from decimal import Decimal

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.documents.cases import INVOICE_TYPES, ExtractCase, GenerateCase, particulars
from eas_pipelines.agents.documents.fields import InvoiceFields, extract_invoice_fields, looks_like_invoice
from eas_pipelines.agents.documents.followup import queue_derived
from eas_pipelines.agents.documents.pdf import NotAPdf, read_pdf
from eas_pipelines.agents.documents.render import DocumentSpec, file_name, render_pdf, title_of
from eas_pipelines.agents.documents.sources import DocumentNotFound, destination, fetch, locate
from eas_pipelines.agents.documents.sources import store as store_file
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.google_drive import GoogleDriveResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sharepoint import SharePointResource
from eas_pipelines.resources import FastLaneResource, RequestStoreResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.runs import now_utc

AGENT = "documents"
EXTRACT_JOB = ROUTES["documents.extract"].job or "documents_extract"
GENERATE_JOB = ROUTES["documents.generate"].job or "documents_generate"
INVOICE_INTENT = "finance.invoice_process"
EXCERPT_CHARS = 600

_NOT_ABOUT_THE_DOCUMENT = frozenset({401})
"""Store refusals that are EAS's problem, not the request's: the integration's own login (401)..."""
_EAS_OWN_PROBLEMS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "token", "authority", "config", "authError"}
)
"""...or refusal codes that say the same (S3 answers a bad key with 403; a token or a missing site)."""


def _refusal(exc: VendorRejected) -> str | None:
    """Why the request cannot be done when a store refused; None when the run should fail."""
    if exc.status in _NOT_ABOUT_THE_DOCUMENT or exc.code in _EAS_OWN_PROBLEMS:
        return None
    return f"the document store refused: {exc}"


# ---------------------------------------------------------------------------------------- extract


@workflow_step(ExtractCase)
def locate_document(item: WorkItem, *, s3: S3ConnectorResource) -> Step:
    """Find the document the request names (an s3:// URL or key, a SharePoint or Drive link)."""
    ref = locate(item.text, s3.documents_bucket)
    if ref is None:
        return Step.refused(
            "the request names no document: give an s3:// URL or key, a SharePoint path or link, "
            "or a Google Drive link to the PDF"
        )
    types = [str(v).lower() for v in item.values("document_type")]
    case = ExtractCase(item=item, ref=ref, document_type=types[0] if types else None)
    return Step.passed(case, "document.located", location=str(ref), system=ref.system)


@workflow_step(ExtractCase)
def read_document(
    case: ExtractCase,
    *,
    s3: S3ConnectorResource,
    sharepoint: SharePointResource,
    google_drive: GoogleDriveResource,
) -> Step:
    """Fetch the PDF and read its text: the text layer, or OCR of the pages that are scans."""
    try:
        data = fetch(case.ref, s3=s3, sharepoint=sharepoint, google_drive=google_drive)
    except DocumentNotFound as exc:
        return Step.refused(f"no such document: {exc}", location=str(case.ref))
    except VendorRejected as exc:
        if (reason := _refusal(exc)) is None:
            raise
        return Step.refused(reason, location=str(case.ref))
    try:
        pages = tuple(read_pdf(data))
    except NotAPdf as exc:
        return Step.refused(f"{case.ref} cannot be read: {exc}", location=str(case.ref))
    read = case.with_(pages=pages)
    if not read.text.strip():
        return Step.refused(f"no text found in {case.ref}, not even by OCR", location=str(case.ref))
    return Step.passed(
        read,
        "document.read",
        location=str(case.ref),
        bytes=len(data),
        pages=len(pages),
        ocr_pages=read.ocr_pages,
        characters=len(read.text),
    )


def invoice_of(case: ExtractCase) -> InvoiceFields:
    """The document's invoice fields, the request's own entities filling in what it does not say."""
    fields = extract_invoice_fields(case.text)
    item = case.item
    amount = item.value("amount")
    fallback_amount = (
        Decimal(str(amount["amount"])).quantize(Decimal("0.01"))
        if isinstance(amount, dict) and isinstance(amount.get("amount"), int | float)
        else None
    )
    return InvoiceFields(
        invoice_id=fields.invoice_id or item.value("invoice_id"),
        vendor=fields.vendor or item.value("vendor"),
        amount=fields.amount or fallback_amount,
        currency=fields.currency or item.value("currency") or (amount or {}).get("currency"),
        invoice_date=fields.invoice_date,
        due_date=fields.due_date,
        po_number=fields.po_number or item.value("po_number"),
    )


@workflow_step(ExtractCase)
def extract_fields(case: ExtractCase) -> Step:
    """Find the invoice fields (id, vendor, amount, currency, dates, PO) when the document is an invoice."""
    is_invoice = case.document_type in INVOICE_TYPES or (
        case.document_type is None and looks_like_invoice(case.text)
    )
    if not is_invoice:
        return Step.passed(case, "document.fields_skipped", document_type=case.document_type)
    invoice = invoice_of(case)
    if missing := invoice.missing():
        return Step.refused(
            f"the invoice in {case.ref} does not show its {', '.join(missing)}; it was not sent to finance",
            missing=missing,
            found=invoice.as_detail(),
        )
    return Step.passed(case.with_(invoice=invoice), "invoice.fields_extracted", **invoice.as_detail())


def invoice_request(invoice: InvoiceFields, case: ExtractCase) -> tuple[str, list[dict]]:
    """The finance request's text and the entities the NLP service would find in it (spans, values)."""
    assert invoice.amount is not None and invoice.invoice_id and invoice.vendor
    text = ""
    entities: list[dict] = []

    def add(words: str, entity_type: str | None = None, value: object = None) -> None:
        nonlocal text
        if entity_type is not None:
            entities.append(
                {
                    "type": entity_type,
                    "text": words,
                    "start": len(text),
                    "end": len(text) + len(words),
                    "value": value,
                }
            )
        text += words

    amount_text = f"{invoice.amount:,.2f}" + (f" {invoice.currency}" if invoice.currency else "")
    add("Process invoice ")
    add(invoice.invoice_id, "invoice_id", invoice.invoice_id)
    add(" from ")
    add(invoice.vendor, "vendor", invoice.vendor)
    add(" for ")
    add(amount_text, "amount", {"amount": float(invoice.amount), "currency": invoice.currency})
    if invoice.po_number:
        add(" against ")
        add(invoice.po_number, "po_number", invoice.po_number)
    if invoice.due_date:
        add(", due ")
        add(invoice.due_date.isoformat(), "date", invoice.due_date.isoformat())
    add(f" (read from {case.ref} for request {case.item.request_id})")
    return text, entities


@workflow_step(ExtractCase)
def send_to_finance(case: ExtractCase, *, store: RequestStoreResource, fast_lane: FastLaneResource) -> Step:
    """Queue an invoice for finance as a new ``finance.invoice_process`` request, once per request."""
    if case.invoice is None:
        return Step.passed(case, None)
    text, entities = invoice_request(case.invoice, case)
    derived = queue_derived(
        store.get_store(),
        fast_lane,
        client_id=case.item.client_id,
        idempotency_key=case.item.key("finance.invoice_process"),
        text=text,
        intent=INVOICE_INTENT,
        entities=entities,
        actor=AGENT,
        reason=f"invoice read from {case.ref} by request {case.item.request_id}",
    )
    record = derived.record
    if derived.created:
        store.get_store().audit(
            record.id,
            AGENT,
            "request.derived",
            {"from_request": case.item.request_id, "location": str(case.ref)},
        )
    return Step.passed(
        case.with_(derived_request_id=record.id),
        "invoice.sent_to_finance",
        finance_request_id=record.id,
        status=str(record.status),
        lane=None if record.lane is None else str(record.lane),
        fell_back=derived.fell_back,
    )


@workflow_step(WorkResult, optional=False)
def report_extraction(case: ExtractCase, *, notifications: NotificationsResource) -> Step:
    """Tell the requester what was read (and which finance request the invoice became)."""
    item = case.item
    ocr = f", {len(case.ocr_pages)} by OCR" if case.ocr_pages else ""
    lines = [f"Read {case.ref}: {len(case.pages)} page(s){ocr}."]
    detail: dict = {"location": str(case.ref), "pages": len(case.pages), "ocr_pages": case.ocr_pages}
    if case.invoice is not None:
        fields = case.invoice.as_detail()
        lines.append("Invoice fields: " + ", ".join(f"{k}={v}" for k, v in fields.items() if v))
        lines.append(f"Sent to finance as request {case.derived_request_id}.")
        detail |= {"invoice": fields, "finance_request_id": case.derived_request_id}
    else:
        excerpt = case.text[:EXCERPT_CHARS] + ("..." if len(case.text) > EXCERPT_CHARS else "")
        lines.append(f"Text:\n{excerpt}")
    notifications.send(
        item.requester,
        f"Document read: {case.ref}",
        "\n".join(lines) + f"\n(request {item.request_id})",
        request_id=item.request_id,
        idempotency_key=item.key("notify:extracted"),
        detail=detail,
    )
    if case.invoice is not None:
        invoice_id, finance_id = case.invoice.invoice_id, case.derived_request_id
        summary = f"read invoice {invoice_id} from {case.ref}; finance request {finance_id}"
    else:
        summary = f"read {len(case.pages)} page(s) from {case.ref}"
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


documents_extract = workflow_job(
    name=EXTRACT_JOB,
    agent=AGENT,
    description="Read a PDF (text or OCR) from S3, SharePoint or Drive; send an invoice on to finance.",
    steps=(locate_document, read_document, extract_fields, send_to_finance, report_extraction),
)


# --------------------------------------------------------------------------------------- generate


@workflow_step(GenerateCase)
def plan_document(item: WorkItem, *, s3: S3ConnectorResource, sharepoint: SharePointResource) -> Step:
    """What to write (type, who for, particulars) and where it goes (the request's place, else S3)."""
    types = item.values("document_type")
    if not types:
        return Step.refused(
            "the request does not say which document to generate (an offer letter, an NDA...)"
        )
    parties = item.values("employee") or item.values("vendor")
    spec = DocumentSpec(
        document_type=str(types[0]),
        party=str(parties[0]) if parties else None,
        particulars=tuple(particulars(item)),
        request_text=item.text,
        request_id=item.request_id,
        dated=item.requested_on or now_utc().date(),
    )
    target = destination(
        item.text,
        file_name(spec),
        item.request_id,
        documents_bucket=s3.documents_bucket,
        sharepoint_folder=sharepoint.documents_folder,
    )
    case = GenerateCase(item=item, spec=spec, target=target)
    return Step.passed(
        case, "document.planned", document_type=spec.document_type, party=spec.party, target=str(target)
    )


@workflow_step(GenerateCase)
def store_document(
    case: GenerateCase,
    *,
    s3: S3ConnectorResource,
    sharepoint: SharePointResource,
    google_drive: GoogleDriveResource,
) -> Step:
    """Render the PDF and store it where planned (once: a retry finds its own earlier write)."""
    data = render_pdf(case.spec)
    try:
        location = store_file(
            case.target,
            data,
            idempotency_key=case.item.key("document"),
            s3=s3,
            sharepoint=sharepoint,
            google_drive=google_drive,
        )
    except VendorRejected as exc:
        if (reason := _refusal(exc)) is None:
            raise
        return Step.refused(reason, target=str(case.target))
    return Step.passed(
        case.with_(location=location, size=len(data)),
        "document.stored",
        location=location,
        system=case.target.system,
        bytes=len(data),
    )


@workflow_step(WorkResult, optional=False)
def deliver_document(case: GenerateCase, *, notifications: NotificationsResource) -> Step:
    """Tell the requester (and any address the request names) where the document is."""
    item = case.item
    title = title_of(case.spec.document_type) + (f" for {case.spec.party}" if case.spec.party else "")
    recipients = list(dict.fromkeys([item.requester, *(str(e) for e in item.values("email"))]))
    for recipient in recipients:
        notifications.send(
            recipient,
            f"Document ready: {title}",
            f"{title} is ready: {case.location}\n(request {item.request_id})",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:document:{recipient}"),
            detail={"location": case.location},
        )
    detail = {"location": case.location, "document_type": case.spec.document_type, "bytes": case.size}
    result = WorkResult(item, f"generated {title} at {case.location}", detail)
    return Step.passed(result, "notifications.sent", recipients=recipients)


documents_generate = workflow_job(
    name=GENERATE_JOB,
    agent=AGENT,
    description="Generate a PDF document (reportlab) and store it to S3, SharePoint or Google Drive.",
    steps=(plan_document, store_document, deliver_document),
)
