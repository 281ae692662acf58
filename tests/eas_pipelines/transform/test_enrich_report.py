"""Enrichment from the vendor master and the batch report."""

from __future__ import annotations

from eas_pipelines.transform import (
    InMemoryVendorMaster,
    Invoice,
    TransformReport,
    VendorRecord,
    enrich,
    transform_batch,
)

MASTER = InMemoryVendorMaster(
    [
        VendorRecord(
            "V-100", "Acme Corporation", currency="USD", payment_terms="Net 30", expense_account="6100"
        ),
        VendorRecord("17300001", "Globex Ltd", currency="EUR", aliases=("Globex Europe",)),
    ]
)


def invoice(**changes: object) -> Invoice:
    fields = {
        "invoice_number": "INV-1",
        "vendor_name": "ACME Corp.",
        "gross_amount": 10,
        "invoice_date": "2024-03-15",
    }
    return Invoice.model_validate(fields | changes)


def test_enrich_finds_by_normalised_name_and_fills_only_gaps() -> None:
    enriched, filled = enrich(invoice(currency="EUR"), MASTER)
    assert filled == ["expense_account", "payment_terms", "vendor_id"]
    assert enriched.vendor_id == "V-100" and enriched.payment_terms == "Net 30"
    assert enriched.currency == "EUR"  # the record's own value is kept
    assert enriched.vendor_name == "ACME Corp."


def test_enrich_by_id_and_alias_and_unknown() -> None:
    by_id, filled = enrich(invoice(vendor_name=None, vendor_id="17300001"), MASTER)
    assert (by_id.vendor_name, by_id.currency, filled) == ("Globex Ltd", "EUR", ["currency", "vendor_name"])
    assert enrich(invoice(vendor_name="globex europe, ltd"), MASTER)[0].vendor_id == "17300001"
    unknown = invoice(vendor_name="Initech")
    assert enrich(unknown, MASTER) == (unknown, [])


def test_batch_report_maps_rejects_and_enriches() -> None:
    line = {"LineNumber": 1, "LineAmount": 10}
    records = [
        {"InvoiceNumber": "A-1", "InvoiceCurrency": "USD", "InvoiceAmount": 10, "InvoiceDate": "2024-03-15",
         "Supplier": "ACME corp", "invoiceLines": [line]},
        {"InvoiceNumber": "A-2", "InvoiceCurrency": "USD", "InvoiceAmount": -1, "InvoiceDate": "2024-03-15",
         "Supplier": "ACME corp"},
        {"InvoiceNumber": "A-3", "InvoiceCurrency": "USD", "InvoiceAmount": 5, "InvoiceDate": "2024-03-15",
         "Supplier": "Initech"},
    ]  # fmt: skip
    report = transform_batch(records, source="oracle", target="quickbooks", vendor_master=MASTER)
    assert isinstance(report, TransformReport) and not report.ok
    assert len(report.mapped) == 1
    bill = report.mapped[0]
    assert bill["VendorRef"] == {"value": "V-100", "name": "ACME corp"}
    assert bill["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"] == {
        "value": "6100"
    }  # from the master
    assert report.enriched == {0: ["expense_account", "payment_terms", "vendor_id"]}
    assert [index for index, _ in report.rejected] == [1, 2]
    assert [str(e) for e in report.rejected[0][1]] == ["InvoiceAmount: Input should be greater than 0"]
    # Initech is not in the master: QuickBooks needs a vendor id and an account, named as the target's fields.
    assert {e.path for e in report.rejected[1][1]} == {
        "canonical -> quickbooks: VendorRef.value",
        "canonical -> quickbooks: Line.0.AccountBasedExpenseLineDetail.AccountRef.value",
    }
    assert report.summary() == "1 mapped, 2 rejected, 1 enriched"


def test_batch_without_master() -> None:
    report = transform_batch([], source="sap", target="oracle")
    assert report.ok and report.mapped == [] and report.enriched == {}
