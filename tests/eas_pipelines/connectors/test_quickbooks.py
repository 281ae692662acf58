"""QuickBooks Online's connector (python-quickbooks) against the Accounting API v3 emulator."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs

import pybreaker
import pytest

from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from tests.support.vendor_clients import quickbooks_resource


@pytest.fixture
def quickbooks(sandbox, connector_options) -> QuickBooksResource:
    return quickbooks_resource(sandbox.env, throttle_wait_s=0.3, **connector_options)


def _posts(sandbox, suffix: str) -> list[dict]:
    return [c for c in sandbox.calls("quickbooks") if c["method"] == "POST" and c["path"].endswith(suffix)]


def test_create_bill_refreshes_a_token_and_sends_the_documented_request(quickbooks, sandbox):
    bill = quickbooks.client().create_bill(
        "Acme Corp",
        125.5,
        "Office Supplies",
        doc_number="INV-1",
        txn_date="2025-03-01",
        due_date="2025-03-31",
    )

    assert bill.vendor_name == "Acme Corp" and bill.total == 125.5 and bill.balance == 125.5
    assert bill.doc_number == "INV-1" and bill.due_date == "2025-03-31"
    env = sandbox.env
    (grant,) = _posts(sandbox, "/oauth2/v1/tokens/bearer")
    basic = base64.b64encode(
        f"{env['EAS_QUICKBOOKS_CLIENT_ID']}:{env['EAS_QUICKBOOKS_CLIENT_SECRET']}".encode()
    )
    assert grant["headers"]["authorization"] == f"Basic {basic.decode()}"
    assert parse_qs(grant["body"]) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [env["EAS_QUICKBOOKS_REFRESH_TOKEN"]],
    }
    (post,) = _posts(sandbox, "/bill")
    assert post["path"] == f"/quickbooks/v3/company/{env['EAS_QUICKBOOKS_REALM_ID']}/bill"
    query = parse_qs(post["query"])
    assert query["minorversion"] == ["75"] and len(query["requestid"][0]) <= 50
    assert post["headers"]["authorization"].startswith("Bearer ")
    body = json.loads(post["body"])
    line = body["Line"][0]
    assert body["VendorRef"]["value"] == bill.vendor_id and body["DocNumber"] == "INV-1"
    assert line["DetailType"] == "AccountBasedExpenseLineDetail" and line["Amount"] == 125.5
    assert line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == bill.account_ids[0]
    queries = _posts(sandbox, "/query")
    assert queries and all(q["headers"]["content-type"] == "application/text" for q in queries)


def test_a_resent_request_id_returns_the_original_bill(quickbooks):
    client = quickbooks.client()
    first = client.create_bill("Globex", 40, "Travel", doc_number="G-1", request_id="req-bill-1")
    again = client.create_bill("Globex", 40, "Travel", doc_number="G-1", request_id="req-bill-1")

    assert again.id == first.id
    assert [bill.id for bill in client.bills(vendor="Globex")] == [first.id]


def test_listing_bills_follows_startposition_pages(quickbooks, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.quickbooks.PAGE_SIZE", 2)
    client = quickbooks.client()
    made = [client.create_bill("Hooli", 10 + n, "Travel", doc_number=f"H-{n}").id for n in range(5)]

    assert [bill.id for bill in client.bills()] == made
    assert len(client.bills(limit=3)) == 3
    starts = [q["body"] for q in _posts(sandbox, "/query") if "FROM Bill" in q["body"]]
    assert any("STARTPOSITION 5 MAXRESULTS 2" in body for body in starts)


def test_vendors_by_name_and_a_duplicate_name_is_refused(quickbooks, sandbox):
    client = quickbooks.client()
    assert client.vendor_by_name("Stark Industries").display_name == "Stark Industries"
    assert client.vendor_by_name("O'Brien & Sons") is None
    made = client.create_vendor("O'Brien & Sons", email="ap@obrien.example.com")
    assert client.vendor_by_name("O'Brien & Sons").id == made.id

    with pytest.raises(VendorRejected, match="Duplicate Name Exists") as refused:
        client.create_vendor("Contoso Ltd")
    assert refused.value.code == "6240" and refused.value.status == 400
    assert len(_posts(sandbox, "/vendor")) == 2  # refusals are not retried


def test_a_fault_in_a_200_body_is_a_refusal(quickbooks):
    client = quickbooks.client()
    client.create_bill("Initech Ltd", 99, "Professional Fees", doc_number="DUP-1")

    with pytest.raises(VendorRejected, match="Duplicate Document Number") as refused:
        client.create_bill("Initech Ltd", 99, "Professional Fees", doc_number="DUP-1")
    assert refused.value.status == 200 and refused.value.code == "6210"


def test_create_expense_records_a_purchase(quickbooks, sandbox):
    expense = quickbooks.client().create_expense(
        42.1,
        "Meals and Entertainment",
        payment_account="Mastercard",
        payment_type="CreditCard",
        vendor_name_or_id="Fabrikam",
    )

    assert expense.payment_type == "CreditCard" and expense.total == 42.1 and expense.vendor_id
    body = json.loads(_posts(sandbox, "/purchase")[0]["body"])
    assert body["PaymentType"] == "CreditCard" and body["EntityRef"]["type"] == "Vendor"


def test_throttling_without_retry_after_waits_the_fixed_time(quickbooks, sandbox):
    client = quickbooks.client()
    client.vendor_by_name("Hooli")  # token in hand
    sandbox.fault("throttle", "quickbooks", count=1)
    started = time.monotonic()

    assert client.vendor_by_name("Hooli") is not None
    assert time.monotonic() - started >= 0.3  # throttle_wait_s


def test_an_expired_token_is_refreshed_once(quickbooks, sandbox):
    client = quickbooks.client()
    client.vendor_by_name("Hooli")
    sandbox.fault("unauthorized", "quickbooks", count=1)

    assert client.vendor_by_name("Globex") is not None
    assert len(_posts(sandbox, "/tokens/bearer")) == 2


def test_a_bad_refresh_token_is_a_refusal_that_names_no_secret(quickbooks):
    bad = quickbooks.model_copy(update={"refresh_token": "not-the-token"})
    with pytest.raises(VendorRejected, match="invalid_grant") as refused:
        bad.client().vendor_by_name("Hooli")
    assert "not-the-token" not in str(refused.value) and quickbooks.client_secret not in str(refused.value)


def test_server_errors_are_retried_then_fail_cleanly_and_open_the_breaker(quickbooks, sandbox):
    client = quickbooks.client()
    client.vendor_by_name("Hooli")
    sandbox.fault("error", "quickbooks", count=6, status=503)
    calls = len(sandbox.calls("quickbooks"))

    with pytest.raises(ConnectorUnavailable, match="quickbooks: still failing after 3 attempts.*503"):
        client.vendor_by_name("Hooli")
    assert len(sandbox.calls("quickbooks")) == calls + 3
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.vendor_by_name("Hooli")  # second outage opens it (fail_max=2)

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s
    assert client.vendor_by_name("Hooli") is not None
    assert quickbooks.breaker.current_state == "closed"
