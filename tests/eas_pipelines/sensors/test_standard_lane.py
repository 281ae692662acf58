"""standard_lane_sensor: cursor, run keys, priority tags, fast-lane fallback."""

from __future__ import annotations

import json

import dagster as dg

from eas_pipelines import routing
from eas_pipelines.lanes.heartbeat import worker_key
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import Priority, Route
from eas_pipelines.runs import run_config_for
from eas_pipelines.sensors import standard_lane_sensor
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import entity, evaluate_sensor, make_resources, queued_request

TEXT = "open a ticket: the portal is throwing errors"


def ticket(store, **kwargs):
    return queued_request(store, TEXT, "customer_service.ticket_create", [], **kwargs)


def tick(instance, resources, cursor=None) -> dg.SensorResult:
    return evaluate_sensor(standard_lane_sensor, instance=instance, cursor=cursor, resources=resources)


def test_yields_one_run_per_queued_request_and_advances_its_cursor(store, eas_resources, dagster_instance):
    urgent = ticket(store, lane="standard", priority=Priority.P0)
    normal = ticket(store, lane="standard", priority=Priority.P1)
    background = ticket(store, lane="standard", priority=Priority.P2)
    text = "Process INV-55101 from Globex for $300"
    invoice = queued_request(
        store, text, "finance.invoice_process", [entity(text, "invoice_id", "INV-55101")], lane="standard"
    )
    fast = ticket(store)  # fast lane, just queued: a worker's job, not the sensor's

    first = tick(dagster_instance, eas_resources)

    by_id = {r.tags["eas/request_id"]: r for r in first.run_requests}
    assert set(by_id) == {urgent.id, normal.id, background.id, invoice.id}
    assert fast.id not in by_id
    run = by_id[urgent.id]
    assert run.run_key == f"{urgent.id}:0"
    assert run.job_name == "customer_service_ticket_routing"
    assert run.run_config == run_config_for(urgent.id)
    assert run.tags["eas/agent"] == "customer_service"
    assert [by_id[r.id].tags["eas/priority"] for r in (urgent, normal, background)] == ["P0", "P1", "P2"]
    priorities = [int(by_id[r.id].tags["dagster/priority"]) for r in (urgent, normal, background)]
    assert priorities[0] > priorities[1] > priorities[2]  # higher launches first in the run queue
    assert by_id[invoice.id].job_name == "finance_invoice_processing"
    cursor = json.loads(first.cursor)
    assert cursor["standard"]["after"][1] == invoice.id

    second = tick(dagster_instance, eas_resources, first.cursor)
    assert second.run_requests == []

    late = ticket(store, lane="standard")
    third = tick(dagster_instance, eas_resources, second.cursor)
    assert [r.run_key for r in third.run_requests] == [f"{late.id}:0"]


def test_unroutable_request_fails_instead_of_blocking(store, eas_resources, dagster_instance, monkeypatch):
    # A synthetic route without a job: every intent of the real table has a workflow.
    monkeypatch.setitem(
        routing.ROUTES, "test.no_workflow", Route("test.no_workflow", "customer_service", None)
    )
    text = "how many tickets are open for Hooli"
    record = queued_request(store, text, "test.no_workflow", [], lane="standard")

    assert tick(dagster_instance, eas_resources).run_requests == []

    refused = store.get(record.id)
    assert refused.status is Status.FAILED
    assert "no workflow for intent" in refused.last_error


def test_fast_lane_fallback_only_when_no_worker_is_alive(
    store, migrated_database_url, redis_url, redis_key_prefix, redis_client, dagster_instance
):
    resources = make_resources(
        migrated_database_url,
        redis_url,
        redis_key_prefix,
        WorkflowPolicyResource(fast_lane_fallback_seconds=0.0),
    )
    record = ticket(store)  # fast lane
    redis_client.set(worker_key("w1", redis_key_prefix), "{}", px=10_000)

    alive = tick(dagster_instance, resources)
    assert alive.run_requests == []

    redis_client.delete(worker_key("w1", redis_key_prefix))
    dead = tick(dagster_instance, resources, alive.cursor)
    (run,) = dead.run_requests
    assert (run.run_key, run.tags["eas/lane"]) == (f"{record.id}:0", "fast-fallback")
    assert tick(dagster_instance, resources, dead.cursor).run_requests == []


def test_fast_lane_fallback_waits_for_the_fallback_delay(store, eas_resources, dagster_instance):
    ticket(store)  # no worker alive, but only just queued (default delay: 30 s)
    assert tick(dagster_instance, eas_resources).run_requests == []


def test_runs_carry_their_agents_kubernetes_resources(
    store, migrated_database_url, redis_url, redis_key_prefix, dagster_instance
):
    """EAS_K8S_AGENT_RESOURCES (via the policy) becomes the dagster-k8s/config tag of that agent's runs."""
    resources = {
        "customer_service": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}
    }
    policy = WorkflowPolicyResource(leave_blackouts=[], k8s_agent_resources=resources)
    eas_resources = make_resources(migrated_database_url, redis_url, redis_key_prefix, policy)
    ticket_request = ticket(store, lane="standard")
    text = "Process INV-55102 from Globex for $300"
    invoice = queued_request(
        store, text, "finance.invoice_process", [entity(text, "invoice_id", "INV-55102")], lane="standard"
    )

    by_id = {r.tags["eas/request_id"]: r for r in tick(dagster_instance, eas_resources).run_requests}

    tag = json.loads(by_id[ticket_request.id].tags["dagster-k8s/config"])
    assert tag["container_config"]["resources"] == resources["customer_service"]
    assert tag["pod_template_spec_metadata"]["labels"] == {"eas/agent": "customer_service"}
    assert "dagster-k8s/config" not in by_id[invoice.id].tags  # finance: the launcher's default
