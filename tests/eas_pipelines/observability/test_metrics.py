"""Each metric of the catalog moves when its event happens, in the process where it happens.

Real paths only: a worker runs real jobs against the real store, Redis and a Dagster instance; a
connector's calls go through its real Redis-shared breaker; a workflow step runs as an op of a
real job; the gateway answers real HTTP requests. The registry is the process's own (one per
process by design), so every assertion reads the change a test caused, on label values (agents,
systems) of the test's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import httpx
import pybreaker
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.cli.up import worker_metrics_ports
from eas_pipelines.connectors.base import ConnectorResource, call_outcome
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.observability import metrics
from eas_pipelines.resources import RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.routing import MANUAL_MINUTES, ROUTES, Priority
from eas_pipelines.runs import now_utc, run_config_for
from eas_pipelines.settings import EASSettings, SettingsError, load_settings
from eas_pipelines.store import RequestRecord, RequestStore, Status
from eas_pipelines.workers.worker import Action, Worker
from nlp_service.server.metrics import ServerMetrics
from tests.eas_pipelines import lane_jobs
from tests.eas_pipelines.gateway.conftest import INVOICE, bearer, submit_headers
from tests.eas_pipelines.gateway.servers import free_port
from tests.eas_pipelines.lane_support import queued_request

CONTRACT = {
    "eas_requests_total",
    "eas_time_saved_seconds_total",
    "eas_lane_queue_depth",
    "eas_lane_oldest_age_seconds",
    "eas_run_start_latency_seconds",
    "eas_step_duration_seconds",
    "eas_worker_tasks_total",
    "eas_connector_calls_total",
    "eas_connector_call_duration_seconds",
    "eas_circuit_breaker_state",
    "eas_approvals_pending",
    "eas_approvals_oldest_age_seconds",
    "eas_dagster_runs",
    "eas_dagster_run_queue_length",
    "eas_dagster_oldest_queued_run_age_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
}
"""The metric catalog of issue 16's observability contract (notes/brief.md), as PromQL names it."""


def value(name: str, **labels: str) -> float:
    """The sample's value in the process registry (0 when it does not exist yet)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called ``name`` in a /metrics body, by their sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def unique(kind: str) -> str:
    return f"{kind}_{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------- catalog


def test_the_catalog_exports_every_name_of_the_contract() -> None:
    assert metrics.exported_metric_names() >= CONTRACT
    assert "eas_exporter_source_up" in metrics.exported_metric_names()


def test_every_route_has_its_manual_minutes() -> None:
    assert set(MANUAL_MINUTES) == set(ROUTES)
    assert all(minutes > 0 for minutes in MANUAL_MINUTES.values())
    assert ROUTES["finance.invoice_process"].manual_minutes == 15


def test_an_unknown_status_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'succeeded' is not one of queued"):
        metrics.count_request("finance", "finance.invoice_process", "succeeded")


def test_the_gateway_and_nlp_registries_carry_the_process_figures() -> None:
    gateway = GatewayMetrics()
    body, _ = gateway.render()
    assert b"process_cpu_seconds_total" in body
    assert b"# TYPE eas_requests_total counter" in body
    nlp_body, _ = ServerMetrics().render()
    assert b"process_resident_memory_bytes" in nlp_body
    # A second app in the same process (tests, an embedding process) registers without a clash.
    assert b"eas_requests_total" in GatewayMetrics().render()[0]


def test_a_metrics_server_serves_the_registry_and_releases_its_port() -> None:
    system = unique("served")
    metrics.observe_connector_call(system, metrics.CALL_OK, 0.01)
    server = metrics.serve_metrics(0)
    try:
        text = httpx.get(server.url, timeout=10).text
    finally:
        server.close()
    assert samples(text, "eas_connector_calls_total")[(("outcome", "ok"), ("system", system))] == 1.0
    assert "process_cpu_seconds_total" in text
    again = metrics.serve_metrics(server.port)  # closed: the port is free again
    again.close()


# ---------------------------------------------------------------------------------------------- connectors


class ProbeConnector(ConnectorResource):
    """A connector whose calls are whatever the test passes to ``guarded``."""

    system: ClassVar[str] = "probe"


@pytest.fixture
def connector(redis_url: str, redis_key_prefix: str) -> ProbeConnector:
    """A connector of a system of this test's own; its breaker opens after one outage."""
    ProbeConnector.system = unique("probe")
    return ProbeConnector(
        redis_url=redis_url,
        breaker_prefix=f"{redis_key_prefix}circuit",
        breaker_fail_max=1,
        breaker_reset_timeout_s=600,
        max_attempts=1,
    )


def test_connector_calls_are_counted_by_outcome_and_timed(connector: ProbeConnector) -> None:
    system = connector.system

    def down() -> None:
        raise ConnectorUnavailable("503 from the system")

    def refuse() -> None:
        raise VendorRejected("purchase order unknown", status=404)

    assert connector.guarded(lambda: "answer") == "answer"
    with pytest.raises(VendorRejected):
        connector.guarded(refuse)  # a business answer: the circuit stays closed
    with pytest.raises(pybreaker.CircuitBreakerError):
        connector.guarded(down)  # the outage that opens the circuit reached the system: an error
    called: list[int] = []
    with pytest.raises(pybreaker.CircuitBreakerError):
        connector.guarded(lambda: called.append(1))  # refused by the open circuit, system untouched
    assert called == []

    counts = {
        outcome: value("eas_connector_calls_total", system=system, outcome=outcome)
        for outcome in metrics.CALL_OUTCOMES
    }
    assert counts == {"ok": 1.0, "rejected": 1.0, "error": 1.0, "open": 1.0}
    assert value("eas_connector_call_duration_seconds_count", system=system) == 4.0
    assert value("eas_connector_call_duration_seconds_sum", system=system) > 0.0


def test_call_outcome_tells_an_open_circuit_from_the_failure_that_opened_it() -> None:
    opened = pybreaker.CircuitBreakerError("Failures threshold reached, circuit breaker opened")
    assert call_outcome(opened, reached=True) == "error"
    assert call_outcome(opened, reached=False) == "open"
    assert call_outcome(VendorRejected("no"), reached=True) == "rejected"
    assert call_outcome(RuntimeError("bug"), reached=True) == "error"


# ---------------------------------------------------------------------------------------------- steps


@workflow_step(WorkItem)
def look_up(item: WorkItem) -> Step:
    """A step that passes."""
    return Step.passed(item)


@workflow_step(WorkResult, optional=False)
def trip(item: WorkItem) -> Step:
    """A step that raises (no op retry: the failure is final)."""
    raise dg.Failure("the system is down (test)", allow_retries=False)


METRICS_JOB = workflow_job(
    name="observability_metrics_example",
    agent="observability",
    description="A step that passes, then one that fails.",
    steps=(look_up, trip),
)


def routed_request(store: RequestStore, agent: str, intent: str, workflow: str) -> RequestRecord:
    """A request of ``agent`` queued on the fast lane for ``workflow``."""
    return queued_request(store, workflow, agent=agent, intent=intent)


def test_step_durations_are_observed_by_agent_step_and_outcome(
    request_store: RequestStore, migrated_database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    agent = unique("agent")
    record = routed_request(request_store, agent, "test.metrics", METRICS_JOB.name)
    result = METRICS_JOB.execute_in_process(
        run_config=run_config_for(record.id),
        instance=dagster_instance,
        resources={
            "store": RequestStoreResource(database_url=migrated_database_url),
            "notifications": "unused: the steps neither refuse nor ask for approval",
            "policy": WorkflowPolicyResource(leave_blackouts=[]),
        },
        raise_on_error=False,
    )
    assert not result.success
    passed = {"agent": agent, "step": "look_up", "outcome": "success"}
    failed = {"agent": agent, "step": "trip", "outcome": "failure"}
    assert value("eas_step_duration_seconds_count", **passed) == 1.0
    assert value("eas_step_duration_seconds_count", **failed) == 1.0
    assert value("eas_step_duration_seconds_count", **{**failed, "step": "look_up"}) == 0.0
    assert value("eas_step_duration_seconds_bucket", **passed, le="+Inf") == 1.0


# ---------------------------------------------------------------------------------------------- workers


def test_a_completed_task_counts_the_task_the_request_its_time_saved_and_its_start_latency(
    make_worker: Callable[..., Worker], request_store: RequestStore, queue: FastQueue
) -> None:
    agent = unique("agent")
    intent = "finance.invoice_status"  # 5 manual minutes
    record = routed_request(request_store, agent, intent, lane_jobs.QUICK_JOB)
    queue.enqueue(record.id, Priority.P1)

    outcome = make_worker().run_once(block_ms=0)

    assert outcome is not None and (outcome.action, outcome.status) == (Action.EXECUTED, Status.SUCCEEDED)
    assert (outcome.agent, outcome.intent) == (agent, intent)
    assert value("eas_worker_tasks_total", agent=agent, outcome="executed") == 1.0
    assert value("eas_requests_total", agent=agent, intent=intent, status="completed") == 1.0
    assert value("eas_time_saved_seconds_total", agent=agent) == 300.0
    assert value("eas_run_start_latency_seconds_count", lane="fast", agent=agent) == 1.0
    assert value("eas_run_start_latency_seconds_sum", lane="fast", agent=agent) >= 0.0


def test_a_request_failed_for_good_is_counted_failed_and_saves_nothing(
    make_worker: Callable[..., Worker],
    request_store: RequestStore,
    queue: FastQueue,
    redis_client: redis.Redis,
    redis_key_prefix: str,
) -> None:
    agent = unique("agent")
    record = routed_request(request_store, agent, "finance.invoice_status", lane_jobs.FLAKY_JOB)
    redis_client.set(f"{redis_key_prefix}fail:{record.id}", 10)  # fails every op retry
    queue.enqueue(record.id, Priority.P1)

    outcome = make_worker(max_attempts=1).run_once(block_ms=0)

    assert outcome is not None and (outcome.action, outcome.status) == (Action.FAILED, Status.FAILED)
    assert value("eas_worker_tasks_total", agent=agent, outcome="failed") == 1.0
    assert value("eas_requests_total", agent=agent, intent="finance.invoice_status", status="failed") == 1.0
    assert value("eas_requests_total", agent=agent, intent="finance.invoice_status", status="completed") == 0
    assert value("eas_time_saved_seconds_total", agent=agent) == 0.0


def test_a_task_for_a_request_settled_elsewhere_counts_the_task_only(
    make_worker: Callable[..., Worker], request_store: RequestStore, queue: FastQueue
) -> None:
    agent = unique("agent")
    record = routed_request(request_store, agent, "finance.invoice_status", lane_jobs.QUICK_JOB)
    request_store.transition(record.id, Status.CANCELLED, actor="test")
    queue.enqueue(record.id, Priority.P1)

    outcome = make_worker().run_once(block_ms=0)

    assert outcome is not None and outcome.action is Action.SKIPPED
    assert value("eas_worker_tasks_total", agent=agent, outcome="skipped") == 1.0
    for status in metrics.REQUEST_STATUSES:
        assert value("eas_requests_total", agent=agent, intent="finance.invoice_status", status=status) == 0


# ---------------------------------------------------------------------------------------------- gateway


def test_the_gateway_counts_intake_by_agent_intent_and_status_on_its_own_metrics(
    make_gateway: Callable[..., Any],
) -> None:
    queued = {"agent": "finance", "intent": "finance.invoice_process", "status": "queued"}
    pending = {"agent": "none", "intent": "none", "status": "pending_classification"}
    before_queued, before_pending = (
        value("eas_requests_total", **queued),
        value("eas_requests_total", **pending),
    )

    with make_gateway() as gateway:
        answer = gateway.post(
            "/v1/requests",
            json={"text": INVOICE},
            headers=submit_headers(unique("key")),
        )
        assert answer.status_code == 201 and answer.json()["status"] == "queued", answer.text
        # A retry of the same key is the same request: not counted again.
        again = gateway.post(
            "/v1/requests",
            json={"text": INVOICE},
            headers=submit_headers(answer.request.headers["Idempotency-Key"]),
        )
        assert again.status_code == 200
        text = gateway.get("/metrics").text

    assert value("eas_requests_total", **queued) == before_queued + 1
    assert samples(text, "eas_requests_total")[tuple(sorted(queued.items()))] == before_queued + 1
    assert "process_cpu_seconds_total" in text

    with make_gateway([f"http://127.0.0.1:{free_port()}"]) as gateway:  # no NLP replica answers
        answer = gateway.post("/v1/requests", json={"text": "hello"}, headers=submit_headers(unique("key")))
        assert answer.status_code == 202
        gateway.app.state.reconcile_once()  # the reconciler's try is no new request
    assert value("eas_requests_total", **pending) == before_pending + 1


def test_peoples_decisions_count_needs_review_cancelled_and_rejected(
    make_gateway: Callable[..., Any], request_store: RequestStore
) -> None:
    with make_gateway(min_confidence=1.0) as gateway:  # every classification goes to review
        review = gateway.post("/v1/requests", json={"text": INVOICE}, headers=submit_headers(unique("key")))
        body = review.json()
        assert body["status"] == "needs_review", body
        labels = {"agent": metrics.label(body["agent"]), "intent": metrics.label(body["intent"])}
        before = value("eas_requests_total", **labels, status="cancelled")
        cancelled = gateway.post(
            f"/v1/review/{body['id']}/cancel", json={"reason": "not for us"}, headers=bearer()
        )
        assert cancelled.status_code == 200, cancelled.text
    assert value("eas_requests_total", **labels, status="cancelled") == before + 1

    rejected = {"agent": "finance", "intent": "finance.invoice_process", "status": "rejected"}
    before = value("eas_requests_total", **rejected)
    with make_gateway() as gateway:
        request_id = gateway.post(
            "/v1/requests", json={"text": INVOICE}, headers=submit_headers(unique("k"))
        ).json()["id"]
        request_store.transition(request_id, Status.RUNNING, actor="worker-1", expected=Status.QUEUED)
        request_store.request_approval(
            request_id, "finance_manager", now_utc() + timedelta(hours=1), actor="worker-1"
        )
        request_store.grant_role("dana", "finance_manager", "test")
        answer = gateway.post(
            f"/v1/approvals/{request_id}/reject", json={"reason": "no"}, headers=bearer("dana")
        )
        assert answer.status_code == 200, answer.text
    assert value("eas_requests_total", **rejected) == before + 1


# ---------------------------------------------------------------------------------------------- settings


def test_eas_up_gives_each_worker_a_metrics_port_of_its_own(tmp_path: Path) -> None:
    settings = EASSettings(data_dir=tmp_path, worker_metrics_port=9101, exporter_port=9102)
    assert worker_metrics_ports(settings, 3) == [9101, 9103, 9104]  # 9102 is the exporter's
    off = EASSettings(data_dir=tmp_path, worker_metrics_port=0)
    assert worker_metrics_ports(off, 2) == [0, 0]


def test_a_metrics_port_taken_by_another_part_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="EAS_EXPORTER_PORT: port 8080 is also EAS_GATEWAY_PORT"):
        load_settings(generate_secrets=False, data_dir=tmp_path, exporter_port=8080, gateway_port=8080)
    with pytest.raises(SettingsError, match="EAS_WORKER_METRICS_PORT: port 9102 is also EAS_EXPORTER_PORT"):
        load_settings(generate_secrets=False, data_dir=tmp_path, worker_metrics_port=9102, exporter_port=9102)
    with pytest.raises(SettingsError, match="EAS_EXPORTER_PORT"):
        load_settings(generate_secrets=False, data_dir=tmp_path, exporter_port=0)
