"""finance_invoice_file end to end: a CSV of invoices in S3 (moto), posted row by row in the SAP emulator.

"Process the invoices in s3://.../march.csv" is routed to the bulk workflow (the routing table's bulk
route: the text names an s3:// CSV), which reads the file, fans out over its rows in batches, posts
each good row as a single invoice would be posted and reports each bad row by number and reason.
What it did is read back as finance would: SAP's supplier invoices (the emulator's records, by the
marker each row's posting carries), the POs' open amounts, the requester's and #finance's messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import dagster as dg
import pytest

from eas_pipelines.agents.fanout import FanoutBatch, fanout_run_config
from eas_pipelines.agents.finance.file_jobs import finance_invoice_file, post_invoice_row
from eas_pipelines.agents.finance.invoice_file import InvoiceFileError, file_of, read_rows
from eas_pipelines.agents.finance.jobs import POSTING_STEP
from eas_pipelines.connectors.s3 import S3Client
from eas_pipelines.connectors.sap import invoice_marker
from eas_pipelines.gateway.nlp_client import Classification
from eas_pipelines.gateway.triage import decide
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import BULK_INVOICE_JOB, INVOICE_JOB, Lane, Priority, route_for
from eas_pipelines.runs import run_tags_for
from eas_pipelines.sensors import request_failure_sensor
from eas_pipelines.store import RequestStore, Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.agents.test_finance_invoice import SapData
from tests.eas_pipelines.agents.test_finance_invoice import inbox as inbox  # a fixture
from tests.support.vendor_clients import reader, s3_resource, sap_resource

INTENT = "finance.invoice_process"
BUCKET = "eas-test-invoice-files"


@pytest.fixture
def sap_data(sandbox_session, reading: dict) -> Iterator[SapData]:
    with reader(sap_resource(sandbox_session.env, **reading)) as client:
        yield SapData(sandbox_session, client)


@pytest.fixture
def s3(sandbox_session, reading: dict) -> Iterator[S3Client]:
    with reader(s3_resource(sandbox_session.env, **reading)) as client:
        client.ensure_bucket(BUCKET)
        yield client


def upload(s3: S3Client, lines: list[str]) -> str:
    """The CSV ``lines`` stored in S3; the ``s3://`` URL of the file."""
    key = f"inbox/{uuid.uuid4().hex[:8]}/march.csv"
    s3.put(BUCKET, key, ("\n".join(lines) + "\n").encode(), "text/csv")
    return f"s3://{BUCKET}/{key}"


def file_request(store: RequestStore, url: str):
    """The request taken through intake to ``queued`` as the gateway routes it: by intent and text."""
    text = f"Process the invoices in {url}"
    route = route_for(INTENT, text)
    record, _ = store.submit(f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, text)
    store.classify(
        record.id,
        intent=INTENT,
        confidence=0.97,
        entities=[],
        agent=route.agent,
        workflow=route.job,
        priority=route.priority,
        lane=route.lane,
        model_version="test",
        needs_review=False,
    )
    return store.transition(record.id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)


def run(store: RequestStore, record, dagster_instance, resources, **config):
    return finance_invoice_file.execute_in_process(
        run_config=fanout_run_config(finance_invoice_file, record.id, **config),
        instance=dagster_instance,
        resources=resources,
        tags=run_tags_for(store.get(record.id)),
        raise_on_error=False,
    )


def posted_rows(sap: SapData, request_id: str, rows: range) -> dict[int, list[dict]]:
    """Row -> the SAP supplier invoices carrying that row's posting marker (one each, if idempotent)."""
    markers = {invoice_marker(f"{request_id}:{POSTING_STEP}:row{n}"): n for n in rows}
    found: dict[int, list[dict]] = {}
    for record in sap.records.all("sap", "A_SupplierInvoice"):
        row = markers.get(record.get("DocumentHeaderText"))
        if row is not None:
            found.setdefault(row, []).append(record)
    return found


# -- rules ---------------------------------------------------------------------------------------


def test_a_request_naming_an_s3_csv_takes_the_bulk_route():
    text = "Process the invoices in s3://finance-inbox/2026-03/acme.csv please"
    bulk = route_for(INTENT, text)
    assert (bulk.job, bulk.agent, bulk.lane) == (BULK_INVOICE_JOB, "finance", Lane.STANDARD)
    assert route_for(INTENT, "Process invoice INV-1042 from Acme for $12,400").job == INVOICE_JOB
    assert route_for(INTENT).job == INVOICE_JOB
    assert route_for("hr.leave_request", text).job == "hr_leave_request"  # no bulk route: unchanged
    location = file_of(text)
    assert location is not None and (location.bucket, location.key) == ("finance-inbox", "2026-03/acme.csv")


def test_the_gateway_routes_a_file_of_invoices_to_the_bulk_workflow():
    answer = Classification(INTENT, 0.93, False, (), "v1")
    text = "Process the invoices in s3://finance-inbox/march.csv"
    thresholds = {"approval_amount_threshold": 10_000.0, "expense_approval_threshold": 500.0}
    decision = decide(answer, 0.6, thresholds, text=text)
    assert decision.review_reason is None and decision.route is not None
    assert (decision.route.job, decision.priority) == (BULK_INVOICE_JOB, Priority.P2)
    assert decide(answer, 0.6, thresholds, text="Process invoice INV-1 from Acme").route.job == INVOICE_JOB


def test_rows_are_read_with_their_numbers_and_bad_rows_keep_their_reason():
    content = (
        "Supplier,Invoice Number,Amount,Currency,PO,Due Date\n"
        'Acme Corp,INV-1,"1,200.50",,PO-1,2026-03-03\n'
        "Acme Corp,INV-2,twelve,,,\n"
        ",INV-3,10,,,\n"
        "\n"
        "Globex,INV-4,€99,,,\n"
        "ACME corp.,inv-1,5,,,\n"
        "Globex,INV-5,-3,,,\n"
    ).encode()
    rows = read_rows(content, "USD")
    assert [row.row for row in rows] == [2, 3, 4, 6, 7, 8]  # blank line 5 is no invoice
    first = rows[0]
    assert (first.vendor, first.invoice_id, first.amount, first.currency, first.po_number) == (
        "Acme Corp",
        "INV-1",
        1200.5,
        "USD",
        "PO-1",
    )
    assert str(first.due_date) == "2026-03-03" and first.problem is None
    assert rows[1].problem == "not an amount: 'twelve'" and rows[1].target == "row 3 (INV-2)"
    assert rows[2].problem == "no vendor"
    assert (rows[3].currency, rows[3].problem) == ("EUR", None)
    assert rows[4].problem == "same invoice as row 2"
    assert rows[5].problem == "amount '-3' is not positive"
    with pytest.raises(InvoiceFileError, match="no amount column"):
        read_rows(b"vendor,invoice\nAcme,INV-1\n", "USD")
    with pytest.raises(InvoiceFileError, match="no invoices"):
        read_rows(b"vendor,invoice,amount\n", "USD")


# -- end to end ----------------------------------------------------------------------------------


def test_a_file_of_invoices_is_posted_row_by_row_and_bad_rows_are_reported(
    store, eas_resources, dagster_instance, sap_data, s3, inbox, sandbox_session, reading
):
    acme, globex = sap_data.supplier("Acme"), sap_data.supplier("Globex")
    acme_po = sap_data.purchase_order(acme, 1_000_000)
    globex_po = sap_data.purchase_order(globex, 1_000_000)
    tag = sap_data.tag
    lines = ["vendor,invoice_id,amount,po_number,due_date"]
    for n in range(240):
        vendor, po = (acme, acme_po) if n % 2 else (globex, "")
        lines.append(f"{vendor},INV-{tag}-{n:04d},{100 + n}.25,{po},2026-04-30")
    lines.insert(8, f"{acme},INV-{tag}-BAD,twelve dollars,,")  # row 9: not an amount
    lines.insert(20, f"Nobody {tag} Ltd,INV-{tag}-NOBODY,10.00,,")  # row 21: no such supplier
    url = upload(s3, lines)
    record = file_request(store, url)
    assert record.workflow == BULK_INVOICE_JOB and record.lane is Lane.STANDARD

    result = run(store, record, dagster_instance, eas_resources, batch_size=50)

    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED
    summary = f"240 of 242 invoices in {url} posted in SAP, 2 rejected"
    assert store.history(record.id)[-1].reason == summary
    trail = store.audit_trail(record.id)
    planned = next(e for e in trail if e.action == "fanout.planned")
    assert (planned.detail["items"], planned.detail["batches"]) == (242, 5)
    completed = next(e for e in trail if e.action == "fanout.completed")
    reasons = {f["target"]: f["reason"] for f in completed.detail["failures"]}
    assert reasons == {
        f"row 9 (INV-{tag}-BAD)": "not an amount: 'twelve dollars'",
        f"row 21 (INV-{tag}-NOBODY)": f"Nobody {tag} Ltd is not a supplier in SAP",
    }
    # Every good row posted exactly once, against its PO; the bad rows not at all.
    good = [n for n in range(2, 244) if n not in (9, 21)]
    posted = posted_rows(sap_data, record.id, range(2, 244))
    assert sorted(posted) == good and all(len(found) == 1 for found in posted.values())
    assert sap_data.po(acme_po).invoiced_amount == sum(Decimal(f"{100 + n}.25") for n in range(1, 240, 2))
    assert sap_data.po(globex_po).invoiced_amount == sum(Decimal(f"{100 + n}.25") for n in range(0, 240, 2))
    # The requester and #finance are told, the rejected rows named with their reason.
    (told,) = inbox(record.client_id, record.id)
    assert (
        summary in told and "not an amount: 'twelve dollars'" in told and f"row 21 (INV-{tag}-NOBODY)" in told
    )
    assert inbox("#finance", record.id)

    # A retried batch (or a re-run of the request) posts nothing twice: each row finds its own posting.
    entries = result.output_for_node("invoice_file_batches")
    first_batch: FanoutBatch = next(iter(sorted(entries.items())))[1]
    sap = sap_resource(sandbox_session.env, **reading)
    with reader(sap):  # the item function's calls go through this resource's client, closed after
        again = [post_invoice_row(entry, first_batch, sap=sap) for entry in first_batch.entries[:4]]
    assert all(reference.startswith("SI") for reference in again)
    assert posted_rows(sap_data, record.id, range(2, 244)) == posted


def test_a_request_run_again_after_a_failed_run_posts_no_row_twice(
    store, eas_resources, dagster_instance, sap_data, s3, sandbox_session
):
    vendor = sap_data.supplier("Initech")
    po = sap_data.purchase_order(vendor, 100_000)
    lines = ["vendor,invoice_id,amount,po_number"]
    lines += [f"{vendor},INV-{sap_data.tag}-{n},{50 + n},{po}" for n in range(12)]
    record = file_request(store, upload(s3, lines))

    # Every row is posted, then Slack is down for the report: the run fails after the op's retries.
    faults = sandbox_session.sandbox.faults
    faults.add(Fault(kind="error", vendor="slack", rate=1.0))
    try:
        failed = run(store, record, dagster_instance, eas_resources, batch_size=5)
    finally:
        faults.clear()
    assert not failed.success
    posted = posted_rows(sap_data, record.id, range(2, 14))
    assert sorted(posted) == list(range(2, 14))

    # The failure sensor queues the request again; its second run finds every row posted.
    context = dg.build_run_status_sensor_context(
        sensor_name="request_failure_sensor",
        dagster_event=failed.get_run_failure_event(),
        dagster_instance=dagster_instance,
        dagster_run=dagster_instance.get_run_by_id(failed.run_id),
        resources={key: eas_resources[key] for key in ("store", "fast_lane", "policy")},
    ).for_run_failure()
    request_failure_sensor(context)
    assert store.get(record.id).status is Status.QUEUED
    second = run(store, record, dagster_instance, eas_resources, batch_size=5)

    assert second.success
    assert store.get(record.id).status is Status.SUCCEEDED
    matched = [e for e in store.audit_trail(record.id) if e.action == "invoice_file.matched"]
    assert [e.detail["already_posted"] for e in matched] == [0, 12]
    assert posted_rows(sap_data, record.id, range(2, 14)) == posted  # the same documents, none added
    assert sap_data.po(po).invoiced_amount == sum(Decimal(50 + n) for n in range(12))


def test_a_file_over_the_threshold_waits_for_one_approval_and_a_missing_file_is_refused(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance, sap_data, s3, inbox
):
    from tests.eas_pipelines.dagster_support import make_resources

    resources = make_resources(
        migrated_database_url,
        redis_url,
        redis_key_prefix,
        WorkflowPolicyResource(leave_blackouts=[], approval_amount_threshold=1_000),
    )
    vendor = sap_data.supplier("Umbrella")
    sap_data.purchase_order(vendor, 100_000)
    lines = [
        "vendor,invoice_id,amount",
        f"{vendor},INV-{sap_data.tag}-A,500",
        f"{vendor},INV-{sap_data.tag}-B,4000",
    ]
    record = file_request(store, upload(s3, lines))

    assert run(store, record, dagster_instance, resources).success
    assert store.get(record.id).status is Status.AWAITING_APPROVAL
    (approval,) = store.approvals(request_id=record.id)
    assert approval.approver == "finance_manager"
    (asked,) = inbox("finance_manager", record.id)
    assert "1 of the 2 invoices" in asked and f"row 3 (INV-{sap_data.tag}-B)" in asked
    assert posted_rows(sap_data, record.id, range(2, 4)) == {}

    missing = file_request(store, f"s3://{BUCKET}/inbox/none-{uuid.uuid4().hex[:6]}.csv")
    assert run(store, missing, dagster_instance, resources).success
    failed = store.get(missing.id)
    assert failed.status is Status.FAILED and failed.last_error.endswith(".csv does not exist")
