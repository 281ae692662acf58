"""Integration agent: ``integration_data_sync`` and ``integration_data_transform``.

sync: plan (which systems, which records) -> read the source -> map through the transformation
layer (re-keyed, enriched) -> write the target -> store the report next to the output and send it.
transform: plan (which file, which format) -> read the file from S3 -> convert (or remap invoices
between systems' shapes) -> write the result next to the input -> the same report.

Idempotent, so that a retried op or a re-run request creates nothing twice:

- QuickBooks bills are created with ``requestid`` = a UUID derived from the request and the
  source record, so a retry gets QuickBooks' first answer back; a bill a *previous* request
  already entered (same ``DocNumber`` for the vendor: Fault 6210) is counted "already present".
- S3 objects are written under keys derived from the request (or next to the input), and PUT
  overwrites with the same bytes.
- Notifications are keyed by the request.

A request the data cannot satisfy (unknown systems, no such file, a file not in its format, a
supplier SAP does not know) ends ``failed`` with the reason; a refused *record* is reported and the
rest go on; a connector down (after the op's retries) or EAS's own credentials refused fails the run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.integration.plan import (
    FORMATS,
    S3Location,
    SyncPlan,
    TransformPlan,
    plan_sync,
    plan_transform,
    s3_location,
    sniff_format,
)
from eas_pipelines.agents.integration.records import (
    Batch,
    Rejection,
    convertible,
    fitting,
    map_accounts,
    map_invoices,
    quickbooks_vendor_master,
    read_records,
    remap_invoices,
    sap_wire_invoice,
    write_records,
)
from eas_pipelines.agents.integration.report import IntegrationReport
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.transform import InMemoryVendorMaster

SYNC_JOB = "integration_data_sync"
TRANSFORM_JOB = "integration_data_transform"

EXPENSE_ACCOUNTS = ("Uncategorized Expense", "Professional Fees")
"""The QuickBooks account a synced bill's lines are booked to, the first that exists: QuickBooks needs
one per line and an SAP invoice header names none (its G/L lines are not read). QuickBooks' own
"Uncategorized Expense" where the company has it, for a person to re-code."""

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest file a transform reads into memory (a bigger one is refused, not half-read)."""

_EAS_CREDENTIALS = frozenset({401, 403})
"""Refusals that are EAS's problem (its login or rights), not the request's: the run fails."""

_DUPLICATE_DOC_NUMBER = "6210"


@dataclass(frozen=True)
class IntegrationCase:
    """The request as the integration workflow carries it from op to op."""

    item: WorkItem
    source: str
    target: str
    sync: SyncPlan | None = None
    transform: TransformPlan | None = None
    output: S3Location | None = None
    output_format: str | None = None
    records: tuple[tuple[str, Any], ...] = ()
    """Source records as ``(ref, record)``: wire dicts, or a file's (anything); Salesforce's in ``extra``."""
    extra: dict[str, Any] | None = None
    batch: Batch | None = None
    written: dict[str, int] | None = None

    def with_(self, **changes: Any) -> IntegrationCase:
        return replace(self, **changes)


def _refusal(exc: VendorRejected, system: str) -> str | None:
    """Why the request cannot be done, when a vendor refused it; None when the run should fail."""
    if exc.status in _EAS_CREDENTIALS:
        return None
    return f"{system} refused: {exc}"


def bill_request_id(item: WorkItem, ref: str) -> str:
    """QuickBooks ``requestid`` of one record's bill (at most 50 characters: a UUID of the key)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"eas:{item.key('bill')}:{ref}"))


# --- sync ---------------------------------------------------------------------------------------------


@workflow_step(IntegrationCase)
def plan_data_sync(item: WorkItem, *, s3: S3ConnectorResource) -> Step:
    """Which systems and records the sync moves (the supported pairs), or why it cannot."""
    plan = plan_sync(item.text, item.entities)
    if isinstance(plan, str):
        return Step.refused(plan)
    case = IntegrationCase(item, plan.source, plan.target, sync=plan)
    if plan.target == "s3":
        named = s3_location(item.text, s3.documents_bucket)
        output = named or S3Location(
            s3.documents_bucket, f"integration/{plan.source}/accounts-{item.request_id}"
        )
        file_format = output.suffix if output.suffix in FORMATS else plan.file_format
        if output.suffix != file_format:
            output = S3Location(output.bucket, f"{output.key}.{file_format}")
        case = case.with_(output=output, output_format=file_format)
    return Step.passed(
        case,
        "integration.planned",
        source=plan.source,
        target=plan.target,
        what=plan.what,
        invoices=list(plan.invoice_refs),
        supplier=plan.supplier,
    )


@workflow_step(IntegrationCase)
def read_sync_source(case: IntegrationCase, *, sap: SapResource, salesforce: SalesforceResource) -> Step:
    """Read the records to move from the source system through its connector."""
    plan = case.sync
    assert plan is not None  # set by plan_data_sync
    try:
        if case.source == "sap":
            return _read_sap(case, plan, sap)
        client = salesforce.client()
        accounts, contacts = client.accounts(), client.contacts()
    except VendorRejected as exc:
        if (reason := _refusal(exc, case.source)) is None:
            raise
        return Step.refused(reason)
    case = case.with_(extra={"accounts": accounts, "contacts": contacts})
    return Step.passed(case, "integration.source_read", source=case.source, records=len(accounts))


def _read_sap(case: IntegrationCase, plan: SyncPlan, sap: SapResource) -> Step:
    client = sap.client()
    assert plan.supplier is not None
    supplier = client.supplier_by_name(plan.supplier) or client.supplier(plan.supplier)
    if supplier is None:
        return Step.refused(f"SAP knows no supplier named or numbered {plan.supplier!r}")
    records: list[tuple[str, dict[str, Any]]] = []
    missing: list[str] = []
    for ref in plan.invoice_refs:
        invoice = client.supplier_invoice(supplier.supplier_id, ref)
        if invoice is None:
            missing.append(ref)
        else:
            records.append((ref, sap_wire_invoice(invoice)))
    if not records:
        return Step.refused(
            f"none of the invoices {', '.join(plan.invoice_refs)} of {supplier.name} "
            f"({supplier.supplier_id}) is in SAP"
        )
    case = case.with_(
        records=tuple(records), extra={"names": {supplier.supplier_id: supplier.name}, "missing": missing}
    )
    return Step.passed(
        case,
        "integration.source_read",
        source="sap",
        records=len(records),
        not_found=missing,
        supplier=supplier.supplier_id,
    )


def _expense_account(client: Any) -> str | None:
    for name in EXPENSE_ACCOUNTS:
        account = client.account_by_name(name)
        if account is not None:
            return account.id
    return None


@workflow_step(IntegrationCase)
def map_sync_records(case: IntegrationCase, *, quickbooks: QuickBooksResource) -> Step:
    """Map the records to the target's shape through the transformation layer (re-keyed, enriched)."""
    extra = case.extra or {}
    if case.source == "sap":
        client = quickbooks.client()
        account = _expense_account(client)
        if account is None:
            return Step.refused(f"QuickBooks has none of the expense accounts {', '.join(EXPENSE_ACCOUNTS)}")
        master = InMemoryVendorMaster(quickbooks_vendor_master(client.vendors(), account))
        batch = map_invoices(
            case.records,
            source="sap",
            target="quickbooks",
            master=master,
            source_names=extra.get("names", {}),
        )
        missing = [
            Rejection(
                batch.total + n,
                ref,
                "SupplierInvoiceIDByInvcgParty",
                "no such invoice of the supplier in SAP",
            )
            for n, ref in enumerate(extra.get("missing", []))
        ]
        batch = replace(batch, total=batch.total + len(missing), rejected=batch.rejected + tuple(missing))
    else:
        batch = map_accounts(extra.get("accounts", []), extra.get("contacts", []))
    return Step.passed(
        case.with_(batch=batch, extra=None),
        "integration.mapped",
        mapped=len(batch.mapped),
        rejected=[f"{r.ref}: {r.field}: {r.reason}" for r in batch.rejected],
        enriched=[f"{e.ref}: {', '.join(e.fields)}" for e in batch.enriched],
    )


@workflow_step(IntegrationCase)
def write_sync_target(
    case: IntegrationCase, *, quickbooks: QuickBooksResource, s3: S3ConnectorResource
) -> Step:
    """Write the mapped records to the target, once each (the target's idempotency, module doc)."""
    assert case.batch is not None
    if case.target == "s3":
        return _write_file(case, s3, [m.record for m in case.batch.mapped])
    client = quickbooks.client()
    created: list[str] = []
    present: list[str] = []
    refused: list[Rejection] = []
    for mapped in case.batch.mapped:
        try:
            bill = client.save_bill(mapped.record, request_id=bill_request_id(case.item, mapped.ref))
        except VendorRejected as exc:
            if exc.code == _DUPLICATE_DOC_NUMBER:
                present.append(mapped.ref)
                continue
            if exc.status in _EAS_CREDENTIALS:
                raise
            refused.append(Rejection(mapped.index, mapped.ref, "quickbooks", str(exc)))
            continue
        created.append(f"{mapped.ref}={bill.id}")
    batch = case.batch
    if refused:
        bad = {r.index for r in refused}
        batch = replace(
            batch,
            mapped=tuple(m for m in batch.mapped if m.index not in bad),
            rejected=batch.rejected + tuple(refused),
            enriched=tuple(e for e in batch.enriched if e.index not in bad),
        )
    output = S3Location(
        s3.documents_bucket, f"integration/{case.source}-{case.target}/{case.item.request_id}"
    )
    written = {"created": len(created), "already_present": len(present)}
    return Step.passed(
        case.with_(batch=batch, written=written, output=output),
        "integration.written",
        target="quickbooks",
        created=created,
        already_present=present,
        refused=[f"{r.ref}: {r.reason}" for r in refused],
    )


def _write_file(case: IntegrationCase, s3: S3ConnectorResource, rows: list[dict[str, Any]]) -> Step:
    assert case.output is not None and case.output_format is not None
    data = write_records(rows, case.output_format)
    content_type = {"csv": "text/csv", "json": "application/json", "xml": "application/xml"}[
        case.output_format
    ]
    try:
        s3.client().put(case.output.bucket, case.output.key, data, content_type)
    except VendorRejected as exc:
        if (reason := _refusal(exc, "S3")) is None:
            raise
        return Step.refused(reason, output=str(case.output))
    return Step.passed(
        case.with_(written={"rows": len(rows)}),
        "integration.written",
        target=str(case.output),
        rows=len(rows),
        bytes=len(data),
    )


@workflow_step(WorkResult, optional=False)
def deliver_integration_report(
    case: IntegrationCase, *, s3: S3ConnectorResource, notifications: NotificationsResource
) -> Step:
    """Store the report next to the output and send it to the requester."""
    item = case.item
    assert case.batch is not None and case.output is not None
    to_bills = case.sync is not None and case.target == "quickbooks"
    report = IntegrationReport(
        item.request_id,
        case.source,
        case.target,
        "QuickBooks bills" if to_bills else str(case.output),
        case.batch,
        dict(case.written or {}),
    )
    where = S3Location(case.output.bucket, f"{case.output.key}.report.json")
    s3.client().put(where.bucket, where.key, report.to_json(), "application/json")
    notifications.send(
        item.requester,
        f"Integration report: {case.source} -> {case.target}",
        report.message(str(where)),
        request_id=item.request_id,
        idempotency_key=item.key("notify:report"),
        detail={"report": str(where), **report.counts()},
    )
    counts = report.counts()
    result = WorkResult(item, report.summary(), {"report": str(where), **counts, **report.written})
    return Step.passed(result, "integration.reported", report=str(where), **counts, written=report.written)


integration_data_sync = workflow_job(
    name=SYNC_JOB,
    agent="integration",
    description="Move records between systems through the transformation layer, with a report.",
    steps=(plan_data_sync, read_sync_source, map_sync_records, write_sync_target, deliver_integration_report),
)


# --- transform ----------------------------------------------------------------------------------------


@workflow_step(IntegrationCase)
def plan_data_transform(item: WorkItem, *, s3: S3ConnectorResource) -> Step:
    """Which file in S3 and which conversion (a format, or invoices remapped between systems)."""
    plan = plan_transform(item.text, item.entities, s3.documents_bucket)
    if isinstance(plan, str):
        return Step.refused(plan)
    case = IntegrationCase(item, plan.source_system or "s3", plan.target_system or "s3", transform=plan)
    return Step.passed(
        case,
        "integration.planned",
        file=str(plan.location),
        to_format=plan.target_format,
        source_system=plan.source_system,
        target_system=plan.target_system,
    )


@workflow_step(IntegrationCase)
def read_transform_file(case: IntegrationCase, *, s3: S3ConnectorResource) -> Step:
    """Read the file from S3 and parse its records (XML through defusedxml only)."""
    plan = case.transform
    assert plan is not None
    location = plan.location
    try:
        data = s3.client().get(location.bucket, location.key)
    except VendorRejected as exc:
        if (reason := _refusal(exc, "S3")) is None:
            raise
        return Step.refused(reason, file=str(location))
    if data is None:
        return Step.refused(f"no such file: {location}")
    if len(data) > MAX_FILE_BYTES:
        return Step.refused(f"{location} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte limit")
    file_format = location.suffix if location.suffix in FORMATS else sniff_format(data)
    if file_format is None:
        return Step.refused(f"{location} is empty")
    try:
        records = read_records(data, file_format)
    except (ValueError, UnicodeDecodeError) as exc:
        return Step.refused(f"{location} is not readable {file_format.upper()}: {exc}")
    output_format = plan.target_format or file_format
    if plan.source_system is None and output_format == file_format:
        return Step.refused(f"{location} is already {file_format.upper()}")
    tag = plan.target_system or ""
    output = location.with_suffix(output_format, tag)
    if output == location:
        output = location.with_suffix(output_format, "converted")
    case = case.with_(
        source=f"{plan.source_system or file_format.upper()} file {location}",
        target=f"{plan.target_system or output_format.upper()} file {output}",
        records=tuple((str(i), r) for i, r in enumerate(records)),
        output=output,
        output_format=output_format,
    )
    return Step.passed(
        case, "integration.source_read", file=str(location), format=file_format, records=len(records)
    )


@workflow_step(IntegrationCase)
def transform_file_records(case: IntegrationCase) -> Step:
    """Convert each record (or remap invoices between systems); refused ones reported with their field."""
    plan = case.transform
    assert plan is not None and case.output_format is not None
    records = [record for _, record in case.records]
    if plan.source_system and plan.target_system:
        remapped = remap_invoices(records, source=plan.source_system, target=plan.target_system)
        batch = fitting(remapped, case.output_format)
    else:
        batch = convertible(records, case.output_format)
    return Step.passed(
        case.with_(batch=batch, records=()),
        "integration.mapped",
        mapped=len(batch.mapped),
        rejected=[f"{r.ref}: {r.field}: {r.reason}" for r in batch.rejected],
    )


@workflow_step(IntegrationCase)
def write_transform_output(case: IntegrationCase, *, s3: S3ConnectorResource) -> Step:
    """Write the converted records next to the input file."""
    assert case.batch is not None
    return _write_file(case, s3, [m.record for m in case.batch.mapped])


integration_data_transform = workflow_job(
    name=TRANSFORM_JOB,
    agent="integration",
    description="Convert a file in S3 between JSON, XML and CSV (or remap invoices), with a report.",
    steps=(
        plan_data_transform,
        read_transform_file,
        transform_file_records,
        write_transform_output,
        deliver_integration_report,
    ),
)
