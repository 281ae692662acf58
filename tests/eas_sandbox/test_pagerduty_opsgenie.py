"""The PagerDuty (Events API v2) and Opsgenie (Alert API) emulators through EAS's connectors:
documented request shapes, ``dedup_key`` / ``alias`` idempotency, refusals, throttling and outages."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import closing

import httpx
import pybreaker
import pytest

from eas_pipelines.connectors.opsgenie import OpsgenieClient, OpsgenieResource
from eas_pipelines.connectors.pagerduty import PagerDutyClient, PagerDutyResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_sandbox.vendors import opsgenie as opsgenie_emulator
from eas_sandbox.vendors import pagerduty as pagerduty_emulator


def connector_options(sandbox, redis_key_prefix: str, redis_url: str) -> dict:
    return {
        "ca_bundle": sandbox.ca_bundle,
        "redis_url": redis_url,
        "breaker_prefix": f"{redis_key_prefix}circuit",
        "initial_backoff_s": 0.01,
        "max_backoff_s": 0.05,
        "max_attempts": 3,
        "breaker_fail_max": 2,
    }


def pagerduty_resource(sandbox, redis_key_prefix: str, redis_url: str, **overrides) -> PagerDutyResource:
    env = sandbox.env
    options = {
        **connector_options(sandbox, redis_key_prefix, redis_url),
        "routing_key": env["EAS_PAGERDUTY_ROUTING_KEY"],
        "events_url": env["EAS_PAGERDUTY_EVENTS_URL"],
    }
    return PagerDutyResource(**{**options, **overrides})


def opsgenie_resource(sandbox, redis_key_prefix: str, redis_url: str, **overrides) -> OpsgenieResource:
    env = sandbox.env
    options = {
        **connector_options(sandbox, redis_key_prefix, redis_url),
        "api_key": env["EAS_OPSGENIE_API_KEY"],
        "base_url": env["EAS_OPSGENIE_URL"],
    }
    return OpsgenieResource(**{**options, **overrides})


@pytest.fixture
def pagerduty(sandbox, redis_key_prefix, redis_url) -> Iterator[PagerDutyClient]:
    with closing(pagerduty_resource(sandbox, redis_key_prefix, redis_url).client()) as client:
        yield client


@pytest.fixture
def opsgenie(sandbox, redis_key_prefix, redis_url) -> Iterator[OpsgenieClient]:
    with closing(opsgenie_resource(sandbox, redis_key_prefix, redis_url).client()) as client:
        yield client


def pagerduty_alerts(sandbox) -> list[dict]:
    """The emulator's alerts (its sandbox-only listing: the Events API cannot be read back)."""
    base = sandbox.env["EAS_PAGERDUTY_EVENTS_URL"].removesuffix("/v2/enqueue")
    verify = ssl.create_default_context(cafile=sandbox.ca_bundle)
    with httpx.Client(verify=verify, timeout=10) as client:
        response = client.get(f"{base}/sandbox/alerts")
        response.raise_for_status()
        return response.json()["alerts"]


# -- PagerDuty ----------------------------------------------------------------------------------------


def test_pagerduty_trigger_sends_the_documented_event_and_pages_once_per_dedup_key(pagerduty, sandbox):
    first = pagerduty.trigger(
        "SAP unreachable",
        source="eas-monitoring",
        severity="critical",
        dedup_key="outage:sap",
        component="sap",
        custom_details={"request": "r-1"},
    )
    again = pagerduty.trigger(
        "SAP unreachable", source="eas-monitoring", severity="critical", dedup_key="outage:sap"
    )
    assert first.dedup_key == again.dedup_key == "outage:sap"
    assert first.status == "success"
    (alert,) = pagerduty_alerts(sandbox)
    assert (alert["status"], alert["triggers"], alert["severity"]) == ("triggered", 2, "critical")
    sent = json.loads(sandbox.calls("pagerduty")[0]["body"])
    assert sent["routing_key"] == pagerduty_emulator.ROUTING_KEY
    assert sent["event_action"] == "trigger"
    assert sent["payload"]["component"] == "sap"
    assert sent["payload"]["custom_details"] == {"request": "r-1"}
    assert (
        "authorization" not in sandbox.calls("pagerduty")[0]["headers"]
    )  # the routing key is the credential


def test_pagerduty_resolve_then_trigger_opens_a_new_alert(pagerduty, sandbox):
    pagerduty.trigger("Redis down", source="eas", severity="error", dedup_key="health:redis")
    pagerduty.acknowledge("health:redis")
    assert pagerduty_alerts(sandbox)[0]["status"] == "acknowledged"
    pagerduty.resolve("health:redis")
    assert pagerduty_alerts(sandbox)[0]["status"] == "resolved"
    pagerduty.trigger("Redis down again", source="eas", severity="error", dedup_key="health:redis")
    (alert,) = pagerduty_alerts(sandbox)
    assert (alert["status"], alert["incarnation"], alert["triggers"]) == ("triggered", 2, 1)


def test_pagerduty_service_interface_of_dagster_pagerduty(sandbox, redis_key_prefix, redis_url):
    resource = pagerduty_resource(sandbox, redis_key_prefix, redis_url)
    answer = resource.EventV2_create("disk full", "db-1", "warning", dedup_key="disk:db-1")
    assert answer == {"status": "success", "message": "Event processed", "dedup_key": "disk:db-1"}
    resource.teardown_after_execution(None)  # type: ignore[arg-type]


def test_pagerduty_refuses_an_invalid_event_with_its_reasons(pagerduty, sandbox, redis_key_prefix, redis_url):
    with pytest.raises(ValueError, match="severity"):
        pagerduty.trigger("x", source="eas", severity="fatal", dedup_key="k")
    with pytest.raises(VendorRejected, match="payload.summary"):
        pagerduty.send(
            {"event_action": "trigger", "payload": {"summary": " ", "source": "eas", "severity": "info"}}
        )
    wrong_key = pagerduty_resource(sandbox, redis_key_prefix, redis_url, routing_key="not-a-key")
    with closing(wrong_key.client()) as client, pytest.raises(VendorRejected, match="routing_key"):
        client.trigger("x", source="eas", severity="info", dedup_key="k")
    assert pagerduty_alerts(sandbox) == []


def test_pagerduty_throttling_is_retried_and_an_outage_opens_the_breaker(pagerduty, sandbox):
    sandbox.fault("throttle", "pagerduty")
    assert pagerduty.trigger("x", source="eas", severity="info", dedup_key="k1").dedup_key == "k1"
    sandbox.fault("error", "pagerduty", status=503, count=10)
    with pytest.raises(ConnectorUnavailable, match="pagerduty"):
        pagerduty.trigger("y", source="eas", severity="info", dedup_key="k2")
    with pytest.raises(pybreaker.CircuitBreakerError):  # the second outage in a row opens the circuit
        pagerduty.trigger("y", source="eas", severity="info", dedup_key="k2")
    calls = len(sandbox.calls("pagerduty"))
    with pytest.raises(pybreaker.CircuitBreakerError):  # open: fails fast without calling PagerDuty
        pagerduty.trigger("y", source="eas", severity="info", dedup_key="k2")
    assert len(sandbox.calls("pagerduty")) == calls


# -- Opsgenie -----------------------------------------------------------------------------------------


def test_opsgenie_create_alert_is_deduplicated_by_alias(opsgenie, sandbox):
    receipt = opsgenie.create_alert(
        "SAP unreachable",
        alias="outage:sap",
        priority="P1",
        description="since 09:00",
        responders=[{"type": "team", "name": "it-ops"}],
        tags=["eas", "outage"],
        details={"request": "r-1"},
        entity="sap",
    )
    status = opsgenie.request_status(receipt.request_id)
    assert status is not None and status.is_success and status.alias == "outage:sap"
    again = opsgenie.create_alert("SAP unreachable", alias="outage:sap", priority="P1")
    assert opsgenie.request_status(again.request_id).alert_id == status.alert_id
    alert = opsgenie.alert("outage:sap")
    assert alert is not None
    assert (alert.count, alert.priority, alert.status, alert.entity) == (2, "P1", "open", "sap")
    assert alert.details == {"request": "r-1"} and alert.tags == ["eas", "outage"]
    headers = sandbox.calls("opsgenie")[0]["headers"]
    assert headers["authorization"] == f"GenieKey {opsgenie_emulator.API_KEY}"


def test_opsgenie_close_then_create_opens_a_new_alert_and_lists_them(opsgenie):
    opsgenie.create_alert("Redis down", alias="health:redis", priority="P2")
    opsgenie.close_alert("health:redis", note="recovered")
    assert opsgenie.alert("health:redis").status == "closed"
    opsgenie.create_alert("Redis down", alias="health:redis", priority="P2")
    assert opsgenie.alert("health:redis").is_open
    assert [a.status for a in opsgenie.alerts()] == ["open", "closed"]
    assert [a.alias for a in opsgenie.alerts("status: open")] == ["health:redis"]
    assert opsgenie.alert("no-such-alias") is None


def test_opsgenie_refusals(opsgenie, sandbox, redis_key_prefix, redis_url):
    with pytest.raises(ValueError, match="priority"):
        opsgenie.create_alert("x", alias="a", priority="P0")
    with pytest.raises(VendorRejected, match="HTTP 422"):
        opsgenie.create_alert("   ", alias="a")
    wrong_key = opsgenie_resource(sandbox, redis_key_prefix, redis_url, api_key="wrong")
    with closing(wrong_key.client()) as client, pytest.raises(VendorRejected, match="Could not authenticate"):
        client.create_alert("x", alias="a")
    with pytest.raises(VendorRejected, match="does not exist"):
        opsgenie.close_alert("never-created")


def test_opsgenie_throttling_is_retried_and_an_outage_fails(opsgenie, sandbox):
    sandbox.fault("throttle", "opsgenie")
    opsgenie.create_alert("x", alias="t1")
    sandbox.fault("error", "opsgenie", status=502, count=3)
    with pytest.raises(ConnectorUnavailable, match="opsgenie"):
        opsgenie.create_alert("y", alias="t2")
