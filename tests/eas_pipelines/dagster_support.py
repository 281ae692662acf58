"""Fixtures and helpers for the Dagster code location's tests (agents, sensors, resources).

Everything runs against the real PostgreSQL (a fresh migrated database per session, request
tables emptied per test) and the real Redis (keys under a prefix of the test's own), with a real
Dagster instance from ``dg.instance_for_test``. The conftest of each test folder re-exports the
fixtures below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import dagster as dg
import pytest

from eas_pipelines.connectors.base import ConnectorResource
from eas_pipelines.definitions import CONNECTORS
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.routing import route_for
from eas_pipelines.runs import now_utc, run_config_for, run_tags_for
from eas_pipelines.store import RequestRecord, RequestStore, Status
from nlp_service.text.normalize import normalize


def today() -> date:
    return now_utc().date()


def next_monday(weeks_ahead: int = 2) -> date:
    """A Monday at least ``weeks_ahead`` weeks away: past any notice period."""
    base = today() + timedelta(days=7 * weeks_ahead)
    return base + timedelta(days=(7 - base.weekday()) % 7)


def entity(text: str, entity_type: str, snippet: str, value: Any = ...) -> dict[str, Any]:
    """An entity as the NLP service returns it: span offsets into ``text`` and the normalised value."""
    start = text.index(snippet)
    if value is ...:
        value = normalize(entity_type, snippet, today())
    return {"type": entity_type, "text": snippet, "start": start, "end": start + len(snippet), "value": value}


def queued_request(
    store: RequestStore,
    text: str,
    intent: str,
    entities: list[dict[str, Any]],
    *,
    lane: str | None = None,
    priority: int | None = None,
    client_id: str | None = None,
) -> RequestRecord:
    """A request taken through intake and routing to ``queued``, as the gateway would."""
    route = route_for(intent)
    record, _ = store.submit(client_id or f"client-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, text)
    store.classify(
        record.id,
        intent=intent,
        confidence=0.97,
        entities=entities,
        agent=route.agent,
        workflow=route.job,
        priority=route.priority if priority is None else priority,
        lane=lane or route.lane,
        model_version="test",
        needs_review=False,
    )
    return store.transition(record.id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)


def awaiting(
    store: RequestStore,
    approver: str,
    deadline: datetime,
    *,
    lane: str | None = None,
    priority: int | None = None,
):
    """A ticket request that ran and now awaits ``approver`` until ``deadline``."""
    record = queued_request(
        store,
        "open a ticket: billing portal down",
        "customer_service.ticket_create",
        [],
        lane=lane,
        priority=priority,
    )
    store.transition(
        record.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r1", attempt=True
    )
    approval = store.request_approval(record.id, approver, deadline, "test")
    return record, approval


def make_resources(
    database_url: str,
    redis_url: str,
    prefix: str,
    policy: WorkflowPolicyResource | None = None,
    **breaker: Any,
) -> dict[str, Any]:
    """The code location's resources on the test's database, with Redis keys under ``prefix``."""
    resources: dict[str, Any] = {
        "store": RequestStoreResource(database_url=database_url),
        "fast_lane": FastLaneResource(redis_url=redis_url, prefix=prefix),
        "policy": policy or WorkflowPolicyResource(leave_blackouts=[]),
    }
    for key, connector in CONNECTORS.items():
        if hasattr(connector, "from_env"):  # a vendor connector, on the session's emulators
            resources[key] = with_breaker(connector.from_env(redis_url), f"{prefix}circuit", **breaker)
        else:
            resources[key] = connector(
                database_url=database_url, redis_url=redis_url, breaker_prefix=f"{prefix}circuit", **breaker
            )
    return resources


def with_breaker(resource: Any, prefix: str, **breaker: Any) -> Any:
    """``resource`` (or, for a composite such as notifications, each of its connectors) with the
    breaker under the test's own Redis prefix, so one test's outage never opens another's circuit.

    Rebuilt rather than copied: a run builds its resources from the values given to the
    constructor (``dg.EnvVar`` included), and a ``model_copy`` would be ignored.
    """
    values = dict(resource._get_non_default_public_field_values())
    if isinstance(resource, ConnectorResource):
        return type(resource)(**{**values, "breaker_prefix": prefix, **breaker})
    for name, value in values.items():
        if isinstance(value, dg.ConfigurableResource):
            values[name] = with_breaker(value, prefix, **breaker)
    return type(resource)(**values)


def run_workflow(
    job: dg.JobDefinition,
    request_id: str,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    store: RequestStore | None = None,
) -> dg.ExecuteInProcessResult:
    """Run ``job`` for the request as a lane would: its run config and tags, the real instance."""
    tags = run_tags_for(store.get(request_id)) if store is not None else {"eas/request_id": request_id}
    return job.execute_in_process(
        run_config=run_config_for(request_id),
        instance=instance,
        resources=resources,
        tags=tags,
        raise_on_error=False,
    )


# The project's dagster.yaml uses the no-op compute log manager; so do the test instances. The
# default one starts two `tail -F` processes per run and waits up to 30 s for each to stop.
NO_COMPUTE_LOGS: dict = {
    "compute_logs": {
        "module": "dagster.core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}


@pytest.fixture(scope="module")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """A real (temporary, SQLite) Dagster instance, shared by a module's tests: runs never collide."""
    with dg.instance_for_test(overrides=NO_COMPUTE_LOGS) as instance:
        yield instance


@pytest.fixture
def store(request_store: RequestStore) -> RequestStore:
    """The request store with empty request tables (sandbox tables keep their rows: use fresh ids)."""
    return request_store


@pytest.fixture
def eas_resources(migrated_database_url: str, redis_url: str, redis_key_prefix: str) -> dict[str, Any]:
    return make_resources(migrated_database_url, redis_url, redis_key_prefix)


def evaluate_sensor(sensor: dg.SensorDefinition, **context: Any) -> dg.SensorExecutionData:
    """One tick of ``sensor``; its context is opened as a context manager, as resources that hold
    other resources (notifications: Slack and email) require."""
    with dg.build_sensor_context(**context) as sensor_context:
        return sensor.evaluate_tick(sensor_context)
