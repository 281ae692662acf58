"""What /metrics exports after some traffic."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nlp_service.server.app import create_app
from nlp_service.server.metrics import ServerMetrics
from tests.nlp_service.server.server_helpers import INVOICE, RecordingParser, make_settings, running

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_requests_batches_and_the_model(
    tiny_model_dir: Path, parser: RecordingParser
) -> None:
    async with running(create_app(make_settings(tiny_model_dir), parser)) as client:
        for _ in range(3):
            await client.post("/v1/parse", json={"text": INVOICE})
        await client.post("/v1/parse", json={"text": ""})
        await client.get("/v1/nowhere")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("eas_nlp_requests_total", (("endpoint", "/v1/parse"), ("status", "200")))] == 3
    assert found[("eas_nlp_requests_total", (("endpoint", "/v1/parse"), ("status", "422")))] == 1
    assert found[("eas_nlp_requests_total", (("endpoint", "unmatched"), ("status", "404")))] == 1
    latency = ("eas_nlp_request_latency_seconds_count", (("endpoint", "/v1/parse"),))
    assert found[latency] == 4
    # Sub-millisecond buckets exist, so fast answers are not all lumped into one bucket.
    assert ("eas_nlp_request_latency_seconds_bucket", (("endpoint", "/v1/parse"), ("le", "0.0005"))) in found
    assert found[("eas_nlp_batch_size_sum", ())] == 3
    assert found[("eas_nlp_batch_size_bucket", (("le", "1.0"),))] == 3
    assert found[("eas_nlp_batch_latency_seconds_count", ())] == 3
    model = (("backend", "onnx"), ("device", "cpu"), ("version", parser.model_version))
    assert found[("eas_nlp_model_info", model)] == 1


def test_each_app_has_its_own_registry() -> None:
    first, second = ServerMetrics(), ServerMetrics()
    first.observe_batch(5, 0.01)
    assert samples(second.render()[0].decode())[("eas_nlp_batch_size_count", ())] == 0


def test_model_info_shows_one_model_at_a_time() -> None:
    metrics = ServerMetrics()
    metrics.set_model("v1", "onnx", "cpu")
    metrics.set_model("v2", "torch", "cuda")
    info = {k: v for k, v in samples(metrics.render()[0].decode()).items() if k[0] == "eas_nlp_model_info"}
    assert info == {("eas_nlp_model_info", (("backend", "torch"), ("device", "cuda"), ("version", "v2"))): 1}
