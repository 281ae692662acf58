"""ServiceNow's connector against the Table API emulator: shapes, paging, retries, breaker, idempotency."""

from __future__ import annotations

import base64
import json
import time

import pybreaker
import pytest

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.servicenow import ServiceNowResource
from tests.support.vendor_clients import servicenow_resource


@pytest.fixture
def servicenow(sandbox, connector_options) -> ServiceNowResource:
    return servicenow_resource(sandbox.env, **connector_options)


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


def test_custom_columns_and_impact_are_sent_and_read_back(servicenow):
    incident = servicenow.client().create_incident(
        "Refund missing",
        correlation_id="req-custom",
        urgency=2,
        impact=1,
        due_date="2030-01-02 03:04:05",
        u_requester="dana.smith@example.com",
    )

    again = servicenow.client().incident(incident.number)
    assert (again.urgency, again.impact, again.due_date) == ("2", "1", "2030-01-02 03:04:05")
    assert again.field("u_requester") == "dana.smith@example.com"
    assert again.field("u_not_a_column") == "" and again.escalation_level == 0


def test_journal_entries_are_added_once_per_key_and_keep_the_earlier_ones(servicenow):
    client = servicenow.client()
    incident = client.create_incident("Laptop broken", correlation_id="req-journal")

    client.add_comment(incident.sys_id, "We are on it.", idempotency_key="req-journal:reply")
    client.add_comment(incident.sys_id, "We are on it.", idempotency_key="req-journal:reply")  # a retry
    client.add_work_note(incident.number, "Ordered a new one.", idempotency_key="req-journal:note")
    client.add_comment(incident.sys_id, "It ships today.", idempotency_key="req-journal:update")

    journal = client.incident(incident.sys_id)
    assert journal.comments.count("We are on it.") == 1 and "It ships today." in journal.comments
    assert journal.comments.index("It ships today.") < journal.comments.index("We are on it.")  # newest first
    assert "(Additional comments)" in journal.comments
    assert "Ordered a new one." in journal.work_notes and "We are on it." not in journal.work_notes
    assert journal.applied("req-journal:reply") and not journal.applied("req-journal:other")


def test_escalation_raises_the_level_once_per_key(servicenow, sandbox):
    client = servicenow.client()
    incident = client.create_incident(
        "Site down", correlation_id="req-esc", urgency=2, assignment_group="web"
    )

    def escalate(number_or_sys_id: str, group: str, reason: str, key: str):
        return client.escalate(number_or_sys_id, assignment_group=group, reason=reason, idempotency_key=key)

    def patches() -> int:
        return len([call for call in sandbox.calls("servicenow") if call["method"] == "PATCH"])

    first = escalate(incident.sys_id, "tier2", "SLA breach", "e1")
    made = patches()
    retried = escalate(incident.sys_id, "tier2", "SLA breach", "e1")
    assert patches() == made  # the retry found its key and wrote nothing
    second = escalate(incident.number, "oncall", "still down", "e2")

    assert (first.escalation_level, first.assignment_group, first.urgency) == (1, "tier2", "1")
    assert retried.escalation_level == 1
    assert (second.escalation_level, second.assignment_group, second.urgency) == (2, "oncall", "1")
    assert "Escalated to tier2 (level 1): SLA breach" in second.work_notes
    assert "Escalated to oncall (level 2): still down" in second.work_notes


def test_updating_an_unknown_incident_is_refused(servicenow):
    with pytest.raises(VendorRejected, match="no incident INC9999999") as refused:
        servicenow.client().add_comment("INC9999999", "hello", idempotency_key="k")
    assert refused.value.status == 404
