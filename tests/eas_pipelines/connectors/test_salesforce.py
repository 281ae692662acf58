"""Salesforce's connector (simple-salesforce) against the REST API emulator: OAuth, upsert, SOQL paging,
Salesforce's 403 throttling, retries, refusals, re-login and idempotency."""

from __future__ import annotations

import gc
import json
from urllib.parse import parse_qs

import pybreaker
import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.salesforce import SalesforceClient, SalesforceResource
from eas_sandbox.vendors import salesforce as emulator

DATA = "/salesforce/services/data/v59.0"


@pytest.fixture
def salesforce(sandbox, connector_options) -> SalesforceResource:
    env = sandbox.env
    return SalesforceResource(
        base_url=env["EAS_SALESFORCE_URL"],
        client_id=env["EAS_SALESFORCE_CLIENT_ID"],
        client_secret=env["EAS_SALESFORCE_CLIENT_SECRET"],
        **connector_options,
    )


@pytest.fixture(autouse=True)
def _close_clients(monkeypatch):
    """Close every client a test made: an idle keep-alive TLS connection holds up the sandbox's shutdown
    (uvicorn waits for the client's TLS close_notify, and the sandbox's stop() joins for 10 s)."""
    made: list[SalesforceClient] = []
    original = SalesforceClient.__init__

    def tracking(self, resource) -> None:
        original(self, resource)
        made.append(self)

    monkeypatch.setattr(SalesforceClient, "__init__", tracking)
    yield
    for client in made:
        client.close()
    gc.collect()  # exceptions kept by pytest.raises hold responses (and their sockets) in reference cycles


def test_create_case_logs_in_then_upserts_by_external_id(salesforce, sandbox):
    case = salesforce.client().create_case(
        "Laptop will not boot",
        external_id="req-1",
        description="Black screen since Monday",
        priority="High",
        contact_email="wile.coyote@acme.example.com",
    )

    assert case.case_number == "00001001" and case.id.startswith("500") and len(case.id) == 18
    assert (case.subject, case.priority, case.status, case.request_id) == (
        "Laptop will not boot",
        "High",
        "New",
        "req-1",
    )
    assert case.contact_id and case.account_id  # linked to the seeded Acme contact
    calls = sandbox.calls("salesforce")
    token = calls[0]
    assert (token["method"], token["path"]) == ("POST", "/salesforce/services/oauth2/token")
    form = parse_qs(token["body"])
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [sandbox.env["EAS_SALESFORCE_CLIENT_ID"]]
    upsert = next(call for call in calls if call["method"] == "PATCH")
    assert upsert["path"] == f"{DATA}/sobjects/Case/EAS_Request_Id__c/req-1"
    assert upsert["headers"]["authorization"] == f"Bearer {emulator.ACCESS_TOKEN}"
    assert json.loads(upsert["body"])["Subject"] == "Laptop will not boot"
    assert sum(call["path"].endswith("/oauth2/token") for call in calls) == 1  # one login for the client


def test_a_retried_create_updates_the_first_case(salesforce, sandbox):
    client = salesforce.client()
    first = client.create_case("Printer on fire", external_id="req-2")
    sandbox.fault("error", "salesforce", count=1, status=503)  # the retry's first call fails too
    again = client.create_case("Printer on fire", external_id="req-2")

    assert again.id == first.id and again.case_number == first.case_number
    assert [c.id for c in client.cases("EAS_Request_Id__c = 'req-2'")] == [first.id]


def test_cases_follow_next_records_url_until_done(salesforce, sandbox, monkeypatch):
    monkeypatch.setattr(emulator, "QUERY_BATCH_SIZE", 2)
    client = salesforce.client()
    made = [client.create_case(f"issue {n}", external_id=f"page-{n}").case_number for n in range(5)]

    assert [case.case_number for case in client.cases()] == sorted(made)
    more = [
        c for c in sandbox.calls("salesforce") if c["path"].startswith(f"{DATA}/query/") and c["query"] == ""
    ]
    assert len(more) >= 2  # batches 2 and 3 of the last listing came from nextRecordsUrl
    assert len(client.cases(limit=3)) == 3


def test_accounts_and_contacts_are_found_by_name_and_email(salesforce):
    client = salesforce.client()

    acme = client.account_by_name("Acme Corp")
    assert acme is not None and acme.industry == "Manufacturing"
    contact = client.contact_by_email("hank.scorpio@globex.example.com")
    assert contact is not None and contact.last_name == "Scorpio"
    assert client.contact_by_email("o'brien@example.com") is None  # quoted, not injected


def test_update_case_and_read_it_by_number_or_id(salesforce):
    client = salesforce.client()
    case = client.create_case("Password reset", external_id="req-4")

    closed = client.update_case(case.id, Status="Closed")

    assert closed.status == "Closed" and closed.is_closed
    assert client.case(case.case_number).id == case.id
    assert client.case(case.id).case_number == case.case_number
    assert client.case("500SB0000000000000") is None


def test_request_limit_exceeded_is_retried(salesforce, sandbox):
    client = salesforce.client()
    client.account_by_name("Globex")  # logged in
    sandbox.fault("throttle", "salesforce", count=1)

    assert client.account_by_name("Globex").name == "Globex"
    queries = [c for c in sandbox.calls("salesforce") if c["path"].startswith(f"{DATA}/query")]
    assert len(queries) == 3  # one before, the throttled one (403 REQUEST_LIMIT_EXCEEDED), its retry


def test_server_errors_are_retried_then_fail_cleanly(salesforce, sandbox):
    sandbox.fault("error", "salesforce", count=10, status=503)

    with pytest.raises(ConnectorUnavailable, match="salesforce: still failing after 3 attempts.*503"):
        salesforce.client().case("00001001")
    assert len(sandbox.calls("salesforce")) == 3


def test_refusals_are_final_and_carry_salesforce_message(salesforce, sandbox):
    client = salesforce.client()
    with pytest.raises(VendorRejected, match="bad value for restricted picklist field: Urgent") as refused:
        client.create_case("Broken", external_id="req-5", priority="Urgent")

    assert refused.value.status == 400 and refused.value.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert len([c for c in sandbox.calls("salesforce") if c["method"] == "PATCH"]) == 1


def test_wrong_client_secret_is_refused_without_leaking_it(salesforce, sandbox):
    wrong = salesforce.model_copy(update={"client_secret": "not-the-secret"})

    with pytest.raises(VendorRejected, match="invalid_client") as refused:
        wrong.client().account_by_name("Acme Corp")
    assert "not-the-secret" not in str(refused.value)


def test_an_expired_session_logs_in_again(salesforce, sandbox):
    client = salesforce.client()
    client.account_by_name("Acme Corp")
    sandbox.fault("unauthorized", "salesforce", count=1)  # 401 INVALID_SESSION_ID

    assert client.account_by_name("Initech").name == "Initech"
    logins = [c for c in sandbox.calls("salesforce") if c["path"].endswith("/oauth2/token")]
    assert len(logins) == 2


def test_the_breaker_opens_on_outages(salesforce, sandbox):
    # pybreaker's Redis storage keeps opened_at in whole seconds: an open circuit may look up to 1 s older.
    salesforce = salesforce.model_copy(update={"breaker_reset_timeout_s": 5.0})
    sandbox.fault("error", "salesforce", count=6)
    client = salesforce.client()
    with pytest.raises(ConnectorUnavailable):
        client.account_by_name("Acme Corp")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.account_by_name("Acme Corp")
    calls = len(sandbox.calls("salesforce"))
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.account_by_name("Acme Corp")
    assert len(sandbox.calls("salesforce")) == calls
