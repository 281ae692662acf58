"""The documents agent: invoice field rules, document locations, and both workflows end to end.

The PDFs are made here: a text PDF with reportlab, and an image-only "scan" (text rendered to an
image with PIL, embedded by reportlab) that only OCR can read. They are put in the S3 (moto),
SharePoint and Google Drive emulators through the connectors' clients; what the workflows left is
read back the same way, and the derived finance request from the request store (then run through
finance's own workflow against the SAP emulator). The emulators live for the whole session, so
each test uses fresh keys, suppliers and invoice numbers.
"""

from __future__ import annotations

import io
import secrets
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from eas_pipelines.agents import finance_invoice_processing
from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.documents import documents_extract, documents_generate
from eas_pipelines.agents.documents.cases import ExtractCase
from eas_pipelines.agents.documents.fields import extract_invoice_fields, parse_date, parse_number
from eas_pipelines.agents.documents.jobs import invoice_request
from eas_pipelines.agents.documents.render import DocumentSpec, file_name, render_pdf
from eas_pipelines.agents.documents.sources import DocumentRef, destination, locate
from eas_pipelines.connectors.google_drive import GoogleDriveResource
from eas_pipelines.connectors.sap import NewPurchaseOrderLine
from eas_pipelines.connectors.sharepoint import SharePointResource
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import worker_key
from eas_pipelines.routing import INVOICE_JOB, Lane
from eas_pipelines.store import RequestStore, Status
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received
from tests.support.vendor_clients import s3_resource, sap_resource

EXTRACT = "documents.extract"
GENERATE = "documents.generate"
BUCKET = "eas-documents"


# ------------------------------------------------------------------------------------------- PDFs


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a text layer (what an accounting system exports)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 22
    pdf.save()
    return buffer.getvalue()


def scanned_pdf(lines: list[str]) -> bytes:
    """A one-page PDF that is only a picture of text (a scan): no text layer at all."""
    font = ImageFont.load_default(size=36)
    image = Image.new("RGB", (1240, 110 + 90 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((80, 60 + index * 90), line, fill="black", font=font)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    shown = width - 80
    pdf.drawImage(
        ImageReader(image),
        40,
        height - 40 - shown * image.height / image.width,
        shown,
        preserveAspectRatio=True,
        anchor="nw",
    )
    pdf.save()
    return buffer.getvalue()


def invoice_lines(invoice_id: str, vendor: str, total: str, po: str | None = None) -> list[str]:
    lines = ["INVOICE", f"Invoice number: {invoice_id}", f"Vendor: {vendor}", "Invoice date: 2026-03-01"]
    lines += ["Due date: 2026-03-31"] + ([f"PO number: {po}"] if po else [])
    return [*lines, "Subtotal: 100.00", f"Total due: {total}"]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


# ------------------------------------------------------------------------------------ unit rules


def test_invoice_fields_from_a_text_layer():
    text = "\n".join(
        [
            "ACME CORP",
            "Tax Invoice",
            "Invoice No.: inv-2026-0042",
            "Supplier: Acme Corp",
            "Invoice date: March 1, 2026",
            "Payment due: 03/31/2026",
            "P.O. 4500099",
            "Subtotal: $1,000.00",
            "Total due: $1,250.50",
        ]
    )
    fields = extract_invoice_fields(text)
    assert fields.invoice_id == "INV-2026-0042"
    assert (fields.vendor, fields.amount, fields.currency) == ("Acme Corp", Decimal("1250.50"), "USD")
    assert (fields.invoice_date, fields.due_date) == (date(2026, 3, 1), date(2026, 3, 31))
    assert fields.po_number == "4500099" and fields.missing() == []


def test_invoice_fields_from_ocr_lines_without_spaces_and_in_mixed_case():
    text = "INVOICE\nInvoice number: INv-77123\nVendor: Globex\nDate:2026-03-01\n"
    text += "PO number:PO-4500012\nTotal:1,250.00USD"
    fields = extract_invoice_fields(text)
    assert (fields.invoice_id, fields.vendor, fields.po_number) == ("INV-77123", "Globex", "PO-4500012")
    assert (fields.amount, fields.currency, fields.invoice_date) == (
        Decimal("1250.00"),
        "USD",
        date(2026, 3, 1),
    )
    assert fields.due_date is None


def test_missing_fields_are_named_and_a_subtotal_is_never_the_amount():
    fields = extract_invoice_fields("Invoice\nSubtotal: 90.00\nPO Box 12, Springfield")
    assert fields.amount is None and fields.po_number is None
    assert fields.missing() == ["invoice_id", "vendor", "amount"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,250.00", "1250.00"),
        ("1.250,50", "1250.50"),
        ("1 250.5", "1250.5"),
        ("1250", "1250"),
        ("12,5", "12.5"),
    ],
)
def test_numbers_as_invoices_print_them(text, value):
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["2026-03-01", "03/01/2026", "01.03.2026", "Mar. 1,2026", "1 March 2026"])
def test_dates_as_invoices_print_them(text):
    assert parse_date(text) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        (
            "OCR s3://inbox-bucket/scans/acme-1.pdf, please",
            DocumentRef("s3", "inbox-bucket", "scans/acme-1.pdf"),
        ),
        (
            "extract the total from invoices/2026/acme-42.pdf",
            DocumentRef("s3", BUCKET, "invoices/2026/acme-42.pdf"),
        ),
        ("read Invoices/acme.pdf on SharePoint", DocumentRef("sharepoint", None, "Invoices/acme.pdf")),
        ("parse sharepoint:/Invoices/acme%201.pdf.", DocumentRef("sharepoint", None, "Invoices/acme 1.pdf")),
        (
            "read https://eas.sharepoint.com/sites/eas-site/Shared%20Documents/Invoices/a.pdf",
            DocumentRef("sharepoint", None, "Invoices/a.pdf"),
        ),
        (
            "scan https://drive.google.com/file/d/1AbCdEfGhIjK/view?usp=sharing",
            DocumentRef("google_drive", None, "1AbCdEfGhIjK"),
        ),
        ("the invoice I uploaded", None),
    ],
)
def test_document_locations_in_a_request(text, ref):
    assert locate(text, BUCKET) == ref


def test_where_a_generated_document_goes():
    def where(text: str) -> DocumentRef:
        return destination(text, "nda-acme.pdf", "r1", documents_bucket=BUCKET, sharepoint_folder="Reports")

    assert where("draft an NDA for Acme") == DocumentRef("s3", BUCKET, "generated/r1/nda-acme.pdf")
    assert where("draft an NDA into s3://legal/ndas/") == DocumentRef("s3", "legal", "ndas/nda-acme.pdf")
    assert where("draft an NDA and save it to SharePoint") == DocumentRef(
        "sharepoint", "Reports", "nda-acme.pdf"
    )
    assert where("NDA to sharepoint:/Invoices") == DocumentRef("sharepoint", "Invoices", "nda-acme.pdf")
    assert where("put the NDA on Google Drive") == DocumentRef("google_drive", None, "nda-acme.pdf")


def test_the_finance_request_carries_entities_whose_spans_are_its_words():
    item = WorkItem("req-1", "documents", EXTRACT, "x", "c", 2, (), 1, "run")
    fields = extract_invoice_fields("\n".join(invoice_lines("INV-9", "Initech Ltd", "1,850.50 EUR", "PO-77")))
    text, entities = invoice_request(fields, ExtractCase(item, DocumentRef("s3", BUCKET, "a.pdf")))
    assert text.startswith(
        "Process invoice INV-9 from Initech Ltd for 1,850.50 EUR against PO-77, due 2026-03-31"
    )
    assert {e["type"]: e["value"] for e in entities} == {
        "invoice_id": "INV-9",
        "vendor": "Initech Ltd",
        "amount": {"amount": 1850.5, "currency": "EUR"},
        "po_number": "PO-77",
        "date": "2026-03-31",
    }
    assert all(text[e["start"] : e["end"]] == e["text"] for e in entities)


def test_a_generated_pdf_is_the_same_bytes_every_time():
    spec = DocumentSpec(
        "offer letter", "Dana Smith", (("Role", "Engineer"),), "make it", "abcdef123456", date(2026, 3, 1)
    )
    first, second = render_pdf(spec), render_pdf(spec)
    assert first == second
    text = pdf_text(first)
    assert (
        "Offer letter" in text and "For Dana Smith" in text and "Engineer" in text and "abcdef123456" in text
    )
    assert file_name(spec) == "offer-letter-dana-smith-abcdef12.pdf"


# ------------------------------------------------------------------------------------ end to end


class Stores:
    """The document stores and SAP, through the connectors' clients, for putting and reading files."""

    def __init__(self, env: dict[str, str], options: dict[str, Any]) -> None:
        self.s3 = s3_resource(env, **options).client()
        self.sharepoint_resource = SharePointResource(
            authority=env["EAS_SHAREPOINT_AUTHORITY"],
            client_id=env["EAS_SHAREPOINT_CLIENT_ID"],
            client_secret=env["EAS_SHAREPOINT_CLIENT_SECRET"],
            graph_url=env["EAS_SHAREPOINT_GRAPH_URL"],
            site_id=env["EAS_SHAREPOINT_SITE_ID"],
            **options,
        )
        self.sharepoint = self.sharepoint_resource.client()
        self.site = env["EAS_SHAREPOINT_SITE_ID"]
        self.drive = GoogleDriveResource(
            api_root=env["EAS_GDRIVE_URL"],
            service_account_file=env["EAS_GDRIVE_SERVICE_ACCOUNT_FILE"],
            **options,
        ).client()
        self.sap = sap_resource(env, **options).client()

    def close(self) -> None:
        for client in (self.s3, self.sharepoint, self.drive, self.sap):
            client.close()


@pytest.fixture
def stores(sandbox_session, reading: dict) -> Iterator[Stores]:
    with closing(Stores(sandbox_session.env, reading)) as found:
        yield found


def tag() -> str:
    return uuid.uuid4().hex[:8]


OCR_SAFE = "ADEFGHJKMNPRT34679"
"""Characters OCR reads back as written: none that look like another (0/O, 1/I, 5/S, 8/B, 2/Z)
or like their own lower case (C, U, V, W, X, Y)."""


def ocr_safe_tag() -> str:
    """A random tag for text that is read back by OCR, so the test checks the pipeline, not the font."""
    return "".join(secrets.choice(OCR_SAFE) for _ in range(8))


def supplier(sandbox_session, name: str) -> str:
    """A new supplier in SAP's supplier master; its name."""
    full = f"{name} {tag().upper()} Corp"
    number = f"9{uuid.uuid4().int % 10**9:09d}"
    sandbox_session.sandbox.records.put(
        "sap", "A_Supplier", number, {"Supplier": number, "SupplierName": full}
    )
    return full


def purchase_order(stores: Stores, vendor: str, amount: str) -> str:
    number = f"PO-{tag().upper()}"
    line = NewPurchaseOrderLine(text="test order", net_price=Decimal(amount))
    stores.sap.create_purchase_order(
        vendor, [line], "USD", idempotency_key=f"test-po:{number}", po_number=number
    )
    return number


def actions(store: RequestStore, request_id: str) -> list[str]:
    return [e.action for e in store.audit_trail(request_id) if e.actor == "documents"]


def derived_from(store: RequestStore, request_id: str) -> str:
    (entry,) = [e for e in store.audit_trail(request_id) if e.action == "invoice.sent_to_finance"]
    return entry.detail["finance_request_id"]


def test_text_invoice_from_s3_becomes_a_finance_request_that_finance_posts(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, stores
):
    vendor = supplier(sandbox_session, "Umbrella")
    po = purchase_order(stores, vendor, "2000")
    invoice_id = f"INV-{tag().upper()}"
    key = f"inbox/{tag()}/invoice.pdf"
    stores.s3.put(
        BUCKET, key, text_pdf(invoice_lines(invoice_id, vendor, "$1,234.50", po)), "application/pdf"
    )
    text = f"extract the total from the attached invoice s3://{BUCKET}/{key}"
    record = queued_request(store, text, EXTRACT, [entity(text, "document_type", "invoice")])

    result = run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    finance = store.get(derived_from(store, record.id))
    assert (finance.status, finance.intent, finance.agent, finance.workflow) == (
        Status.QUEUED,
        "finance.invoice_process",
        "finance",
        INVOICE_JOB,
    )
    assert finance.lane is Lane.STANDARD  # no live fast-lane worker: the gateway's fallback
    assert finance.client_id == record.client_id  # on behalf of the same requester
    values = {e["type"]: e["value"] for e in finance.entities}
    assert values == {
        "invoice_id": invoice_id,
        "vendor": vendor,
        "amount": {"amount": 1234.5, "currency": "USD"},
        "po_number": po,
        "date": "2026-03-31",
    }
    assert all(finance.text[e["start"] : e["end"]] == e["text"] for e in finance.entities)
    for step in ("document.located", "document.read", "invoice.fields_extracted", "invoice.sent_to_finance"):
        assert step in actions(store, record.id)
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert invoice_id in mail.text and finance.id in mail.text

    posted = run_workflow(finance_invoice_processing, finance.id, dagster_instance, eas_resources, store)

    assert posted.success and store.get(finance.id).status is Status.SUCCEEDED
    invoice = stores.sap.supplier_invoice(vendor, invoice_id)
    assert invoice is not None and (invoice.amount, invoice.po_numbers) == (Decimal("1234.50"), [po])

    again = run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store)
    assert not again.success  # a second delivery of the same request does nothing


def test_scanned_invoice_on_sharepoint_is_read_by_ocr_and_queued_on_the_fast_lane(
    store, eas_resources, dagster_instance, sandbox_session, redis_client, redis_key_prefix, stores
):
    invoice_id = f"INV-{ocr_safe_tag()}"
    name = f"scan-{tag()}.pdf"
    scan = scanned_pdf(invoice_lines(invoice_id, "Initech", "980.00 USD"))
    assert pdf_text(scan).strip() == ""  # nothing to read but the picture
    stores.sharepoint.upload(stores.site, "Invoices", name, scan)
    redis_client.set(worker_key("test-worker", redis_key_prefix), "{}", ex=60)  # a warm worker is alive
    text = f"OCR the scanned invoice Invoices/{name} on SharePoint"
    record = queued_request(store, text, EXTRACT, [entity(text, "document_type", "invoice")])

    result = run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store)

    assert result.success and store.get(record.id).status is Status.SUCCEEDED
    (read,) = [e for e in store.audit_trail(record.id) if e.action == "document.read"]
    assert read.detail["ocr_pages"] == [1]
    (fields,) = [e for e in store.audit_trail(record.id) if e.action == "invoice.fields_extracted"]
    assert (fields.detail["invoice_id"], fields.detail["vendor"]) == (invoice_id, "Initech")
    assert (fields.detail["amount"], fields.detail["currency"]) == ("980.00", "USD")
    finance = store.get(derived_from(store, record.id))
    assert finance.status is Status.QUEUED and finance.lane is Lane.FAST
    assert sum(FastQueue(redis_client, prefix=redis_key_prefix).depth().values()) == 1


def test_an_invoice_without_its_amount_is_refused_and_nothing_goes_to_finance(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, stores
):
    file = stores.drive.upload(
        f"partial-{tag()}.pdf", text_pdf(["INVOICE", "Invoice number: INV-1", "Thanks!"]), "application/pdf"
    )
    text = f"read the invoice https://drive.google.com/file/d/{file.id}/view and get the amount"
    record = queued_request(store, text, EXTRACT, [])

    assert run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store).success

    done = store.get(record.id)
    assert done.status is Status.FAILED
    assert "does not show its vendor, amount" in (done.last_error or "")
    assert "invoice.sent_to_finance" not in actions(store, record.id)
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert "does not show its vendor, amount" in mail.text


def test_a_contract_by_bare_key_is_read_and_not_sent_to_finance(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, stores
):
    key = f"contracts/{tag()}/msa.pdf"
    lines = ["MASTER SERVICES AGREEMENT", "Between Acme Corp and EAS Inc.", "Notice period: 90 days."]
    stores.s3.put(BUCKET, key, text_pdf(lines), "application/pdf")
    text = f"what is the notice period in {key}?"
    record = queued_request(store, text, EXTRACT, [])

    assert run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    steps = actions(store, record.id)
    assert "document.fields_skipped" in steps and "invoice.sent_to_finance" not in steps
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert f"s3://{BUCKET}/{key}" in mail.text and "Notice period: 90 days." in mail.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("parse the contract I just uploaded", "the request names no document"),
        ("read s3://eas-documents/nowhere/{tag}.pdf", "no such document: s3://eas-documents/nowhere/"),
    ],
)
def test_a_missing_document_is_refused_with_the_reason(store, eas_resources, dagster_instance, text, reason):
    record = queued_request(store, text.format(tag=tag()), EXTRACT, [])

    assert run_workflow(documents_extract, record.id, dagster_instance, eas_resources, store).success

    done = store.get(record.id)
    assert done.status is Status.FAILED and reason in (done.last_error or "")


def test_s3_down_fails_the_run(
    store, dagster_instance, sandbox, migrated_database_url, redis_url, redis_key_prefix
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, max_attempts=1, initial_backoff_s=0.01
    )
    sandbox.fault("error", "s3", count=100, status=503)
    record = queued_request(store, f"read s3://{BUCKET}/inbox/{tag()}.pdf", EXTRACT, [])
    try:
        result = run_workflow(documents_extract, record.id, dagster_instance, resources, store)
    finally:
        sandbox.reset()  # the outage ends for the tests that follow

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # the failure sensor retries or fails it


def test_an_offer_letter_is_generated_to_s3(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, stores
):
    text = "draft an offer letter for Dana Smith at a salary of $120,000 and email it to dana@example.com"
    entities = [
        entity(text, "document_type", "offer letter"),
        entity(text, "employee", "Dana Smith"),
        entity(text, "amount", "$120,000"),
        entity(text, "email", "dana@example.com"),
    ]
    record = queued_request(store, text, GENERATE, entities)

    result = run_workflow(documents_generate, record.id, dagster_instance, eas_resources, store)

    assert result.success and store.get(record.id).status is Status.SUCCEEDED
    key = f"generated/{record.id}/offer-letter-dana-smith-{record.id[:8]}.pdf"
    stored = stores.s3.get(BUCKET, key)
    assert stored is not None
    written = pdf_text(stored)
    assert "Offer letter" in written and "Dana Smith" in written and "120,000.00 USD" in written
    for recipient in (record.client_id, "dana@example.com"):
        (mail,) = received(sandbox_session, redis_url, recipient, request_id=record.id)
        assert f"s3://{BUCKET}/{key}" in mail.text
    steps = actions(store, record.id)
    assert (
        steps.index("document.planned") < steps.index("document.stored") < steps.index("notifications.sent")
    )


def test_a_contract_is_generated_to_sharepoint_and_an_nda_to_drive(
    store, eas_resources, dagster_instance, stores
):
    vendor = f"Hooli {tag()}"
    text = f"draft a contract with {vendor} and save it to sharepoint:/Invoices"
    record = queued_request(
        store, text, GENERATE, [entity(text, "document_type", "contract"), entity(text, "vendor", vendor)]
    )
    assert run_workflow(documents_generate, record.id, dagster_instance, eas_resources, store).success
    item = stores.sharepoint.item(
        stores.site, f"Invoices/contract-{vendor.lower().replace(' ', '-')}-{record.id[:8]}.pdf"
    )
    assert item is not None and "Hooli" in pdf_text(stores.sharepoint.get(stores.site, item.id))

    text = f"put an NDA for {vendor} on Google Drive"
    record = queued_request(
        store, text, GENERATE, [entity(text, "document_type", "NDA"), entity(text, "vendor", vendor)]
    )
    assert run_workflow(documents_generate, record.id, dagster_instance, eas_resources, store).success
    (stored,) = [e for e in store.audit_trail(record.id) if e.action == "document.stored"]
    file_id = stored.detail["location"].split("/file/d/")[1].split("/")[0]
    assert "NDA" in pdf_text(stores.drive.get(file_id))


def test_generating_without_a_document_type_is_refused(store, eas_resources, dagster_instance):
    record = queued_request(store, "generate something nice", GENERATE, [])

    assert run_workflow(documents_generate, record.id, dagster_instance, eas_resources, store).success

    done = store.get(record.id)
    assert done.status is Status.FAILED and "which document to generate" in (done.last_error or "")
