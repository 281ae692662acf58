"""The integration agent: its rules, and both workflows end to end against the emulators.

A sync reads SAP supplier invoices (posted in the test through the SAP client, for a supplier of
the test's own) and writes QuickBooks bills, read back through the QuickBooks client; an export
writes Salesforce accounts to S3; a transform converts a file the test puts in S3. The report is
read back from S3 and from the requester's mailbox. The emulators live for the whole session, so
each test uses fresh suppliers, vendors, invoice references and keys.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.integration import integration_data_sync, integration_data_transform
from eas_pipelines.agents.integration.jobs import bill_request_id
from eas_pipelines.agents.integration.plan import (
    S3Location,
    SyncPlan,
    plan_sync,
    plan_transform,
    s3_location,
    target_format,
)
from eas_pipelines.agents.integration.records import (
    convertible,
    map_accounts,
    map_invoices,
    read_records,
    remap_invoices,
    write_records,
)
from eas_pipelines.connectors.quickbooks import QuickBooksClient
from eas_pipelines.connectors.s3 import S3Client
from eas_pipelines.connectors.salesforce import Account, Contact
from eas_pipelines.connectors.sap import SapClient
from eas_pipelines.store import RequestStore, Status
from eas_pipelines.transform import InMemoryVendorMaster, VendorRecord
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received
from tests.support.vendor_clients import quickbooks_resource, s3_resource, sap_resource

SYNC = "integration.data_sync"
TRANSFORM = "integration.data_transform"
BUCKET = "eas-documents"


def tag() -> str:
    return uuid.uuid4().hex[:6].upper()


def ents(text: str, *pairs: tuple[str, str]) -> tuple[dict[str, Any], ...]:
    return tuple(entity(text, kind, snippet) for kind, snippet in pairs)


# ------------------------------------------------------------------------------------------ rules


def test_sync_plan_takes_the_systems_in_the_order_said():
    text = "push invoices INV-1 and INV-2 from Acme Corp in SAP to QuickBooks"
    plan = plan_sync(
        text,
        ents(
            text,
            ("system", "QuickBooks"),
            ("system", "SAP"),
            ("invoice_id", "INV-1"),
            ("invoice_id", "INV-2"),
            ("vendor", "Acme Corp"),
        ),
    )
    assert plan == SyncPlan("sap", "quickbooks", plan.what, ("INV-1", "INV-2"), "Acme Corp", "csv")


@pytest.mark.parametrize(
    ("text", "systems", "reason"),
    [
        ("sync Jira with Slack", ("Jira", "Slack"), "Jira, Slack has no connector"),
        ("mirror QuickBooks into SAP", ("QuickBooks", "SAP"), "no sync from quickbooks to sap; supported"),
        ("push the invoices from SAP to QuickBooks", ("SAP", "QuickBooks"), "name the SAP supplier"),
    ],
)
def test_sync_plan_refuses_what_it_cannot_do(text, systems, reason):
    found = plan_sync(text, ents(text, *[("system", s) for s in systems]))
    assert isinstance(found, str) and reason in found


def test_transform_plan_reads_the_file_and_the_format():
    assert s3_location("convert s3://My-Bucket/a/b.json, please", "d") == S3Location("my-bucket", "a/b.json")
    assert s3_location("convert exports/vendors.xml to CSV", "docs") == S3Location(
        "docs", "exports/vendors.xml"
    )
    assert target_format("convert this csv into JSON", "csv") == "json"
    assert target_format("I need the XML export as csv", "xml") == "csv"
    assert target_format("flatten the JSON from SAP", "json") is None
    plan = plan_transform("convert exports/v.json to XML", (), "docs")
    assert not isinstance(plan, str) and (plan.location.key, plan.target_format) == ("exports/v.json", "xml")
    assert "names no file" in str(plan_transform("convert the export to CSV", (), "docs"))
    assert "which format" in str(plan_transform("tidy up exports/v.json", (), "docs"))
    location = S3Location("b", "in/v.json")
    assert (str(location.with_suffix("csv")), str(location.with_suffix("json", "sap"))) == (
        "s3://b/in/v.csv",
        "s3://b/in/v.sap.json",
    )


def sap_record(ref: str, party: str, amount: str = "100.00", **extra: Any) -> tuple[str, dict[str, Any]]:
    record = {
        "CompanyCode": "1010",
        "DocumentDate": "2026-03-01",
        "PostingDate": "2026-03-02",
        "SupplierInvoiceIDByInvcgParty": ref,
        "InvoicingParty": party,
        "DocumentCurrency": "EUR",
        "InvoiceGrossAmount": amount,
        **extra,
    }
    return ref, record


def test_invoices_are_rekeyed_to_the_targets_vendor_and_enriched():
    master = InMemoryVendorMaster([VendorRecord("58", "Acme Corporation", expense_account="7")])
    batch = map_invoices(
        [
            sap_record("A-1", "17300001", "1250.50"),
            sap_record("A-2", "17300099"),
            sap_record("A-3", "17300001", "0"),
        ],
        source="sap",
        target="quickbooks",
        master=master,
        source_names={"17300001": "ACME Corp.", "17300099": "Nobody GmbH"},
    )
    (bill,) = [m.record for m in batch.mapped]
    assert bill["VendorRef"] == {
        "value": "58",
        "name": "ACME Corp.",
    }  # the id is the target's; names are never overwritten
    assert bill["Line"][0]["Amount"] == 1250.5 and bill["Line"][0]["AccountBasedExpenseLineDetail"] == {
        "AccountRef": {"value": "7"}
    }
    assert (bill["DocNumber"], bill["TxnDate"], bill["CurrencyRef"]) == (
        "A-1",
        "2026-03-01",
        {"value": "EUR"},
    )
    assert [(e.ref, e.fields) for e in batch.enriched] == [("A-1", ("expense_account", "vendor_id"))]
    refused = {(r.ref, r.field) for r in batch.rejected}
    assert ("A-2", "canonical -> quickbooks: VendorRef.value") in refused  # the target knows no such vendor
    assert ("A-3", "InvoiceGrossAmount") in refused  # SAP's own model refuses a zero amount
    assert batch.rejected_count == 2


def test_remapping_a_files_invoices_reports_each_refusal():
    bills = [
        {
            "VendorRef": {"value": "1", "name": "Globex"},
            "Line": [_line(40)],
            "DocNumber": "B-1",
            "TxnDate": "2026-01-05",
            "CurrencyRef": {"value": "USD"},
        },
        "not a record",
        {"VendorRef": {"value": "2"}, "Line": [], "DocNumber": "B-3"},
    ]
    batch = remap_invoices(bills, source="quickbooks", target="oracle")
    assert [m.ref for m in batch.mapped] == ["B-1"]
    assert batch.mapped[0].record["Supplier"] == "Globex" and batch.mapped[0].record["InvoiceAmount"] == 40
    assert ("record 2", "(record)", "not an object") in {(r.ref, r.field, r.reason) for r in batch.rejected}
    assert {r.field for r in batch.rejected if r.ref == "B-3"} >= {"Line"}


def _line(amount: float) -> dict[str, Any]:
    return {"Amount": amount, "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "9"}}}


def test_accounts_are_normalised_checked_and_given_their_primary_contact():
    accounts = [
        Account(Id="001A", Name="acme  corp.", Website="https://acme.example.com", Phone="555 0100 77"),
        Account(Id="001B", Name="Bad Data Inc", Website="acme dot com", Phone="12"),
        Account(Id="001C", Name="Loner Ltd"),
    ]
    contacts = [
        Contact(Id="003A", Email="first@acme.example.com", AccountId="001A"),
        Contact(Id="003B", Email="second@acme.example.com", AccountId="001A"),
    ]
    batch = map_accounts(accounts, contacts)
    rows = {m.ref: m.record for m in batch.mapped}
    assert (
        rows["001A"]["name"] == "acme Corp"
        and rows["001A"]["primary_contact_email"] == "first@acme.example.com"
    )
    assert rows["001C"]["primary_contact_email"] is None
    assert {(r.ref, r.field, r.reason) for r in batch.rejected} == {
        ("001B", "website", "not an http(s) URL"),
        ("001B", "phone", "fewer than 7 digits"),
    }
    assert [e.ref for e in batch.enriched] == ["001A"]


def test_formats_round_trip_and_unusable_keys_are_rejected():
    records = [
        {"id": "1", "vendor": {"name": "Acme", "tags": ["a", "b"]}},
        {"id": "2", "vendor": {"name": "Globex"}},
    ]
    for fmt in ("json", "xml"):
        assert read_records(write_records(records, fmt), fmt) == records
    assert read_records(write_records(records, "csv"), "csv")[0] == {
        "id": "1",
        "vendor": {"name": "Acme", "tags": ["a", "b"]},
    }
    foreign = b"<vendors><vendor><id>7</id></vendor><vendor><id>8</id></vendor></vendors>"
    assert read_records(foreign, "xml") == [{"id": "7"}, {"id": "8"}]
    batch = convertible([{"id": "1", "a.b": 1}, {"id": "2", "ok": {"1st": 2}}, 5], "csv")
    assert [(r.ref, r.field) for r in batch.rejected] == [("1", "a.b"), ("record 3", "(record)")]
    batch = convertible([{"id": "2", "ok": {"1st": 2}}], "xml")
    assert [(r.ref, r.field) for r in batch.rejected] == [("2", "ok.1st")]
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><l>&b;</l>'
    with pytest.raises(ValueError, match="XML refused"):
        read_records(bomb, "xml")


def test_a_bills_requestid_is_stable_per_request_and_record():
    item = WorkItem("req-1", "integration", SYNC, "t", "c", 2, (), 1, "run")
    assert bill_request_id(item, "INV-1") == bill_request_id(item, "INV-1") != bill_request_id(item, "INV-2")
    assert len(bill_request_id(item, "x" * 200)) <= 50


# ------------------------------------------------------------------------------------- end to end


@dataclass
class Systems:
    sap: SapClient
    quickbooks: QuickBooksClient
    s3: S3Client
    records: Any

    def supplier(self, name: str) -> tuple[str, str]:
        """A new SAP supplier; its (number, name)."""
        number = f"9{uuid.uuid4().int % 10**9:09d}"
        self.records.put("sap", "A_Supplier", number, {"Supplier": number, "SupplierName": name})
        return number, name

    def invoice(self, supplier: str, amount: str) -> str:
        ref = f"INV-{tag()}"
        self.sap.post_supplier_invoice(
            supplier, ref, Decimal(amount), "USD", None, date(2026, 3, 1), f"test:{ref}"
        )
        return ref

    def bills(self, doc_number: str):
        return self.quickbooks.bills(doc_number=doc_number)

    def read(self, url: str) -> bytes:
        location = s3_location(url, BUCKET)
        assert location is not None
        data = self.s3.get(location.bucket, location.key)
        assert data is not None, url
        return data


@pytest.fixture
def systems(sandbox_session, reading: dict) -> Iterator[Systems]:
    env = sandbox_session.env
    sap = sap_resource(env, **reading)
    quickbooks = quickbooks_resource(env, **reading)
    s3 = s3_resource(env, **reading)
    found = Systems(sap.client(), quickbooks.client(), s3.client(), sandbox_session.sandbox.records)
    try:
        yield found
    finally:
        for client in (found.sap, found.quickbooks, found.s3):
            client.close()


def sync_request(store: RequestStore, supplier: str, refs: list[str]):
    text = f"push invoices {' and '.join(refs)} from {supplier} in SAP to QuickBooks"
    entities = [entity(text, "invoice_id", ref) for ref in refs]
    entities += [
        entity(text, "vendor", supplier),
        entity(text, "system", "SAP"),
        entity(text, "system", "QuickBooks"),
    ]
    return queued_request(store, text, SYNC, entities)


def actions(store: RequestStore, request_id: str) -> list[str]:
    return [e.action for e in store.audit_trail(request_id) if e.actor == "integration"]


def report_of(systems: Systems, store: RequestStore, request_id: str) -> dict[str, Any]:
    (entry,) = [e for e in store.audit_trail(request_id) if e.action == "integration.reported"]
    return json.loads(systems.read(entry.detail["report"]))


def test_sap_invoices_become_quickbooks_bills_once(
    store, eas_resources, dagster_instance, sandbox_session, redis_url, systems
):
    name = f"Hydra {tag()} Corp"
    systems.supplier(name)
    vendor = systems.quickbooks.create_vendor(f"HYDRA {name.split()[1]} Corporation")  # spelt its own way
    first, second = systems.invoice(name, "1250.50"), systems.invoice(name, "99.00")
    missing = f"INV-{tag()}"
    record = sync_request(store, name, [first, second, missing])

    result = run_workflow(integration_data_sync, record.id, dagster_instance, eas_resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    (bill,) = systems.bills(first)
    assert (bill.vendor_id, bill.total, bill.txn_date) == (vendor.id, 1250.5, "2026-03-01")
    assert len(systems.bills(second)) == 1 and systems.bills(missing) == []
    report = report_of(systems, store, record.id)
    assert report["counts"] == {"records": 3, "mapped": 2, "rejected": 1, "enriched": 2}
    assert report["written"] == {"created": 2, "already_present": 0}
    assert report["rejected"] == [
        {
            "index": 2,
            "ref": missing,
            "field": "SupplierInvoiceIDByInvcgParty",
            "reason": "no such invoice of the supplier in SAP",
        }
    ]
    assert {tuple(e["fields"]) for e in report["enriched"]} == {("expense_account", "vendor_id")}
    (mail,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert "sap -> quickbooks: 3 records, 2 mapped, 1 rejected, 2 enriched (2 created)" in mail.text
    assert f"{missing} (#3): SupplierInvoiceIDByInvcgParty" in mail.text
    for step in (
        "integration.planned",
        "integration.source_read",
        "integration.mapped",
        "integration.written",
        "integration.reported",
        "workflow.completed",
    ):
        assert step in actions(store, record.id)
    assert any(e.detail.get("not_found") == [missing] for e in store.audit_trail(record.id))

    again = sync_request(store, name, [first, second])  # a later sync of the same invoices
    assert run_workflow(integration_data_sync, again.id, dagster_instance, eas_resources, store).success
    assert len(systems.bills(first)) == 1 and len(systems.bills(second)) == 1
    assert report_of(systems, store, again.id)["written"] == {"created": 0, "already_present": 2}


def test_a_retried_bill_create_is_the_same_bill(systems):
    name = f"Retry {tag()} Ltd"
    vendor = systems.quickbooks.create_vendor(name)
    item = WorkItem(f"req-{tag()}", "integration", SYNC, "t", "c", 2, (), 1, "run")
    body = {
        "VendorRef": {"value": vendor.id},
        "Line": [
            {
                "Amount": 12,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": systems.quickbooks.account_by_name("Professional Fees").id}
                },
            }
        ],
        "DocNumber": f"R-{tag()}",
    }
    once = systems.quickbooks.save_bill(body, request_id=bill_request_id(item, "R"))
    twice = systems.quickbooks.save_bill(body, request_id=bill_request_id(item, "R"))
    assert once.id == twice.id and len(systems.bills(body["DocNumber"])) == 1


def test_a_supplier_quickbooks_does_not_know_is_reported_not_created(
    store, eas_resources, dagster_instance, systems
):
    name = f"Umbra {tag()} Supplies"
    systems.supplier(name)
    ref = systems.invoice(name, "10.00")
    record = sync_request(store, name, [ref])

    assert run_workflow(integration_data_sync, record.id, dagster_instance, eas_resources, store).success

    assert systems.bills(ref) == []
    report = report_of(systems, store, record.id)
    assert report["counts"]["mapped"] == 0
    assert {"index": 0, "ref": ref, "field": "canonical -> quickbooks: VendorRef.value"}.items() <= report[
        "rejected"
    ][0].items()


def test_an_unknown_supplier_fails_the_request_with_the_reason(store, eas_resources, dagster_instance):
    record = sync_request(store, f"Ghost {tag()} GmbH", ["INV-1"])

    assert run_workflow(integration_data_sync, record.id, dagster_instance, eas_resources, store).success

    done = store.get(record.id)
    assert done.status is Status.FAILED and "SAP knows no supplier named" in (done.last_error or "")


def test_salesforce_accounts_are_exported_to_s3(
    store, eas_resources, dagster_instance, sandbox_session, systems
):
    bad = f"001{uuid.uuid4().hex[:15]}"
    fields = {
        "Id": bad,
        "Name": f"Broken {tag()} Inc",
        "Industry": None,
        "Website": "broken dot com",
        "Phone": None,
        "CreatedDate": "2026-01-01T00:00:00.000+0000",
        "LastModifiedDate": "2026-01-01T00:00:00.000+0000",
    }
    systems.records.put("salesforce", "Account", bad, fields)
    key = f"integration-tests/{tag()}/accounts.csv"
    text = f"export the accounts from Salesforce to the S3 bucket at s3://{BUCKET}/{key}"
    entities = [entity(text, "system", "Salesforce"), entity(text, "system", "the S3 bucket")]
    record = queued_request(store, text, SYNC, entities)

    assert run_workflow(integration_data_sync, record.id, dagster_instance, eas_resources, store).success

    rows = read_records(systems.read(f"s3://{BUCKET}/{key}"), "csv")
    acme = next(r for r in rows if r["name"] == "Acme Corp")
    assert (
        acme["primary_contact_email"] == "wile.coyote@acme.example.com"
        and acme["website"] == "https://acme.example.com"
    )
    assert all(r["salesforce_id"] != bad for r in rows)
    report = json.loads(systems.read(f"s3://{BUCKET}/{key}.report.json"))
    assert {"ref": bad, "field": "website", "reason": "not an http(s) URL"}.items() <= next(
        r for r in report["rejected"] if r["ref"] == bad
    ).items()
    assert report["written"] == {"rows": len(rows)} and report["counts"]["enriched"] >= 3


def test_a_json_file_is_converted_to_csv_next_to_it(store, eas_resources, dagster_instance, systems):
    folder = f"integration-tests/{tag()}"
    records = [{"id": "V-1", "name": "Acme", "address": {"city": "Berlin"}}, {"id": "V-2", "bad.key": 1}]
    systems.s3.put(BUCKET, f"{folder}/vendors.json", json.dumps(records).encode(), "application/json")
    text = f"convert s3://{BUCKET}/{folder}/vendors.json to CSV"
    record = queued_request(store, text, TRANSFORM, [])

    assert run_workflow(integration_data_transform, record.id, dagster_instance, eas_resources, store).success

    assert store.get(record.id).status is Status.SUCCEEDED
    assert read_records(systems.read(f"s3://{BUCKET}/{folder}/vendors.csv"), "csv") == [
        {"id": "V-1", "name": "Acme", "address": {"city": "Berlin"}}
    ]
    report = json.loads(systems.read(f"s3://{BUCKET}/{folder}/vendors.csv.report.json"))
    assert report["counts"] == {"records": 2, "mapped": 1, "rejected": 1, "enriched": 0}
    assert report["rejected"][0]["ref"] == "V-2" and report["rejected"][0]["field"] == "bad.key"


def test_a_files_quickbooks_bills_are_remapped_to_oracle_invoices(
    store, eas_resources, dagster_instance, systems
):
    folder = f"integration-tests/{tag()}"
    bills = [
        {
            "VendorRef": {"value": "1", "name": "Globex"},
            "Line": [_line(40)],
            "DocNumber": "B-1",
            "TxnDate": "03/04/2026",
            "CurrencyRef": {"value": "USD"},
        },
        {
            "VendorRef": {"value": "2", "name": "Initech"},
            "Line": [_line(-5)],
            "DocNumber": "B-2",
            "TxnDate": "2026-03-04",
        },
    ]
    systems.s3.put(BUCKET, f"{folder}/bills.json", json.dumps(bills).encode())
    text = f"map the QuickBooks fields to Oracle in s3://{BUCKET}/{folder}/bills.json"
    entities = [entity(text, "system", "QuickBooks"), entity(text, "system", "Oracle")]
    record = queued_request(store, text, TRANSFORM, entities)

    assert run_workflow(integration_data_transform, record.id, dagster_instance, eas_resources, store).success

    (invoice,) = read_records(systems.read(f"s3://{BUCKET}/{folder}/bills.oracle.json"), "json")
    assert (invoice["InvoiceNumber"], invoice["Supplier"], invoice["InvoiceCurrency"]) == (
        "B-1",
        "Globex",
        "USD",
    )
    assert invoice["InvoiceDate"] == "2026-03-04"
    report = json.loads(systems.read(f"s3://{BUCKET}/{folder}/bills.oracle.json.report.json"))
    assert [(r["ref"], r["field"]) for r in report["rejected"]] == [("B-2", "Line.0.Amount")]


@pytest.mark.parametrize(
    ("name", "body", "text", "reason"),
    [
        ("bomb.xml", b'<!DOCTYPE l [<!ENTITY a "aa">]><l>&a;</l>', "convert {url} to JSON", "XML refused"),
        ("gone.json", None, "convert {url} to CSV", "no such file"),
        ("same.csv", b"id\n1\n", "turn {url} into CSV", "is already CSV"),
    ],
)
def test_a_file_that_cannot_be_converted_fails_with_the_reason(
    store, eas_resources, dagster_instance, systems, name, body, text, reason
):
    url = f"s3://{BUCKET}/integration-tests/{tag()}/{name}"
    if body is not None:
        systems.s3.put(BUCKET, url.split(f"{BUCKET}/", 1)[1], body)
    record = queued_request(store, text.format(url=url), TRANSFORM, [])

    assert run_workflow(integration_data_transform, record.id, dagster_instance, eas_resources, store).success

    done = store.get(record.id)
    assert done.status is Status.FAILED and reason in (done.last_error or "")


def test_quickbooks_down_fails_the_run(
    store, dagster_instance, sandbox, systems, migrated_database_url, redis_url, redis_key_prefix
):
    resources = make_resources(
        migrated_database_url, redis_url, f"{redis_key_prefix}outage:", max_attempts=1, initial_backoff_s=0.01
    )
    name = f"Down {tag()} Corp"
    systems.supplier(name)
    ref = systems.invoice(name, "5.00")
    record = sync_request(store, name, [ref])
    sandbox.fault("error", "quickbooks", count=100, status=503)
    try:
        result = run_workflow(integration_data_sync, record.id, dagster_instance, resources, store)
    finally:
        sandbox.reset()

    assert not result.success
    assert store.get(record.id).status is Status.RUNNING  # the failure sensor retries or fails it
    assert "integration.written" not in actions(store, record.id)
