"""ServiceNow's connector against the Table API emulator: shapes, paging, retries, breaker, idempotency."""

from __future__ import annotations

import base64
import json
import time

import pybreaker
import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.servicenow import ServiceNowResource


@pytest.fixture
def servicenow(sandbox, connector_options) -> ServiceNowResource:
    env = sandbox.env
    return ServiceNowResource(
        base_url=env["EAS_SERVICENOW_URL"],
        user=env["EAS_SERVICENOW_USER"],
        password=env["EAS_SERVICENOW_PASSWORD"],
        **connector_options,
    )


def test_create_incident_sends_the_documented_request(servicenow, sandbox):
    incident = servicenow.client().create_incident("VPN down", correlation_id="req-1", urgency=1)

    assert incident.number.startswith("INC") and len(incident.sys_id) == 32
    assert incident.urgency == "1" and incident.correlation_id == "req-1"
    post = [call for call in sandbox.calls("servicenow") if call["method"] == "POST"][-1]
    assert post["path"] == "/servicenow/api/now/table/incident"
    env = sandbox.env
    token = base64.b64encode(
        f"{env['EAS_SERVICENOW_USER']}:{env['EAS_SERVICENOW_PASSWORD']}".encode()
    ).decode()
    assert post["headers"]["authorization"] == f"Basic {token}"
    assert json.loads(post["body"])["short_description"] == "VPN down"


def test_a_retried_create_returns_the_first_incident(servicenow):
    client = servicenow.client()
    first = client.create_incident("Printer on fire", correlation_id="req-2")
    again = client.create_incident("Printer on fire", correlation_id="req-2")

    assert again.sys_id == first.sys_id
    assert [i.sys_id for i in client.incidents("correlation_id=req-2")] == [first.sys_id]


def test_listing_follows_pages(servicenow, monkeypatch):
    monkeypatch.setattr("eas_pipelines.connectors.servicenow.PAGE_SIZE", 2)
    client = servicenow.client()
    made = [client.create_incident(f"issue {n}", correlation_id=f"page-{n}").number for n in range(5)]

    assert [incident.number for incident in client.incidents()] == sorted(made)
    assert len(client.incidents(limit=3)) == 3


def test_throttling_is_retried_after_retry_after(servicenow, sandbox):
    sandbox.fault("throttle", "servicenow", count=1, retry_after_s=0.3)
    started = time.monotonic()

    incident = servicenow.client().create_incident("slow", correlation_id="req-3")

    assert incident.number
    assert time.monotonic() - started >= 0.3


def test_server_errors_are_retried_then_fail_cleanly(servicenow, sandbox):
    sandbox.fault("error", "servicenow", count=10, status=502)

    with pytest.raises(ConnectorUnavailable, match="servicenow: still failing after 3 attempts.*502"):
        servicenow.client().incident("INC0010001")
    assert len(sandbox.calls("servicenow")) == 3


def test_refusals_are_final_and_name_the_vendor_message(servicenow, sandbox):
    sandbox.fault("unauthorized", "servicenow", count=1)

    with pytest.raises(VendorRejected, match="User Not Authenticated") as refused:
        servicenow.client().incident("INC0010001")
    assert refused.value.status == 401
    assert len(sandbox.calls("servicenow")) == 1


def test_the_breaker_opens_on_outages_and_closes_after_recovery(servicenow, sandbox):
    sandbox.fault("error", "servicenow", count=6)
    client = servicenow.client()
    with pytest.raises(ConnectorUnavailable):
        client.incident("INC0010001")
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.incident("INC0010001")  # second outage opens it (fail_max=2)
    calls = len(sandbox.calls("servicenow"))
    with pytest.raises(pybreaker.CircuitBreakerError):
        client.incident("INC0010001")
    assert len(sandbox.calls("servicenow")) == calls  # open: the system is not called

    sandbox.reset()
    time.sleep(1.6)  # past breaker_reset_timeout_s (pybreaker keeps whole seconds in Redis)
    assert client.incident("INC0010001") is None  # a trial call succeeds and closes it
    assert servicenow.breaker.current_state == "closed"
