"""Micro-batching on the real tiny model: concurrent requests share model calls."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nlp_service.inference.parser import NLUParser
from nlp_service.server.app import create_app
from nlp_service.server.batcher import BatchFailedError, MicroBatcher, NoModelError
from tests.nlp_service.server.server_helpers import INVOICE, LEAVE, RecordingParser, make_settings, running
from tests.support.numerics import assert_same_parses

pytestmark = pytest.mark.anyio

TEXTS = [INVOICE, LEAVE, "tell me a joke", "please pay Globex invoice INV-4411 of $99"]


async def test_concurrent_http_requests_share_one_model_call(
    tiny_model_dir: Path, parser: RecordingParser
) -> None:
    app = create_app(make_settings(tiny_model_dir, batch_wait_ms=200.0, max_batch_size=32), parser)
    async with running(app) as client:
        responses = await asyncio.gather(
            *(client.post("/v1/parse", json={"text": TEXTS[i % len(TEXTS)]}) for i in range(12))
        )
        metrics = (await client.get("/metrics")).text

    assert [r.status_code for r in responses] == [200] * 12
    assert sum(parser.batch_sizes) == 12
    assert max(parser.batch_sizes) > 1
    assert len(parser.batch_sizes) < 12
    assert f"eas_nlp_batch_size_count {float(len(parser.batch_sizes))}" in metrics
    assert "eas_nlp_batch_size_sum 12.0" in metrics


async def test_batched_results_match_single_parses(parser: RecordingParser) -> None:
    batcher = MicroBatcher(lambda: parser, max_batch_size=8, wait_s=0.1)
    await batcher.start()
    try:
        together = await asyncio.gather(*(batcher.parse(t) for t in TEXTS))
    finally:
        await batcher.stop()

    assert parser.batch_sizes == [len(TEXTS)]
    assert_same_parses(together, [parser.parse(t) for t in TEXTS])


async def test_batches_never_exceed_max_batch_size(parser: RecordingParser) -> None:
    batcher = MicroBatcher(lambda: parser, max_batch_size=4, wait_s=0.05)
    await batcher.start()
    try:
        results = await asyncio.gather(*(batcher.parse(TEXTS[i % 4]) for i in range(10)))
    finally:
        await batcher.stop()

    assert len(results) == 10
    assert sum(parser.batch_sizes) == 10
    assert max(parser.batch_sizes) == 4  # full batches go without waiting out the timer


async def test_parse_many_keeps_order(parser: RecordingParser) -> None:
    batcher = MicroBatcher(lambda: parser, max_batch_size=3, wait_s=0.0)
    await batcher.start()
    try:
        results = await batcher.parse_many([(t, None) for t in TEXTS])
    finally:
        await batcher.stop()

    assert [r.intent for r in results] == [parser.parse(t).intent for t in TEXTS]


async def test_without_a_parser_requests_fail_with_the_reason() -> None:
    batcher = MicroBatcher(
        lambda: None, max_batch_size=4, wait_s=0.0, no_model_reason=lambda: "still training"
    )
    await batcher.start()
    try:
        with pytest.raises(NoModelError, match="still training"):
            await batcher.parse(INVOICE)
    finally:
        await batcher.stop()


async def test_a_failed_batch_fails_its_requests_and_the_next_one_works(tiny_predictor) -> None:
    parser = RecordingParser(tiny_predictor, fail_on="boom")
    batcher = MicroBatcher(lambda: parser, max_batch_size=8, wait_s=0.05)
    await batcher.start()
    try:
        outcomes = await asyncio.gather(batcher.parse("boom"), batcher.parse(INVOICE), return_exceptions=True)
        after = await batcher.parse(INVOICE)
    finally:
        await batcher.stop()

    assert all(isinstance(o, BatchFailedError) for o in outcomes)  # both were in the failing batch
    assert outcomes[0] is not outcomes[1]
    assert after.intent == "finance.invoice_process"


async def test_the_parser_is_read_per_batch(tiny_predictor) -> None:
    old, new = RecordingParser(tiny_predictor), RecordingParser(tiny_predictor)
    current = [old]
    batcher = MicroBatcher(lambda: current[0], max_batch_size=8, wait_s=0.0)
    await batcher.start()
    try:
        await batcher.parse(INVOICE)
        current[0] = new
        await batcher.parse(INVOICE)
    finally:
        await batcher.stop()

    assert (old.batch_sizes, new.batch_sizes) == ([1], [1])


async def test_a_cancelled_request_is_not_parsed(parser: RecordingParser) -> None:
    batcher = MicroBatcher(lambda: parser, max_batch_size=8, wait_s=0.1)
    await batcher.start()
    try:
        gone = asyncio.ensure_future(batcher.parse("client hung up"))
        kept = asyncio.ensure_future(batcher.parse(INVOICE))
        await asyncio.sleep(0)
        gone.cancel()
        result = await kept
    finally:
        await batcher.stop()

    assert result.intent == "finance.invoice_process"
    assert parser.batch_sizes == [1]


def test_invalid_settings_are_rejected(parser: RecordingParser) -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        MicroBatcher(lambda: parser, max_batch_size=0, wait_s=0.0)
    with pytest.raises(ValueError, match="wait_s"):
        MicroBatcher(lambda: parser, max_batch_size=1, wait_s=-1.0)


class OverlapParser(RecordingParser):
    """Records how many ``parse_batch`` calls were in progress at once (each takes 50 ms)."""

    def __init__(self, predictor) -> None:
        super().__init__(predictor)
        self.in_progress = 0
        self.most_at_once = 0

    def parse_batch(self, texts, reference_dates=None):
        with self._lock:
            self.in_progress += 1
            self.most_at_once = max(self.most_at_once, self.in_progress)
        try:
            time.sleep(0.05)
            return super().parse_batch(texts, reference_dates)
        finally:
            with self._lock:
                self.in_progress -= 1


@pytest.mark.parametrize("workers", [1, 2, 3])
async def test_at_most_workers_batches_run_at_once(tiny_predictor, workers: int) -> None:
    parser = OverlapParser(tiny_predictor)
    batcher = MicroBatcher(lambda: parser, max_batch_size=2, wait_s=0.0, workers=workers)
    await batcher.start()
    try:
        results = await asyncio.gather(*(batcher.parse(TEXTS[i % 4]) for i in range(16)))
    finally:
        await batcher.stop()

    single = NLUParser(tiny_predictor)
    assert [r.intent for r in results] == [single.parse(TEXTS[i % 4]).intent for i in range(16)]
    assert sum(parser.batch_sizes) == 16
    assert parser.most_at_once == workers


async def test_stopping_fails_requests_whose_batch_is_still_running(tiny_predictor) -> None:
    parser = OverlapParser(tiny_predictor)
    batcher = MicroBatcher(lambda: parser, max_batch_size=1, wait_s=0.0, workers=2)
    await batcher.start()
    pending = [asyncio.ensure_future(batcher.parse(t)) for t in TEXTS]
    await asyncio.sleep(0.01)  # two batches are running, two are queued
    await batcher.stop()
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    assert all(isinstance(o, NoModelError) for o in outcomes), outcomes


def test_workers_must_be_positive(parser: RecordingParser) -> None:
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        MicroBatcher(lambda: parser, max_batch_size=1, wait_s=0.0, workers=0)


async def test_the_next_batch_is_dispatched_before_answers_are_written(parser: RecordingParser) -> None:
    """A worker back from the model gets its next batch before the event loop answers the last
    one: writing a batch's answers takes the loop a while, and the worker would sit idle."""
    batcher = MicroBatcher(lambda: parser, max_batch_size=1, wait_s=0.0, workers=1)
    await batcher.start()
    events: list[str] = []
    assert batcher._executor is not None
    submit = batcher._executor.submit

    def recording_submit(fn, *args, **kwargs):
        events.append(f"model call: {args[0][0]}")
        return submit(fn, *args, **kwargs)

    batcher._executor.submit = recording_submit  # type: ignore[method-assign]

    async def request(text: str) -> None:
        await batcher.parse(text)
        events.append(f"answer: {text}")

    try:
        await asyncio.gather(request(TEXTS[0]), request(TEXTS[1]))
    finally:
        await batcher.stop()

    assert events == [
        f"model call: {TEXTS[0]}",
        f"model call: {TEXTS[1]}",
        f"answer: {TEXTS[0]}",
        f"answer: {TEXTS[1]}",
    ]


async def test_a_batch_answered_with_the_wrong_count_fails_and_frees_its_worker(tiny_predictor) -> None:
    class ShortParser(NLUParser):
        def parse_batch(self, texts, reference_dates=None):
            results = super().parse_batch(texts, reference_dates)
            return results[:-1] if len(texts) > 1 else results

    parser = ShortParser(tiny_predictor)
    batcher = MicroBatcher(lambda: parser, max_batch_size=2, wait_s=0.5, workers=1)
    await batcher.start()
    try:
        outcomes = await asyncio.gather(
            batcher.parse(TEXTS[0]), batcher.parse(TEXTS[1]), return_exceptions=True
        )
        alone = await batcher.parse(TEXTS[2])
    finally:
        await batcher.stop()

    assert all(isinstance(o, BatchFailedError) for o in outcomes), outcomes
    assert "1 results for 2 texts" in str(outcomes[0])
    assert alone.intent == parser.parse(TEXTS[2]).intent
