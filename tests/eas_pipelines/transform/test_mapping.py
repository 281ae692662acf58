"""Schema mapping: each vendor shape to and from canonical, and errors naming the failing field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from eas_pipelines.transform import (
    Invoice,
    MappingError,
    SapSupplierInvoice,
    convert,
    from_canonical,
    systems,
    to_canonical,
)


def sap_record(**changes: Any) -> dict[str, Any]:
    record = {
        "CompanyCode": "1010",
        "DocumentDate": "/Date(1710460800000)/",
        "PostingDate": "/Date(1710547200000)/",
        "SupplierInvoiceIDByInvcgParty": "INV-1042",
        "InvoicingParty": "17300001",
        "DocumentCurrency": "EUR",
        "InvoiceGrossAmount": "1234.50",
        "to_SuplrInvcItemPurOrdRef": {
            "results": [
                {
                    "SupplierInvoiceItem": "1",
                    "PurchaseOrder": "4500000001",
                    "PurchaseOrderItem": "10",
                    "DocumentCurrency": "EUR",
                    "SupplierInvoiceItemAmount": "1234.50",
                }
            ]
        },
    }
    return record | changes


def quickbooks_record(**changes: Any) -> dict[str, Any]:
    record = {
        "VendorRef": {"value": "56", "name": "Acme Corp"},
        "Line": [
            {
                "Amount": 100.25,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7", "name": "Office"}},
                "Description": "Paper",
            },
            {
                "Amount": 50,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "8"}},
            },
        ],
        "TxnDate": "2024-03-15",
        "DueDate": "2024-04-14",
        "DocNumber": "INV-7",
        "CurrencyRef": {"value": "USD"},
    }
    return record | changes


def oracle_record(**changes: Any) -> dict[str, Any]:
    record = {
        "InvoiceNumber": "AP-2024-001",
        "InvoiceCurrency": "GBP",
        "InvoiceAmount": 2500.75,
        "InvoiceDate": "2024-03-15",
        "BusinessUnit": "UK BU",
        "Supplier": "Globex Ltd",
        "SupplierNumber": "1253",
        "PaymentTerms": "Net 30",
        "invoiceLines": [
            {"LineNumber": 1, "LineType": "Item", "LineAmount": 2500.75, "PurchaseOrderNumber": "US164"}
        ],
    }
    return record | changes


def test_registry_knows_the_three_systems() -> None:
    assert systems() == ["canonical", "oracle", "quickbooks", "sap"]
    with pytest.raises(KeyError, match="no mapping for 'netsuite'"):
        convert(sap_record(), source="netsuite", target="sap")


def test_sap_to_canonical() -> None:
    invoice = to_canonical(sap_record(), "sap")
    assert invoice.invoice_number == "INV-1042"
    assert invoice.vendor_id == "17300001"
    assert invoice.gross_amount == Decimal("1234.50")
    assert (invoice.invoice_date, invoice.posting_date) == (date(2024, 3, 15), date(2024, 3, 16))
    assert invoice.purchase_order == "4500000001"
    assert invoice.lines[0].purchase_order_item == "10"


def test_sap_round_trip_writes_the_odata_v2_wire_shape() -> None:
    out = convert(sap_record(), source="sap", target="sap")
    expected = sap_record()
    expected["to_SuplrInvcItemPurOrdRef"] = expected["to_SuplrInvcItemPurOrdRef"]["results"]
    assert out == expected  # dates as /Date(ms)/, decimals as strings


def test_quickbooks_round_trip_and_total_from_lines() -> None:
    invoice = to_canonical(quickbooks_record(), "quickbooks")
    assert invoice.gross_amount == Decimal("150.25")
    assert [line.account for line in invoice.lines] == ["7", "8"]
    out = convert(quickbooks_record(), source="quickbooks", target="quickbooks")
    assert out["Line"][0]["Amount"] == 100.25 and out["Line"][1]["Amount"] == 50
    assert out["VendorRef"] == {"value": "56", "name": "Acme Corp"}
    assert out["DocNumber"] == "INV-7" and out["TxnDate"] == "2024-03-15"
    assert out["Line"][1]["AccountBasedExpenseLineDetail"]["AccountRef"] == {"value": "8"}


def test_oracle_to_quickbooks() -> None:
    with pytest.raises(MappingError) as refused:
        convert(oracle_record(), source="oracle", target="quickbooks")
    # Oracle lines carry no expense account: QuickBooks needs one, and says where.
    assert [str(e) for e in refused.value.errors] == [
        "Line.0.AccountBasedExpenseLineDetail.AccountRef.value: Input should be a valid string"
    ]
    record = oracle_record()
    record["invoiceLines"][0]["DistributionCombination"] = "6100"
    out = convert(record, source="oracle", target="quickbooks")
    assert out["VendorRef"] == {"value": "1253", "name": "Globex Ltd"}
    assert out["CurrencyRef"] == {"value": "GBP"}
    assert out["Line"] == [
        {
            "Amount": 2500.75,
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "6100"}},
        }
    ]


def test_quickbooks_to_oracle_and_sap_needs_what_quickbooks_lacks() -> None:
    out = convert(quickbooks_record(), source="quickbooks", target="oracle")
    assert out["InvoiceAmount"] == 150.25 and out["Supplier"] == "Acme Corp"
    assert [line["LineNumber"] for line in out["invoiceLines"]] == [1, 2]
    with pytest.raises(MappingError) as refused:
        convert(quickbooks_record(), source="quickbooks", target="sap")
    assert refused.value.step == "canonical -> sap"
    assert "CompanyCode: Input should be a valid string" in str(refused.value)


def test_canonical_to_sap_header_purchase_order_gets_first_item() -> None:
    invoice = Invoice(
        invoice_number="INV-9",
        vendor_id="17300001",
        currency="eur",
        gross_amount="1.234,56",
        invoice_date="15.03.2024",
        company_code="1010",
        purchase_order="4500000009",
    )
    sap = from_canonical(invoice, "sap")
    assert isinstance(sap, SapSupplierInvoice)
    assert sap.PostingDate == date(2024, 3, 15)  # no posting date: the invoice date
    assert sap.DocumentCurrency == "EUR" and sap.InvoiceGrossAmount == Decimal("1234.56")
    assert [(r.PurchaseOrder, r.PurchaseOrderItem) for r in sap.to_SuplrInvcItemPurOrdRef] == [
        ("4500000009", "00010")
    ]


def test_source_errors_name_each_field_and_reason() -> None:
    record = sap_record(InvoiceGrossAmount="-5", CompanyCode="", DocumentCurrency="EURO")
    with pytest.raises(MappingError) as refused:
        convert(record, source="sap", target="oracle")
    assert refused.value.step == "sap"
    messages = [str(e) for e in refused.value.errors]
    assert "InvoiceGrossAmount: Input should be greater than 0" in messages
    assert "CompanyCode: String should have at least 1 character" in messages
    assert "DocumentCurrency: 'EURO' is not an ISO 4217 currency code" in messages


def test_nested_errors_have_dotted_paths() -> None:
    record = quickbooks_record()
    record["Line"][1]["Amount"] = 0
    del record["VendorRef"]
    with pytest.raises(MappingError) as refused:
        to_canonical(record, "quickbooks")
    assert {e.path for e in refused.value.errors} == {"VendorRef", "Line.1.Amount"}


def test_canonical_errors() -> None:
    with pytest.raises(MappingError) as refused:
        to_canonical(
            {"invoice_number": "X", "gross_amount": "abc", "invoice_date": "2024-03-15"}, "canonical"
        )
    assert str(refused.value.errors[0]) == "gross_amount: not an amount: 'abc'"
    with pytest.raises(MappingError, match="needs vendor_name or vendor_id"):
        to_canonical({"invoice_number": "X", "gross_amount": 5, "invoice_date": "2024-03-15"}, "canonical")
