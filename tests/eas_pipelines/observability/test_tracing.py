"""One trace per request: gateway → NLP service → store and queue → worker run → steps → connector calls.

Spans are captured with the SDK's in-memory exporter (``exporting_to``); every service is the real
one: the gateway app on the test store and Redis, the NLP service on a real socket (uvicorn in a
thread), a worker running a Dagster job in-process, a connector calling the ServiceNow emulator.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import redis
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from eas_pipelines.agents.common import WorkItem, WorkResult, complete_request, start_request, traced_step
from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, optional_env
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.observability import spans as eas_spans
from eas_pipelines.observability import tracing
from eas_pipelines.observability.tracing import exporting_to
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.routing import Priority
from eas_pipelines.runs import TAG_TRACEPARENT, run_tags_for
from eas_pipelines.sensors.run_traces import run_trace_sensor
from eas_pipelines.store import Lane, RequestRecord, RequestStore, Status
from eas_pipelines.workers.worker import Action, Worker
from nlp_service.inference.parser import NLUParser
from tests.eas_pipelines.gateway.conftest import INVOICE, submit_headers
from tests.eas_pipelines.gateway.servers import ServerThread, nlp_app
from tests.eas_pipelines.lane_support import queued_request

REPO_ROOT = Path(__file__).resolve().parents[3]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
GATEWAY_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{GATEWAY_SPAN}-01"
TRACED_JOB = "tracing_probe"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with exporting_to(InMemorySpanExporter()) as exporter:
        yield exporter


def hex_trace(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def wait_for(exporter: InMemorySpanExporter, *names: str) -> dict[str, ReadableSpan]:
    """Finished spans by name once all ``names`` have ended (a server span ends after its reply)."""
    deadline = time.monotonic() + 15
    while True:
        found = {span.name: span for span in exporter.get_finished_spans()}
        if all(name in found for name in names) or time.monotonic() > deadline:
            missing = [name for name in names if name not in found]
            assert not missing, f"spans never ended: {missing}; got {sorted(found)}"
            return found
        time.sleep(0.02)


# ------------------------------------------------------------------ gateway → NLP → store → queue


@pytest.fixture
def live_worker(redis_client: redis.Redis, redis_key_prefix: str) -> Iterator[Heartbeat]:
    """A heartbeat as a worker's: the gateway then routes fast-lane requests to the fast lane."""
    with Heartbeat(redis_client, "trace-worker", interval_s=5.0, prefix=redis_key_prefix) as heartbeat:
        yield heartbeat


@pytest.fixture
def traced_nlp_server(
    spans: InMemorySpanExporter, nlp_parser: NLUParser, tiny_model_dir: Path
) -> Iterator[ServerThread]:
    """An NLP service built while tracing is set up (it traces with the provider there is then).

    Requested before the gateway's fixtures, so that it stops after their NLP clients are closed.
    """
    with ServerThread(nlp_app(nlp_parser, tiny_model_dir)) as server:
        yield server


def test_a_request_is_one_trace_from_intake_through_the_nlp_service_into_the_store_and_queue(
    spans: InMemorySpanExporter,
    traced_nlp_server: ServerThread,
    build_gateway_app: Callable[..., Any],
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    live_worker: Heartbeat,
) -> None:
    # Built after tracing is set up, like the NLP service: it traces with the provider there is then.
    with TestClient(build_gateway_app([traced_nlp_server.url]), raise_server_exceptions=False) as gateway:
        response = gateway.post(
            "/v1/requests", json={"text": INVOICE}, headers=submit_headers(uuid.uuid4().hex)
        )
    assert response.status_code == 201, response.text
    found = wait_for(spans, "POST /v1/requests", "POST /v1/parse", "nlp.parse")

    by_kind = {
        (span.name, span.kind): span for span in spans.get_finished_spans() if span.name == "POST /v1/parse"
    }
    intake = found["POST /v1/requests"]
    call = by_kind[("POST /v1/parse", SpanKind.CLIENT)]
    nlp_server = by_kind[("POST /v1/parse", SpanKind.SERVER)]
    parse = found["nlp.parse"]
    assert intake.kind is SpanKind.SERVER and intake.parent is None
    assert {hex_trace(s) for s in (intake, call, nlp_server, parse)} == {hex_trace(intake)}
    assert parent_of(call) == intake.context.span_id
    assert parent_of(nlp_server) == call.context.span_id
    assert parent_of(parse) == nlp_server.context.span_id
    assert call.attributes["http.response.status_code"] == 200

    # The stored request carries the intake span's context; the queue entry carries it to the worker.
    record = request_store.get(response.json()["id"])
    assert record.status is Status.QUEUED and record.lane is Lane.FAST
    traceparent = record.trace_context["traceparent"]
    assert traceparent == f"00-{hex_trace(intake)}-{intake.context.span_id:016x}-01"
    task = FastQueue(redis_client, prefix=redis_key_prefix).dequeue("reader", block_ms=0)
    assert task is not None and task.request_id == record.id and task.traceparent == traceparent
    assert run_tags_for(record)[TAG_TRACEPARENT] == traceparent


def test_tracing_adds_no_span_for_probes_and_scrapes(
    spans: InMemorySpanExporter, build_gateway_app: Callable[..., Any]
) -> None:
    with TestClient(build_gateway_app(), raise_server_exceptions=False) as gateway:
        assert gateway.get("/healthz").status_code == 200
        assert gateway.get("/metrics").status_code == 200
    assert not [s for s in spans.get_finished_spans() if s.name.startswith("GET")]


# ------------------------------------------------------------------ worker run → steps → connector


@dg.op
def look_up_tickets(
    context: dg.OpExecutionContext, item: WorkItem, servicenow: ServiceNowResource
) -> WorkResult:
    """A workflow step calling an enterprise system (the ServiceNow emulator) in its step span."""
    with traced_step(context):
        tickets = servicenow.client().incidents(limit=1)
    return WorkResult(item, f"{len(tickets)} ticket(s) seen")


@dg.job(name=TRACED_JOB)
def tracing_probe() -> None:
    complete_request(look_up_tickets(start_request()))


@pytest.fixture
def traced_defs(redis_url: str, breaker_prefix: str) -> dg.Definitions:
    return dg.Definitions(
        jobs=[tracing_probe],
        resources={
            "store": RequestStoreResource(database_url=dg.EnvVar("EAS_DATABASE_URL")),
            "servicenow": ServiceNowResource(
                redis_url=redis_url,
                ca_bundle=optional_env(CA_BUNDLE_SETTING),
                base_url=dg.EnvVar("EAS_SERVICENOW_URL"),
                user=dg.EnvVar("EAS_SERVICENOW_USER"),
                password=dg.EnvVar("EAS_SERVICENOW_PASSWORD"),
                breaker_prefix=breaker_prefix,
            ),
        },
    )


def queued_traced_request(store: RequestStore, trace_context: dict[str, str] | None) -> RequestRecord:
    """A fast-lane request for the probe job, stored with ``trace_context`` (as the gateway stores it)."""
    return queued_request(
        store,
        TRACED_JOB,
        agent="tracing",
        intent="test.tracing",
        text="look up my tickets",
        trace_context=trace_context,
    )


@pytest.fixture
def make_worker(make_worker: Callable[..., Worker], traced_defs: dg.Definitions) -> Callable[[], Worker]:
    """The shared test workers (``lane_support``), running the probe job."""
    return lambda: make_worker("w-trace", defs=traced_defs)


def test_a_fast_lane_run_continues_the_request_trace_with_step_and_connector_spans(
    spans: InMemorySpanExporter,
    make_worker: Callable[[], Worker],
    request_store: RequestStore,
    queue: FastQueue,
    dagster_instance: dg.DagsterInstance,
) -> None:
    record = queued_traced_request(request_store, {"traceparent": TRACEPARENT})
    queue.enqueue(record.id, Priority.P1, traceparent=TRACEPARENT)

    outcome = make_worker().run_once(block_ms=0)

    assert outcome is not None and outcome.action is Action.EXECUTED, outcome
    assert outcome.status is Status.SUCCEEDED
    run = dagster_instance.get_run_by_id(outcome.run_id)
    assert run is not None and run.tags[TAG_TRACEPARENT] == TRACEPARENT

    found = wait_for(
        spans,
        f"eas.run {TRACED_JOB}",
        "eas.step start_request",
        "eas.step look_up_tickets",
        "eas.step complete_request",
        "eas.connector servicenow",
    )
    run_span = found[f"eas.run {TRACED_JOB}"]
    steps = [found[f"eas.step {name}"] for name in ("start_request", "look_up_tickets", "complete_request")]
    connector = found["eas.connector servicenow"]
    assert {hex_trace(s) for s in (run_span, *steps, connector)} == {TRACE_ID}
    assert parent_of(run_span) == int(GATEWAY_SPAN, 16)
    assert run_span.context.span_id == eas_spans.run_span_id(outcome.run_id)
    assert run_span.attributes["eas.request_id"] == record.id
    assert run_span.attributes["eas.lane"] == "fast" and run_span.attributes["eas.outcome"] == "success"
    assert all(parent_of(step) == run_span.context.span_id for step in steps)
    assert all(step.attributes["eas.outcome"] == "success" for step in steps)
    assert steps[0].end_time <= steps[1].start_time and steps[1].end_time <= steps[2].start_time
    assert parent_of(connector) == steps[1].context.span_id
    assert connector.kind is SpanKind.CLIENT
    assert dict(connector.attributes) == {
        "eas.connector.system": "servicenow",
        "eas.connector.operation": "incidents",
        "eas.connector.outcome": "ok",
    }


def test_a_failed_connector_call_marks_its_span_and_step(
    spans: InMemorySpanExporter, redis_url: str, breaker_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal is the ``rejected`` outcome (an error status on the span, its type only: no message)."""
    resource = ServiceNowResource(
        redis_url=redis_url,
        ca_bundle=os.environ.get(CA_BUNDLE_SETTING),
        base_url=os.environ["EAS_SERVICENOW_URL"],
        user=os.environ["EAS_SERVICENOW_USER"],
        password="wrong-password",
        breaker_prefix=breaker_prefix,
        max_attempts=1,
    )
    with pytest.raises(Exception) as raised, eas_spans.step_span("probe", run_id="r-1", job_name="j"):
        resource.client().incidents(limit=1)
    found = wait_for(spans, "eas.connector servicenow", "eas.step probe")
    connector, step = found["eas.connector servicenow"], found["eas.step probe"]
    assert connector.attributes["eas.connector.outcome"] in {"rejected", "error"}
    assert connector.status.status_code is StatusCode.ERROR
    assert step.attributes["eas.outcome"] == "failure"
    assert step.status.description == type(raised.value).__name__
    assert parent_of(connector) == step.context.span_id


def test_a_standard_lane_step_finds_its_run_span_through_the_run_tag(spans: InMemorySpanExporter) -> None:
    """In a run process no run span is active: the step's parent is the run span named by the tag."""
    with eas_spans.step_span(
        "start_request", run_id="run-7", job_name="j", run_tags={TAG_TRACEPARENT: TRACEPARENT}
    ):
        pass
    step = wait_for(spans, "eas.step start_request")["eas.step start_request"]
    assert hex_trace(step) == TRACE_ID
    assert parent_of(step) == eas_spans.run_span_id("run-7")


# ------------------------------------------------------------------ the trace context and the switches


def test_the_run_tag_is_the_one_tracing_reads() -> None:
    assert TAG_TRACEPARENT == eas_spans.RUN_TAG


def test_without_an_exporter_spans_record_nothing_but_ids_still_flow() -> None:
    tracing.setup_tracing("eas-test")
    with trace.get_tracer("test").start_as_current_span("unexported") as span:
        carrier = tracing.current_trace_context()
        ids = tracing.current_ids()
    assert not span.is_recording()
    assert carrier is not None and carrier["traceparent"].endswith("-00")  # valid ids, not sampled
    assert ids == (
        format(span.get_span_context().trace_id, "032x"),
        format(span.get_span_context().span_id, "016x"),
    )


def test_a_stored_context_is_continued_and_a_missing_one_starts_a_new_trace(
    spans: InMemorySpanExporter,
) -> None:
    assert tracing.context_from(None) is None and tracing.context_from({"traceparent": "garbage"}) is None
    with eas_spans.run_span("j", run_id="r-2", trace_context=None):
        pass
    with eas_spans.run_span("j", run_id="r-3", trace_context={"traceparent": TRACEPARENT}):
        pass
    runs = [s for s in spans.get_finished_spans() if s.name == "eas.run j"]
    assert runs[0].parent is None and hex_trace(runs[0]) != TRACE_ID
    assert hex_trace(runs[1]) == TRACE_ID and parent_of(runs[1]) == int(GATEWAY_SPAN, 16)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "NoneType"),
        (
            {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
            "NoneType",
        ),
        ({"OTEL_TRACES_EXPORTER": "console"}, "ConsoleSpanExporter"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, "OTLPSpanExporter"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, "OTLPSpanExporter"),
    ],
)
def test_the_exporter_comes_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert type(tracing.exporter_from_env()).__name__ == expected


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("OTEL_TRACES_EXPORTER", "jaeger", "OTEL_TRACES_EXPORTER"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ],
)
def test_an_unsupported_exporter_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv(name, value)
    with pytest.raises(tracing.TracingConfigError, match=named):
        tracing.exporter_from_env()


def _in_fresh_process(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**clean, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_otel_sdk_disabled_turns_everything_off() -> None:
    """The benchmark's off switch: no provider, no ids, nothing stored, FastAPI's telemetry off."""
    out = _in_fresh_process(
        "from opentelemetry import trace\n"
        "from eas_pipelines.observability import tracing\n"
        "print(tracing.setup_tracing('eas-test'))\n"
        "with trace.get_tracer('t').start_as_current_span('x'):\n"
        "    print(tracing.current_trace_context(), tracing.current_ids())\n"
        "print(tracing.fastapi_telemetry()['tracing'])\n",
        OTEL_SDK_DISABLED="true",
    )
    assert out.splitlines() == ["None", "None (None, None)", "False"]


def test_the_console_exporter_exports_spans_with_the_service_name() -> None:
    out = _in_fresh_process(
        "from eas_pipelines.observability import spans, tracing\n"
        "provider = tracing.setup_tracing('eas-test')\n"
        "with spans.run_span('probe', run_id='r', trace_context=None):\n"
        "    pass\n"
        "provider.force_flush()\n",
        OTEL_TRACES_EXPORTER="console",
        OTEL_SERVICE_NAME="eas-renamed",
    )
    assert '"name": "eas.run probe"' in out and '"service.name": "eas-renamed"' in out


# ------------------------------------------------------------------ the standard lane's run spans


@dg.op
def noop() -> None:
    pass


@dg.job(name="standard_probe")
def standard_probe() -> None:
    noop()


def test_the_run_trace_sensor_records_finished_standard_lane_runs_once(
    spans: InMemorySpanExporter, dagster_instance: dg.DagsterInstance
) -> None:
    """A run a run process executed gets its span from Dagster's times, with the derived id; a run a
    worker executed (it spanned it itself) and a run without a trace context are left alone."""
    traced = standard_probe.execute_in_process(
        instance=dagster_instance, tags={TAG_TRACEPARENT: TRACEPARENT, "eas/request_id": "r-std"}
    )
    standard_probe.execute_in_process(
        instance=dagster_instance, tags={TAG_TRACEPARENT: TRACEPARENT, "eas/worker": "w-1"}
    )
    standard_probe.execute_in_process(instance=dagster_instance)

    context = dg.build_sensor_context(instance=dagster_instance)
    result = run_trace_sensor(context)
    runs = [s for s in spans.get_finished_spans() if s.name == "eas.run standard_probe"]
    assert len(runs) == 1, result
    span = runs[0]
    record = dagster_instance.get_run_record_by_id(traced.run_id)
    assert span.context.span_id == eas_spans.run_span_id(traced.run_id)
    assert hex_trace(span) == TRACE_ID and parent_of(span) == int(GATEWAY_SPAN, 16)
    assert span.start_time == int(record.start_time * 1e9) and span.end_time == int(record.end_time * 1e9)
    assert span.attributes["eas.request_id"] == "r-std" and span.attributes["eas.outcome"] == "success"

    again = run_trace_sensor(dg.build_sensor_context(instance=dagster_instance, cursor=result.cursor))
    assert again.cursor >= result.cursor
    assert len([s for s in spans.get_finished_spans() if s.name == "eas.run standard_probe"]) == 1
