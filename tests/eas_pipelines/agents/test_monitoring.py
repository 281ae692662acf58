"""The monitoring agent end to end: health checks (EAS's services and every connector against the
emulators), outage reports (ServiceNow incident, PagerDuty page, Slack), alert dispatch by severity
and the P3 digest; plus its rules.

EAS's gateway and NLP service are stood in for by a small HTTP server answering ``/healthz`` and
``/readyz`` as they do (the agent only reads those answers); PostgreSQL, Redis and the worker
heartbeats are the real ones. Alerts are read back from the PagerDuty and Opsgenie emulators, the
incident through the ServiceNow connector, the messages through Slack and the mailbox.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import httpx
import pytest

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.monitoring.alerts import Alert, dispatch_alert
from eas_pipelines.agents.monitoring.digest import digest_key, monitoring_alert_digest
from eas_pipelines.agents.monitoring.health import (
    Check,
    Health,
    connector_check,
    overall,
    severity_of,
)
from eas_pipelines.agents.monitoring.jobs import health_targets, monitoring_system_health
from eas_pipelines.agents.monitoring.outage import monitoring_outage_report, outage_severity
from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.monitoring.severity import destinations, most_urgent
from eas_pipelines.agents.monitoring.systems import check_of, slug
from eas_pipelines.connectors.opsgenie import OpsgenieClient
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received
from tests.support.vendor_clients import opsgenie_resource, reader

ALERT_CHANNEL = "#general"  # a channel the Slack emulator has (EAS's default is #eas-alerts)
HEALTH = "monitoring.system_health"
OUTAGE = "monitoring.outage_report"


# -- stand-ins for the gateway and the NLP service -------------------------------------------------


class Services:
    """An HTTP server answering ``/healthz`` and ``/readyz``; ``statuses`` sets a path's status."""

    def __init__(self) -> None:
        statuses: dict[str, int] = {}
        self.statuses = statuses

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                status = statuses.get(self.path, 200)
                body = json.dumps({"status": "ok" if status == 200 else "not ready"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def services() -> Iterator[Services]:
    running = Services()
    yield running
    running.close()


@pytest.fixture
def monitoring(redis_url: str, redis_key_prefix: str, services: Services) -> MonitoringResource:
    return MonitoringResource(
        redis_url=redis_url,
        key_prefix=f"{redis_key_prefix}monitoring",
        gateway_url=services.url,
        nlp_urls=services.url,
        alert_channel=ALERT_CHANNEL,
        slow_ms=60_000,  # "slow" is tested with made-up checks: a loaded test machine must not flip it
    )


@pytest.fixture
def resources(eas_resources: dict[str, Any], monitoring: MonitoringResource) -> dict[str, Any]:
    return {**eas_resources, "monitoring": monitoring}


@pytest.fixture
def worker_alive(redis_client, redis_key_prefix: str) -> Iterator[None]:
    """A warm worker's heartbeat under the test's fast-lane prefix (no worker process needed)."""
    beat = Heartbeat(redis_client, "monitoring-test-worker", 60, prefix=redis_key_prefix)
    beat.beat()
    yield
    beat.stop(remove=True)


@pytest.fixture
def opsgenie(sandbox_session, reading: dict) -> Iterator[OpsgenieClient]:
    with reader(opsgenie_resource(sandbox_session.env, **reading)) as client:
        yield client


def pagerduty_alerts(sandbox) -> list[dict[str, Any]]:
    """The PagerDuty emulator's alerts (its sandbox-only listing; the Events API cannot be read)."""
    base = sandbox.env["EAS_PAGERDUTY_EVENTS_URL"].removesuffix("/v2/enqueue")
    verify = ssl.create_default_context(cafile=sandbox.ca_bundle)
    with httpx.Client(verify=verify, timeout=10) as client:
        return client.get(f"{base}/sandbox/alerts").raise_for_status().json()["alerts"]


def actions(store, request_id: str) -> list[str]:
    """The workflow's own audit entries (its steps), without the request's transitions."""
    trail = store.audit_trail(request_id)
    return [e.action for e in trail if e.actor == "monitoring" and not e.action.startswith("request.")]


def system(text: str, snippet: str) -> dict[str, Any]:
    return entity(text, "system", snippet)


# -- system health, end to end ----------------------------------------------------------------------


def test_all_systems_green_checks_every_service_and_connector(
    sandbox, store, dagster_instance, resources, worker_alive, redis_url
):
    text = "are all systems green"
    record = queued_request(store, text, HEALTH, [])
    result = run_workflow(monitoring_system_health, record.id, dagster_instance, resources, store)
    assert result.success
    done = store.get(record.id)
    assert done.status is Status.SUCCEEDED, done.last_error
    completed = store.audit_trail(record.id)[-1]
    checks = {row["name"]: row for row in completed.detail["checks"]}
    assert set(checks) == {
        "gateway", "nlp", "postgres", "redis", "workers",
        "sap", "servicenow", "salesforce", "jira", "slack", "quickbooks", "bamboohr",
        "outlook_calendar", "opsgenie", "pagerduty", "teams", "email",
    }  # fmt: skip
    assert {name: row["health"] for name, row in checks.items() if row["health"] != "ok"} == {}
    assert checks["sap"]["breaker"] == "closed" and checks["sap"]["latency_ms"] > 0
    assert checks["teams"]["latency_ms"] is None  # a webhook has no read: breaker only
    assert actions(store, record.id) == [
        "health.scoped", "health.services_checked", "health.connectors_checked", "health.all_ok",
        "notifications.sent", "workflow.completed",
    ]  # fmt: skip
    assert pagerduty_alerts(sandbox) == []
    (answer,) = received(sandbox, redis_url, record.client_id, request_id=record.id)
    assert answer.text.startswith("System health: ok") and "- sap (connector): ok" in answer.text


def test_a_connector_down_is_a_p2_alert_to_opsgenie_and_slack(
    sandbox, store, dagster_instance, resources, worker_alive, redis_url, opsgenie
):
    text = "Is SAP up?"
    record = queued_request(store, text, HEALTH, [system(text, "SAP")])
    sandbox.fault("error", "sap", status=503, count=50)
    result = run_workflow(monitoring_system_health, record.id, dagster_instance, resources, store)
    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED  # the check worked: it found SAP down
    alert = opsgenie.alert("health:sap")
    assert alert is not None and (alert.priority, alert.status, alert.entity) == ("P3", "open", "sap")
    assert "sap down" in alert.message
    assert pagerduty_alerts(sandbox) == []  # P2 wakes nobody up
    (posted,) = received(sandbox, redis_url, ALERT_CHANNEL, request_id=record.id)
    assert "[P2] EAS health: sap down" in posted.text
    (answer,) = received(sandbox, redis_url, record.client_id, request_id=record.id)
    assert "Overall: down." in answer.text and "- sap (connector): down" in answer.text
    assert "Alert raised: opsgenie, slack:#general." in answer.text
    dispatched = next(e for e in store.audit_trail(record.id) if e.action == "alert.dispatched")
    assert (dispatched.detail["severity"], dispatched.detail["key"]) == ("P2", "health:sap")


def test_the_gateway_not_ready_pages_p1_and_a_second_check_pages_once(
    sandbox, store, dagster_instance, resources, worker_alive, services, opsgenie
):
    services.statuses["/readyz"] = 503  # the gateway and the NLP replica both say "not ready"
    ids = []
    for _ in range(2):
        text = "are all systems green"
        record = queued_request(store, text, HEALTH, [])
        assert run_workflow(monitoring_system_health, record.id, dagster_instance, resources, store).success
        ids.append(record.id)
    (page,) = pagerduty_alerts(sandbox)
    assert (page["dedup_key"], page["severity"], page["triggers"]) == ("health:gateway+nlp", "error", 2)
    assert opsgenie.alert("health:gateway+nlp").count == 2  # P1: Opsgenie too, de-duplicated by alias
    assert page["payload"]["custom_details"]["request_id"] == ids[1]  # the latest trigger's details


def test_a_system_eas_does_not_monitor_is_refused(
    store, dagster_instance, resources, redis_url, sandbox_session
):
    text = "is GitHub up right now?"
    record = queued_request(store, text, HEALTH, [system(text, "GitHub")])
    result = run_workflow(monitoring_system_health, record.id, dagster_instance, resources, store)
    assert result.success  # a refusal ends the request, not the run
    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert "EAS does not monitor GitHub" in (failed.last_error or "")
    (told,) = received(sandbox_session, redis_url, record.client_id, request_id=record.id)
    assert "does not monitor GitHub" in told.text


# -- outage reports, end to end ---------------------------------------------------------------------


def test_outage_report_opens_an_incident_pages_and_posts_once_per_outage(
    sandbox, store, dagster_instance, resources, servicenow, redis_url
):
    text = "page the on-call, SAP is down"
    first = queued_request(store, text, OUTAGE, [system(text, "SAP")])
    result = run_workflow(monitoring_outage_report, first.id, dagster_instance, resources, store)
    assert result.success
    assert store.get(first.id).status is Status.SUCCEEDED, store.get(first.id).last_error
    (incident,) = servicenow.incidents("u_outage_system=sap")
    assert incident.short_description == "[outage] SAP is down"
    assert (incident.urgency, incident.impact, incident.assignment_group) == ("1", "1", "it-ops")
    assert first.id in incident.description
    (page,) = pagerduty_alerts(sandbox)
    assert (page["dedup_key"], page["severity"], page["status"]) == ("outage:sap", "critical", "triggered")
    assert page["payload"]["custom_details"]["incident"] == incident.number
    (posted,) = received(sandbox, redis_url, ALERT_CHANNEL, request_id=first.id)
    assert "[P0] Outage: SAP is down" in posted.text
    (told,) = received(sandbox, redis_url, first.client_id, request_id=first.id)
    assert f"Outage report {incident.number} opened for SAP (P0)" in told.text

    text = "we have an outage on SAP, nobody in Berlin can reach it"
    second = queued_request(store, text, OUTAGE, [system(text, "SAP"), entity(text, "location", "Berlin")])
    assert run_workflow(monitoring_outage_report, second.id, dagster_instance, resources, store).success
    (same,) = servicenow.incidents("u_outage_system=sap")  # no second incident: a note on the first
    assert same.number == incident.number and second.id in same.work_notes
    (page,) = pagerduty_alerts(sandbox)
    assert page["triggers"] == 2  # the same alert, not a second page
    (told,) = received(sandbox, redis_url, second.client_id, request_id=second.id)
    assert f"Outage report {incident.number} for SAP was already open: your report was added" in told.text
    assert actions(store, second.id)[:3] == ["outage.described", "outage.report_updated", "alert.dispatched"]


def test_outage_report_without_a_system_is_refused(store, dagster_instance, resources):
    record = queued_request(store, "everything is down!!", OUTAGE, [])
    assert run_workflow(monitoring_outage_report, record.id, dagster_instance, resources, store).success
    failed = store.get(record.id)
    assert failed.status is Status.FAILED and "name the system that is down" in (failed.last_error or "")


def test_pagerduty_down_fails_the_outage_run_with_the_reason(sandbox, store, dagster_instance, resources):
    sandbox.fault("error", "pagerduty", status=503, rate=1.0)
    text = "Salesforce is down"
    record = queued_request(store, text, OUTAGE, [system(text, "Salesforce")])
    result = run_workflow(monitoring_outage_report, record.id, dagster_instance, resources, store)
    assert not result.success  # retried by the op, then failed: the failure sensor takes over
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "dispatch_outage"
    assert "pagerduty: HTTP 503" in failure.event_specific_data.error.to_string()  # the cause, chained
    assert store.get(record.id).status is Status.RUNNING  # not succeeded: the sensor retries or fails it
    assert "outage.report_opened" in actions(store, record.id)


# -- alert dispatch and the P3 digest -----------------------------------------------------------------


def test_p3_alerts_wait_for_the_daily_digest(sandbox, resources, monitoring, dagster_instance, redis_url):
    for name in ("quickbooks", "bamboohr", "quickbooks"):  # the same alert twice is one entry
        sent = dispatch_alert(
            Alert(
                key=f"health:{name}", severity="P3", summary=f"EAS health: {name} degraded", component=name
            ),
            monitoring=monitoring,
            pagerduty=resources["pagerduty"],
            opsgenie=resources["opsgenie"],
            notifications=resources["notifications"],
            request_id=None,
        )
        assert set(sent) == {"digest"}
    assert monitoring.digest().size() == 2
    assert pagerduty_alerts(sandbox) == [] and received(sandbox, redis_url, ALERT_CHANNEL) == []
    digest_resources = {"monitoring": monitoring, "notifications": resources["notifications"]}
    result = monitoring_alert_digest.execute_in_process(instance=dagster_instance, resources=digest_resources)
    assert result.success and result.output_for_node("post_alert_digest") == 2
    (posted,) = received(sandbox, redis_url, ALERT_CHANNEL)
    assert "Daily digest: 2 low-severity (P3) alerts" in posted.text
    assert "EAS health: quickbooks degraded" in posted.text and "EAS health: bamboohr degraded" in posted.text
    assert monitoring.digest().size() == 0
    again = monitoring_alert_digest.execute_in_process(instance=dagster_instance, resources=digest_resources)
    assert again.output_for_node("post_alert_digest") == 0
    assert len(received(sandbox, redis_url, ALERT_CHANNEL)) == 1


# -- rules ---------------------------------------------------------------------------------------------


def work_item(text: str, entities=(), priority: int = 1) -> WorkItem:
    return WorkItem("r", "monitoring", HEALTH, text, "c", priority, tuple(entities), 1, "run")


def check(name: str, health: Health, kind: str = "connector") -> Check:
    return Check(name, kind, health, 1.0, "")


def test_destinations_by_severity():
    assert destinations("P0").names() == ("pagerduty", "slack")
    assert destinations("P1").names() == ("pagerduty", "opsgenie", "slack")
    assert destinations("P2").names() == ("opsgenie", "slack")
    assert destinations("P3").names() == ("digest",)
    with pytest.raises(ValueError, match="unknown alert severity"):
        destinations("P4")
    assert most_urgent(["P3", "P1", "P2"]) == "P1" and most_urgent([]) is None


def test_severity_of_a_health_report():
    ok = [check("sap", Health.OK), check("redis", Health.OK, "service")]
    assert severity_of(ok) is None and overall(ok) is Health.OK
    assert severity_of([*ok, check("quickbooks", Health.DEGRADED)]) == "P3"
    assert severity_of([*ok, check("quickbooks", Health.DOWN)]) == "P2"
    assert severity_of([*ok, check("nlp", Health.DOWN, "service")]) == "P2"  # classified later, not lost
    assert severity_of([check("postgres", Health.DOWN, "service"), check("sap", Health.DOWN)]) == "P1"
    assert overall([*ok, check("x", Health.DEGRADED)]) is Health.DEGRADED


def test_systems_named_in_a_request():
    assert check_of("SAP") == "sap" and check_of("the CRM") == "salesforce"
    assert check_of("the production database") == "postgres" and check_of("GitHub") is None
    assert slug("the finance share") == "the-finance-share" and slug("ServiceNow") == "servicenow"
    text = "are SAP and Jira healthy"
    both = work_item(text, [system(text, "SAP"), system(text, "Jira")])
    assert health_targets(both) == (("sap", "jira"), [])
    assert health_targets(work_item("is it ok")) == ((), [])
    text = "is VPN up"
    assert health_targets(work_item(text, [system(text, "VPN")])) == ((), ["VPN"])


def test_outage_severity_is_p0_unless_the_request_names_one():
    assert outage_severity(work_item("SAP down", priority=0)) == "P0"
    text = "declare a P1 outage for Jira"
    assert outage_severity(work_item(text, [entity(text, "priority", "P1")], priority=0)) == "P1"


def test_an_open_circuit_is_down_without_calling_the_system(resources, sandbox):
    with dg.build_resources({"sap": resources["sap"]}) as built:
        built.sap.breaker.open()
        try:
            found = connector_check("sap", built.sap, slow_ms=1000)
        finally:
            built.sap.breaker.close()
    assert (found.health, found.breaker, found.latency_ms) == (Health.DOWN, "open", None)
    assert sandbox.calls("sap") == []


def test_a_slow_answer_is_degraded(resources, sandbox):
    with dg.build_resources({"bamboohr": resources["bamboohr"]}) as built:
        found = connector_check("bamboohr", built.bamboohr, slow_ms=0)
    assert found.health is Health.DEGRADED and "slow" in found.detail


def test_the_digest_post_key_depends_only_on_its_alerts(monitoring):
    digest = monitoring.digest()
    digest.add("health:a", "a degraded", "a", {}, 10.0)
    digest.add("health:b", "b degraded", "b", {}, 20.0)
    due = digest.due(15.0)
    assert [a.key for a in due] == ["health:a"]
    assert digest_key(due) == digest_key(list(reversed(digest.due(15.0))))
    assert digest_key(due) != digest_key(digest.due(25.0))
