"""The SAP OData V2 emulator's reads: ``$filter`` with ``and``, ``or`` and parentheses, pushed down."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

INVOICES = "API_SUPPLIERINVOICE_PROCESS_SRV"
ORDERS = "API_PURCHASEORDER_PROCESS_SRV"
ACME, GLOBEX = "17300001", "17300002"
JAN_2025 = "/Date(1736899200000)/"


@pytest.fixture
def odata(sandbox) -> Iterator[httpx.Client]:
    """A plain client on the emulator's OData root, holding a CSRF token for its writes."""
    env = sandbox.env
    with httpx.Client(
        base_url=f"{env['EAS_SAP_URL']}/sap/opu/odata/sap/",
        auth=(env["EAS_SAP_USER"], env["EAS_SAP_PASSWORD"]),
        verify=ssl.create_default_context(cafile=sandbox.ca_bundle),
        headers={"Accept": "application/json"},
        timeout=10,
    ) as client:
        token = client.get(f"{INVOICES}/", headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
        client.headers["x-csrf-token"] = token
        yield client


def _post_invoice(
    odata: httpx.Client, party: str, reference: str, items: list[tuple[str, str]], **extra: Any
) -> httpx.Response:
    body = {
        "CompanyCode": "1010",
        "InvoicingParty": party,
        "SupplierInvoiceIDByInvcgParty": reference,
        "DocumentDate": JAN_2025,
        "DocumentCurrency": "USD",
        "InvoiceGrossAmount": "1.00",
        "to_SuplrInvcItemPurOrdRef": [
            {"PurchaseOrder": po, "SupplierInvoiceItemAmount": amount} for po, amount in items
        ],
        **extra,
    }
    return odata.post(f"{INVOICES}/A_SupplierInvoice", json=body)


@pytest.fixture
def invoices(odata) -> list[str]:
    """Three posted invoices (numbers 5105600001..3): two of Acme's, one of Globex's."""
    posted = [
        _post_invoice(odata, ACME, "INV-A1", [("PO-10001", "100.00")]),
        _post_invoice(odata, ACME, "INV-A2", [("PO-10010", "20.00"), ("PO-10001", "5.00")]),
        _post_invoice(odata, GLOBEX, "INV-B1", [("PO-10002", "50.00")]),
    ]
    assert [response.status_code for response in posted] == [201, 201, 201]
    return [response.json()["d"]["SupplierInvoice"] for response in posted]


def _read(odata: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = odata.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["d"]


def _items(odata: httpx.Client, filter: str, **params: Any) -> list[tuple[str, str, str]]:
    results = _read(odata, f"{INVOICES}/A_SuplrInvcItemPurOrdRef", **{"$filter": filter, **params})["results"]
    return [(r["SupplierInvoice"], r["SupplierInvoiceItem"], r["PurchaseOrder"]) for r in results]


def _references(odata: httpx.Client, filter: str) -> list[str]:
    results = _read(odata, f"{INVOICES}/A_SupplierInvoice", **{"$filter": filter})["results"]
    return [r["SupplierInvoiceIDByInvcgParty"] for r in results]


def test_or_over_a_child_set_reads_the_items_of_several_orders_in_one_request(odata, invoices):
    first, second, third = invoices

    found = _items(odata, "PurchaseOrder eq 'PO-10001' or PurchaseOrder eq 'PO-10002'")

    assert found == [
        (first, "000001", "PO-10001"),
        (second, "000002", "PO-10001"),
        (third, "000001", "PO-10002"),
    ]
    assert _items(odata, "PurchaseOrder eq 'PO-10010' OR PurchaseOrder eq 'PO-99999'") == [
        (second, "000001", "PO-10010")
    ]
    assert _items(odata, "PurchaseOrder eq 'PO-10003' or PurchaseOrder eq 'PO-10004'") == []


def test_and_binds_tighter_than_or_and_parentheses_group(odata, invoices):
    a1, globex = "SupplierInvoiceIDByInvcgParty eq 'INV-A1'", "InvoicingParty eq '17300002'"
    loose = f"{a1} or {globex} and DocumentCurrency eq 'EUR'"
    grouped = f"({a1} or {globex}) and DocumentCurrency eq 'USD'"
    pairs = f"(InvoicingParty eq '17300001' and SupplierInvoiceIDByInvcgParty eq 'INV-A2') or ({globex})"

    assert _references(odata, loose) == ["INV-A1"]
    assert _references(odata, grouped) == ["INV-A1", "INV-B1"]
    assert _references(odata, pairs) == ["INV-A2", "INV-B1"]
    assert _references(odata, "((InvoicingParty eq '17300002'))") == ["INV-B1"]
    # a child set: both terms must hold on the same item
    assert _items(odata, "PurchaseOrder eq 'PO-10001' and SupplierInvoiceItem eq '000002'") == [
        (invoices[1], "000002", "PO-10001")
    ]


def _order_items(odata: httpx.Client, filter: str) -> list[str]:
    results = _read(odata, f"{ORDERS}/A_PurchaseOrderItem", **{"$filter": filter})["results"]
    return [row["PurchaseOrder"] for row in results]


def test_non_string_terms_are_compared_as_before_also_inside_or(odata):
    closed_or_first = "IsFinallyInvoiced eq true or PurchaseOrder eq 'PO-10001'"

    assert _order_items(odata, closed_or_first) == ["PO-10001", "PO-10005"]
    assert _order_items(odata, "NetPriceAmount eq 2000.00 and PurchaseOrder eq 'PO-10010'") == ["PO-10010"]
    assert _order_items(odata, "NetPriceAmount eq 2000.00 and PurchaseOrder eq 'PO-10001'") == []


@pytest.mark.parametrize(
    "filter",
    [
        "PurchaseOrder eq 'PO-10001' or",
        "PurchaseOrder eq 'PO-10001' and ",
        "or PurchaseOrder eq 'PO-10001'",
        "(PurchaseOrder eq 'PO-10001'",
        "PurchaseOrder eq 'PO-10001')",
        "()",
        "PurchaseOrder eq 'PO-10001' or Bogus eq 'x'",
        "PurchaseOrder has 'PO-10001'",
        "PurchaseOrder eq 'PO-10001' xor PurchaseOrder eq 'PO-10002'",
        "   ",
        "(" * 20 + "PurchaseOrder eq 'PO-10001'" + ")" * 20,
        " and ".join(f"(PurchaseOrder eq '{n}' or PurchaseOrder eq '{n}x')" for n in range(8)),
    ],
)
def test_invalid_filters_answer_400_with_the_gateway_error(odata, filter):
    response = odata.get(f"{INVOICES}/A_SuplrInvcItemPurOrdRef", params={"$filter": filter})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "/IWBEP/CM_MGW_RT/022"
    assert error["message"]["value"].startswith("Invalid system query option or filter: ")
    assert error["innererror"]["errordetails"][0]["code"] == "/IWBEP/CM_MGW_RT/022"


def test_inlinecount_top_skip_and_server_paging_apply_to_or_filters(odata, invoices, monkeypatch):
    monkeypatch.setattr("eas_sandbox.vendors.sap.SERVER_PAGE_SIZE", 2)
    either = "PurchaseOrder eq 'PO-10001' or PurchaseOrder eq 'PO-10002' or PurchaseOrder eq 'PO-10010'"

    everything = _items(odata, either)
    page = _read(
        odata, f"{INVOICES}/A_SuplrInvcItemPurOrdRef", **{"$filter": either, "$inlinecount": "allpages"}
    )
    window = _read(
        odata, f"{INVOICES}/A_SuplrInvcItemPurOrdRef", **{"$filter": either, "$top": 3, "$skip": 1}
    )
    rest = odata.get(window["__next"]).json()["d"]

    assert len(everything) == 2  # the server's page
    assert page["__count"] == "4" and "__next" in page
    assert [r["SupplierInvoiceItem"] for r in window["results"]] == ["000001", "000002"]
    assert [r["PurchaseOrder"] for r in window["results"] + rest["results"]] == [
        "PO-10010",
        "PO-10001",
        "PO-10002",
    ]
    assert "__next" not in rest


def test_a_nul_character_in_a_filter_or_key_matches_nothing(odata, invoices):
    assert _items(odata, "PurchaseOrder eq 'PO-10001\x00' or PurchaseOrder eq 'PO-10002'") == [
        (invoices[2], "000001", "PO-10002")
    ]
    missing = odata.get(f"{ORDERS}/A_PurchaseOrder('PO-10001%00')")
    assert missing.status_code == 404


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _before(rows: list[dict[str, Any]], terms: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The emulator's filter before the pushdown: every stored row, compared in Python."""
    return [r for r in rows if all(_literal(r.get(p)) == v for p, v in terms)]


@pytest.mark.parametrize(
    ("set_name", "terms"),
    [
        ("A_SupplierInvoice", [("InvoicingParty", "17300001")]),
        ("A_SupplierInvoice", [("InvoicingParty", "17300001"), ("SupplierInvoiceIDByInvcgParty", "INV-A2")]),
        ("A_SupplierInvoice", [("CompanyCode", "1010"), ("DocumentCurrency", "USD")]),
        ("A_SupplierInvoice", [("DocumentHeaderText", "")]),
        ("A_SupplierInvoice", [("InvoicingParty", "17300001"), ("InvoicingParty", "17300002")]),
        ("A_SuplrInvcItemPurOrdRef", [("PurchaseOrder", "PO-10001")]),
        ("A_SuplrInvcItemPurOrdRef", [("PurchaseOrder", "PO-10001"), ("SupplierInvoiceItemAmount", "5.00")]),
        ("A_SuplrInvcItemPurOrdRef", [("SupplierInvoiceItemAmount", "50.00")]),
    ],
)
def test_a_filtered_read_answers_what_the_python_filter_did(odata, invoices, sandbox, set_name, terms):
    number = _post_invoice(odata, "17300003", "INV-N1", [("PO-10003", "7.00")], CompanyCode=1010).json()["d"]
    stored = sandbox.sandbox.records.all("sap", "A_SupplierInvoice")
    if set_name == "A_SuplrInvcItemPurOrdRef":
        stored = [item for invoice in stored for item in invoice["to_SuplrInvcItemPurOrdRef"]]
    filter = " and ".join(f"{p} eq '{v}'" for p, v in terms)
    keys = ("SupplierInvoice", "SupplierInvoiceItem")

    answered = _read(odata, f"{INVOICES}/{set_name}", **{"$filter": filter, "$inlinecount": "allpages"})

    expected = [tuple(r.get(k) for k in keys) for r in _before(stored, terms)]
    assert [tuple(r.get(k) for k in keys) for r in answered["results"]] == expected
    assert answered["__count"] == str(len(expected))
    assert number["CompanyCode"] == "1010"  # an Edm.String is stored (and answered) as a string


def test_key_reads_find_entities_and_items(odata, invoices):
    second = invoices[1]
    item = _read(
        odata,
        f"{INVOICES}/A_SuplrInvcItemPurOrdRef(SupplierInvoice='{second}',FiscalYear='2025',SupplierInvoiceItem='000002')",
    )
    invoice = _read(odata, f"{INVOICES}/A_SupplierInvoice(SupplierInvoice='{second}',FiscalYear='2025')")
    order = _read(odata, f"{ORDERS}/A_PurchaseOrder('PO-10001')", **{"$expand": "to_PurchaseOrderItem"})

    assert (item["PurchaseOrder"], item["SupplierInvoiceItemAmount"]) == ("PO-10001", "5.00")
    assert invoice["SupplierInvoiceIDByInvcgParty"] == "INV-A2"
    assert order["to_PurchaseOrderItem"]["results"][0]["PurchaseOrderItem"] == "00010"
    missing = odata.get(f"{INVOICES}/A_SupplierInvoice(SupplierInvoice='{second}',FiscalYear='2024')")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "/IWBEP/CM_MGW_RT/020"


def test_a_duplicate_invoice_is_refused_by_party_and_reference(odata, invoices):
    again = _post_invoice(odata, ACME, "INV-A2", [("PO-10001", "1.00")])
    other_party = _post_invoice(odata, GLOBEX, "INV-A2", [("PO-10002", "1.00")])

    assert again.status_code == 400
    error = again.json()["error"]
    assert error["code"] == "M8/108" and f"{invoices[1]} 2025" in error["message"]["value"]
    assert other_party.status_code == 201


# --- ranges and typed comparisons (ne, gt, ge, lt, le) ----------------------------------------------------


def _odata_date(year: int, month: int, day: int, hour: int = 0) -> str:
    return f"/Date({int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)})/"


DATED = [
    ("INV-D1", _odata_date(2025, 6, 30), "100.00"),
    ("INV-D2", _odata_date(2025, 7, 1), "250.50"),
    ("INV-D3", _odata_date(2025, 7, 31, 18), "1000.00"),
    ("INV-D4", _odata_date(2025, 8, 1), "99.99"),
]
"""Acme's invoices around July 2025: reference, PostingDate, InvoiceGrossAmount."""


@pytest.fixture
def dated(odata) -> None:
    posted = [
        _post_invoice(odata, ACME, ref, [("PO-10001", gross)], PostingDate=posted, InvoiceGrossAmount=gross)
        for ref, posted, gross in DATED
    ]
    assert [response.status_code for response in posted] == [201] * len(DATED)


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (
            "PostingDate ge datetime'2025-07-01T00:00:00' and PostingDate lt datetime'2025-08-01T00:00:00'",
            ["INV-D2", "INV-D3"],
        ),
        ("PostingDate le datetime'2025-07-01T00:00'", ["INV-D1", "INV-D2"]),
        ("PostingDate gt datetime'2025-07-31T17:59:59.9999999'", ["INV-D3", "INV-D4"]),
        ("PostingDate gt datetimeoffset'2025-07-01T02:00:00+02:00'", ["INV-D3", "INV-D4"]),
        ("PostingDate eq datetimeoffset'2025-07-01T00:00:00Z'", ["INV-D2"]),
        ("PostingDate ne datetime'2025-07-01T00:00:00'", ["INV-D1", "INV-D3", "INV-D4"]),
        ("InvoiceGrossAmount gt 100 and InvoiceGrossAmount le 1000.00", ["INV-D2", "INV-D3"]),
        ("InvoiceGrossAmount eq 250.5M", ["INV-D2"]),
        ("InvoiceGrossAmount lt 1e2", ["INV-D4"]),
        ("InvoiceGrossAmount ge '100'", ["INV-D1", "INV-D2", "INV-D3"]),
        ("SupplierInvoiceIDByInvcgParty gt 'INV-D2'", ["INV-D3", "INV-D4"]),
        (
            "SupplierInvoiceIDByInvcgParty ne 'INV-D1' and InvoicingParty eq '17300001'",
            ["INV-D2", "INV-D3", "INV-D4"],
        ),
        (
            "(InvoicingParty eq '17300001' and PostingDate ge datetime'2025-08-01T00:00:00')"
            " or SupplierInvoiceIDByInvcgParty eq 'INV-D1'",
            ["INV-D1", "INV-D4"],
        ),
        ("InvoicingParty eq '17300002' and PostingDate ge datetime'2025-01-01T00:00:00'", []),
    ],
)
def test_ranges_compare_dates_as_dates_and_decimals_as_numbers(odata, dated, filter, expected):
    assert _references(odata, filter) == expected


def test_ne_on_a_boolean_and_a_count_with_a_range(odata, dated):
    assert _order_items(odata, "IsFinallyInvoiced ne true and PurchaseOrder eq 'PO-10005'") == []
    assert len(_order_items(odata, "IsFinallyInvoiced ne true")) == len(_order_items(odata, "")) - 1
    july = "PostingDate ge datetime'2025-07-01T00:00:00' and PostingDate le datetime'2025-07-31T23:59:59'"
    page = _read(
        odata, f"{INVOICES}/A_SupplierInvoice", **{"$filter": july, "$inlinecount": "allpages", "$top": 1}
    )
    assert page["__count"] == "2" and len(page["results"]) == 1


@pytest.mark.parametrize(
    ("filter", "complaint"),
    [
        ("PostingDate ge '2025-07-01'", "string literal cannot be compared with property 'PostingDate'"),
        ("PostingDate ge 20250701", "numeric literal cannot be compared"),
        ("InvoiceGrossAmount gt datetime'2025-07-01T00:00:00'", "datetime literal cannot be compared"),
        ("InvoiceGrossAmount gt 'lots'", "'lots' is not a valid Edm.Decimal"),
        ("PostingDate ge datetime'2025-13-01T00:00:00'", "is not a valid date and time"),
        ("PostingDate ge datetime'2025-07-01'", "PostingDate ge datetime'2025-07-01'"),
        ("PostingDate GE datetime'2025-07-01T00:00:00'", "PostingDate GE"),
        ("InvoiceGrossAmount eq null", "InvoiceGrossAmount eq null"),
        ("substringof('D', SupplierInvoiceIDByInvcgParty)", "substringof"),
        ("SupplierInvoiceIDByInvcgParty ge 'INV-D1' and", ""),
    ],
)
def test_what_the_filter_does_not_understand_answers_400_in_sap_shape(odata, filter, complaint):
    response = odata.get(f"{INVOICES}/A_SupplierInvoice", params={"$filter": filter})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "/IWBEP/CM_MGW_RT/022"
    assert error["message"]["value"].startswith("Invalid system query option or filter: ")
    assert complaint in error["message"]["value"]
    assert error["innererror"]["errordetails"][0]["severity"] == "error"


def test_a_boolean_has_no_order(odata):
    response = odata.get(f"{ORDERS}/A_PurchaseOrderItem", params={"$filter": "IsFinallyInvoiced gt false"})

    assert response.status_code == 400
    assert (
        "operator 'gt' is not defined for property 'IsFinallyInvoiced'"
        in response.json()["error"]["message"]["value"]
    )
