"""JSON log lines of the gateway and the worker: the keys a shipper indexes, the active span's trace
id, PII masked. Lines are captured from the real code paths with the real handler on the root logger."""

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eas_pipelines.agents.common import WorkItem, WorkResult, complete_request, start_request, traced_step
from eas_pipelines.gateway.request_log import ACCESS_LOGGER
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.observability.logs import bound_request, configure_logging
from eas_pipelines.observability.tracing import exporting_to
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.routing import Priority
from eas_pipelines.store import RequestStore
from eas_pipelines.workers.worker import Action, Worker
from tests.eas_pipelines.gateway.conftest import bearer
from tests.eas_pipelines.lane_support import queued_request

KEYS = {"timestamp", "level", "service", "logger", "event", "request_id", "trace_id", "span_id"}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
LOGGING_JOB = "logging_probe"
PROBE_LOGGER = "eas_pipelines.agents.probe"


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The process's logging as ``eas worker``/``eas gateway`` set it up, into a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("INFO", stream, service="eas-test")
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with exporting_to(InMemorySpanExporter()) as exporter:
        yield exporter


def test_a_line_has_every_key_even_outside_a_request_and_a_span(
    json_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    logging.getLogger("eas.test").warning("starting %s", "up")
    line = json_lines()[-1]
    assert set(line) >= KEYS
    assert (line["event"], line["level"], line["service"], line["logger"]) == (
        "starting up",
        "warning",
        "eas-test",
        "eas.test",
    )
    assert (line["request_id"], line["trace_id"], line["span_id"]) == (None, None, None)
    assert line["timestamp"].endswith("Z")


def test_bound_ids_and_pii_in_extra_fields(json_lines: Callable[[], list[dict[str, Any]]]) -> None:
    email = f"dana.{uuid.uuid4().hex[:6]}@example.com"
    with bound_request("req-42", eas_request_id="r-1"):
        logging.getLogger("eas.test").info("mail %s", email, extra={"recipient": email})
    line = json_lines()[-1]
    assert (line["request_id"], line["eas_request_id"]) == ("req-42", "r-1")
    assert email not in json.dumps(line)
    assert line["event"] == "mail <EMAIL_ADDRESS>" and line["recipient"] == "<EMAIL_ADDRESS>"


def test_the_gateway_access_line_carries_the_request_id_and_the_request_span(
    json_lines: Callable[[], list[dict[str, Any]]],
    spans: InMemorySpanExporter,
    build_gateway_app: Callable[..., Any],
) -> None:
    with TestClient(build_gateway_app(), raise_server_exceptions=False) as gateway:
        missing = "00000000-0000-4000-8000-000000000000"
        response = gateway.get(f"/v1/requests/{missing}", headers={**bearer(), "X-Request-ID": "req-log-1"})
    assert response.status_code == 404
    server = next(s for s in spans.get_finished_spans() if s.name == "GET /v1/requests/{request_id}")
    line = next(line for line in json_lines() if line["logger"] == ACCESS_LOGGER)
    assert set(line) >= KEYS
    assert line["request_id"] == "req-log-1" and line["status"] == 404
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["span_id"] == format(server.context.span_id, "016x")


@dg.op
def log_contact(context: dg.OpExecutionContext, item: WorkItem) -> WorkResult:
    """A step that logs what a request carries (an e-mail address), as an agent might by mistake."""
    with traced_step(context):
        logging.getLogger(PROBE_LOGGER).info("contacting %s for %s", item.text.split()[-1], item.request_id)
    return WorkResult(item, "logged")


@dg.job(name=LOGGING_JOB)
def logging_probe() -> None:
    complete_request(log_contact(start_request()))


def test_a_worker_line_names_its_request_and_step_span_and_masks_pii(
    json_lines: Callable[[], list[dict[str, Any]]],
    spans: InMemorySpanExporter,
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
    lane_env: dict[str, str],
) -> None:
    email = f"marcus.{uuid.uuid4().hex[:6]}@example.com"
    record = queued_request(
        request_store,
        LOGGING_JOB,
        agent="logging",
        intent="test.logging",
        text=f"please email {email}",
        trace_context={"traceparent": TRACEPARENT},
    )
    queue.enqueue(record.id, Priority.P1, traceparent=TRACEPARENT)
    defs = dg.Definitions(
        jobs=[logging_probe],
        resources={"store": RequestStoreResource(database_url=dg.EnvVar("EAS_DATABASE_URL"))},
    )
    worker = Worker(request_store, queue, defs, dagster_instance, "w-logs", heartbeat_s=0.5)
    try:
        outcome = worker.run_once(block_ms=0)
    finally:
        worker.close()
    assert outcome is not None and outcome.action is Action.EXECUTED

    lines = json_lines()
    assert email not in "\n".join(json.dumps(line) for line in lines)
    step = next(s for s in spans.get_finished_spans() if s.name == "eas.step log_contact")
    probe = next(line for line in lines if line["logger"] == PROBE_LOGGER)
    assert set(probe) >= KEYS
    assert probe["event"] == f"contacting <EMAIL_ADDRESS> for {record.id}"
    assert probe["request_id"] == record.id and probe["service"] == "eas-test"
    assert probe["trace_id"] == TRACE_ID and probe["span_id"] == format(step.context.span_id, "016x")
    summary = next(line for line in lines if line["logger"] == "eas_pipelines.workers.worker")
    assert summary["request_id"] == record.id and summary["trace_id"] == TRACE_ID
