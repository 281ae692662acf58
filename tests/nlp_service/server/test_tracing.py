"""The NLP service's part of a request's trace: it continues the caller's ``traceparent``.

Spans are captured with the SDK's in-memory exporter; the app runs in-process on the tiny model.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from nlp_service.server.app import create_app
from nlp_service.server.logs import configure_logging
from nlp_service.server.tracing import exporting_to
from tests.nlp_service.server.server_helpers import INVOICE, RecordingParser, make_settings, running

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with exporting_to(InMemorySpanExporter()) as exporter:
        yield exporter


def wait_for(exporter: InMemorySpanExporter, *names: str) -> dict[str, ReadableSpan]:
    """The finished spans by name once all ``names`` are there (a server span ends after its reply)."""
    deadline = time.monotonic() + 10
    while True:
        found = {span.name: span for span in exporter.get_finished_spans()}
        if all(name in found for name in names) or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


async def post_traced(
    model_dir: Path, parser: RecordingParser, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """POST ``body`` to ``path`` of an app on the tiny model, as a caller in trace :data:`TRACE_ID`;
    then a probe (never traced). The parse's JSON answer."""
    app = create_app(make_settings(model_dir), parser)
    async with running(app) as client:
        answer = await client.post(path, json=body, headers={"traceparent": TRACEPARENT})
        await client.get("/healthz")
    assert answer.status_code == 200
    return answer.json()


@pytest.mark.anyio
async def test_a_parse_continues_the_callers_trace(
    spans: InMemorySpanExporter, tiny_model_dir: Path, parser: RecordingParser
) -> None:
    answer = await post_traced(tiny_model_dir, parser, "/v1/parse", {"text": INVOICE})

    found = wait_for(spans, "POST /v1/parse", "nlp.parse")
    server, parse = found["POST /v1/parse"], found["nlp.parse"]
    assert server.kind is SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None and format(server.parent.span_id, "016x") == CALLER_SPAN
    assert parse.parent is not None and parse.parent.span_id == server.context.span_id
    assert parse.context.trace_id == server.context.trace_id
    assert parse.attributes["nlp.texts"] == 1 and parse.attributes["nlp.conversation"] is False
    assert parse.attributes["nlp.model_version"] == answer["model_version"]
    # Probes are not traced, and no span repeats the text.
    assert not [s for s in spans.get_finished_spans() if "healthz" in s.name]
    recorded = json.dumps([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert "INV-2201" not in recorded and "Acme" not in recorded


@pytest.mark.anyio
async def test_a_batch_parse_is_one_span_with_its_size(
    spans: InMemorySpanExporter, tiny_model_dir: Path, parser: RecordingParser
) -> None:
    body = {"items": [{"text": INVOICE}, {"text": "book vacation for Bob next week"}]}
    await post_traced(tiny_model_dir, parser, "/v1/parse/batch", body)
    parse = wait_for(spans, "nlp.parse")["nlp.parse"]
    assert parse.attributes["nlp.texts"] == 2
    assert format(parse.context.trace_id, "032x") == TRACE_ID


def test_json_log_lines_carry_the_active_trace() -> None:
    from opentelemetry import trace

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream)
        with (
            exporting_to(InMemorySpanExporter()),
            trace.get_tracer("test").start_as_current_span("parse") as span,
        ):
            logging.getLogger("nlp_service.server.batcher").warning("batch of %d texts", 3)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "batch of 3 texts" and line["level"] == "warning"
    assert line["service"] == "eas-nlp" and line["logger"] == "nlp_service.server.batcher"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["request_id"] is None and line["timestamp"].endswith("Z")


def test_with_the_sdk_disabled_fastapi_telemetry_stays_off() -> None:
    """OTEL_SDK_DISABLED=true: no provider, FastAPI's telemetry off (a parse costs what it did)."""
    code = (
        "from nlp_service.server.tracing import setup_tracing, fastapi_telemetry\n"
        "print(setup_tracing(), fastapi_telemetry()['tracing'])\n"
    )
    env = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "False"]
