"""ADP Workforce Now's connector against its emulator: mutual TLS, OAuth, paging, pay statements, retries."""

from __future__ import annotations

import base64
import ssl
import time
from datetime import date
from urllib.parse import parse_qs

import httpx
import pytest

from eas_pipelines.connectors.adp import ADPResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected


@pytest.fixture
def adp_settings(sandbox, connector_options) -> dict:
    env = sandbox.env
    return {
        "base_url": env["EAS_ADP_URL"],
        "token_url": env["EAS_ADP_TOKEN_URL"],
        "client_id": env["EAS_ADP_CLIENT_ID"],
        "client_secret": env["EAS_ADP_CLIENT_SECRET"],
        "client_cert_path": env["EAS_ADP_CLIENT_CERT"],
        "client_key_path": env["EAS_ADP_CLIENT_KEY"],
        **connector_options,
    }


@pytest.fixture
def adp(adp_settings) -> ADPResource:
    return ADPResource(**adp_settings)


def _query(call: dict) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(call["query"]).items()}


def test_token_then_bearer_both_over_mutual_tls(adp, sandbox):
    client = adp.client()
    assert len(client.workers()) == 10
    assert client.worker_by_name_or_email("dana.smith@example.com").job_title == "Engineering Manager"

    calls = sandbox.calls("adp")
    token_calls = [call for call in calls if call["path"].endswith("/auth/oauth/v2/token")]
    assert len(token_calls) == 1  # cached for the second call
    env = sandbox.env
    secret = base64.b64encode(f"{env['EAS_ADP_CLIENT_ID']}:{env['EAS_ADP_CLIENT_SECRET']}".encode()).decode()
    assert (
        token_calls[0]["method"] == "POST" and token_calls[0]["headers"]["authorization"] == f"Basic {secret}"
    )
    assert parse_qs(token_calls[0]["body"]) == {"grant_type": ["client_credentials"]}
    api = [call for call in calls if call["path"] == "/adp/hr/v2/workers"]
    assert api and all(call["headers"]["authorization"].startswith("Bearer ") for call in api)
    assert env["EAS_ADP_URL"].startswith(sandbox.sandbox.endpoints.mtls_url)


def test_workers_page_until_a_short_page_or_204(adp, sandbox, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.adp.PAGE_SIZE", 3)
    assert len(adp.client().workers()) == 10
    pages = [_query(call) for call in sandbox.calls("adp") if call["path"] == "/adp/hr/v2/workers"]
    assert [(page["$top"], page["$skip"]) for page in pages] == [
        ("3", "0"),
        ("3", "3"),
        ("3", "6"),
        ("3", "9"),
    ]

    monkeypatch.setattr("eas_pipelines.connectors.adp.PAGE_SIZE", 5)
    assert len(adp.client().workers()) == 10  # the third page (skip=10) is a 204


def test_workers_are_found_and_typed(adp):
    client = adp.client()
    tom = client.worker_by_name_or_email("Tom Nguyen")

    assert tom.associate_oid.startswith("G3A1") and len(tom.associate_oid) == 16
    assert (tom.work_email, tom.department, tom.hire_date) == (
        "tom.nguyen@example.com",
        "Engineering",
        date(2023, 5, 8),
    )
    dana = client.worker(tom.manager_aoid)
    assert dana.full_name == "Dana Smith" and tom.manager_name == "Smith, Dana"
    assert client.worker_by_name_or_email("Haddad").given_name == "Omar"
    assert client.worker("G3A1NOTAWORKER00") is None


def test_pay_statements_send_the_role_code(adp, sandbox):
    client = adp.client()
    sofia = client.worker_by_name_or_email("sofia.rossi@example.com")

    statements = client.pay_statements(sofia.associate_oid, last_n=2)

    assert [s.pay_date for s in statements] == [date(2026, 2, 13), date(2026, 1, 30)]
    assert statements[0].currency == "USD" and 0 < statements[0].net_pay < statements[0].gross_pay
    call = [call for call in sandbox.calls("adp") if "pay-statements" in call["path"]][-1]
    assert call["headers"]["rolecode"] == "practitioner" and _query(call) == {"numberoflastpaydates": "2"}
    detail = client.pay_statement(sofia.associate_oid, statements[0].statement_id)
    assert detail.gross_pay == statements[0].gross_pay
    assert (
        round(sum(e.amount for e in detail.earnings) - sum(d.amount for d in detail.deductions), 2)
        == detail.net_pay
    )
    assert client.pay_statement(sofia.associate_oid, "nope") is None


def test_missing_role_code_is_refused(adp, sandbox):
    client = adp.client()
    aoid = client.workers()[0].associate_oid
    with pytest.raises(VendorRejected, match="roleCode header is required") as refused:
        client._get(f"payroll/v1/workers/{aoid}/pay-statements")
    assert refused.value.status == 400


def test_a_client_without_the_certificate_is_refused(adp_settings, sandbox):
    endpoints = sandbox.sandbox.endpoints
    trust = ssl.create_default_context(cafile=sandbox.ca_bundle)
    with httpx.Client(verify=trust, timeout=5) as plain:
        # On the plain TLS port (no client certificate), every ADP route answers 403 in ADP's shape.
        for url in (
            f"{endpoints.base_url}/adp/hr/v2/workers",
            f"{endpoints.base_url}/adp/auth/oauth/v2/token",
        ):
            response = plain.post(url) if "token" in url else plain.get(url)
            assert response.status_code == 403
            confirm = response.json()["confirmMessage"]
            assert confirm["requestStatusCode"]["codeValue"] == "failed"
        # On the mutual-TLS port the handshake itself fails without one.
        with pytest.raises(httpx.TransportError):
            plain.get(f"{endpoints.mtls_url}/adp/hr/v2/workers")

    not_mtls = ADPResource(
        **{
            **adp_settings,
            "base_url": f"{endpoints.base_url}/adp",
            "token_url": f"{endpoints.base_url}/adp/auth/oauth/v2/token",
        }
    )
    with pytest.raises(VendorRejected, match="client certificate") as refused:
        not_mtls.client().workers()
    assert refused.value.status == 403


def test_bad_client_credentials_are_final(adp_settings, sandbox):
    wrong = ADPResource(**{**adp_settings, "client_secret": "wrong"})
    with pytest.raises(VendorRejected, match="client credentials were not valid") as refused:
        wrong.client().workers()
    assert refused.value.status == 401 and len(sandbox.calls("adp")) == 1
    assert "wrong" not in str(refused.value)


def test_a_revoked_token_is_renewed_once(adp, sandbox):
    client = adp.client()
    assert len(client.workers()) == 10
    sandbox.reset()  # forgets the issued tokens
    assert len(client.workers()) == 10
    paths = [call["path"].rsplit("/", 1)[-1] for call in sandbox.calls("adp")]
    assert paths == ["workers", "token", "workers"]

    sandbox.fault("unauthorized", "adp", count=2)  # refused even with a new token: final
    with pytest.raises(VendorRejected, match="Invalid or expired access token"):
        client.workers()


def test_throttling_honours_retry_after(adp, sandbox):
    sandbox.fault("throttle", "adp", count=1, retry_after_s=0.3)
    started = time.monotonic()
    assert len(adp.client().workers()) == 10
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(adp, sandbox):
    sandbox.fault("error", "adp", count=10, status=503)
    with pytest.raises(ConnectorUnavailable, match="adp: still failing after 3 attempts.*503.*temporarily"):
        adp.client().workers()
    assert len(sandbox.calls("adp")) == 3
