"""Micro-batching: concurrent requests share one model call.

One encoder pass over 16 texts costs far less than 16 passes over one, so requests that
arrive together are parsed together: the first request of a batch waits at most
``wait_s`` for company (or until ``max_batch_size`` texts are queued), then the whole
batch goes to ``NLUParser.parse_batch`` in a worker thread, off the event loop.

Up to ``workers`` batches run at once, each on its own worker thread; requests that arrive
while every worker is busy simply form the next batch, so under load batches grow without
anyone waiting on the timer. The server runs ``EAS_NLP_MODEL_WORKERS`` (default 2), each
call with its share of the cores: on a small CPU, one single-threaded call per core wastes
less time in the runtime's thread synchronisation than one call over every core
(BENCHMARKS.md). The parser is fetched per batch through
``get_parser``, so a model reload takes effect between two batches and never inside one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from nlp_service.inference.parser import NLUParser
from nlp_service.inference.result import ParseResult

logger = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No model is loaded (yet); the message says why. The server answers 503."""


class BatchFailedError(RuntimeError):
    """The model call of the batch a request was in raised; only that batch's requests fail (500)."""


@dataclass(slots=True)
class _Pending:
    text: str
    reference_date: date | None
    future: asyncio.Future[ParseResult]
    enqueued: float


class MicroBatcher:
    """Collects parse requests from the event loop and runs them in batches.

    ``get_parser`` returns the parser to use now, or ``None`` when there is none;
    ``no_model_reason`` says why in that case. ``on_batch(size, seconds)`` is called
    after every model call (metrics).
    """

    def __init__(
        self,
        get_parser: Callable[[], NLUParser | None],
        *,
        max_batch_size: int,
        wait_s: float,
        no_model_reason: Callable[[], str] = lambda: "no model loaded",
        on_batch: Callable[[int, float], None] | None = None,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if wait_s < 0:
            raise ValueError(f"wait_s must not be negative, got {wait_s}")
        self._get_parser = get_parser
        self._no_model_reason = no_model_reason
        self._on_batch = on_batch
        self.max_batch_size = max_batch_size
        self.wait_s = wait_s
        self.workers = workers
        self._free_workers: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._queue: list[_Pending] = []
        self._waiter: asyncio.Future[None] | None = None
        self._idle = True  # the collector waits for a first request, not for company
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Start the collector on the running event loop."""
        if self._task is not None:
            raise RuntimeError("the batcher is already running")
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="nlp-batch")
        self._free_workers = asyncio.Semaphore(self.workers)
        self._task = self._loop.create_task(self._collect(), name="nlp-micro-batcher")

    async def stop(self) -> None:
        """Stop collecting; queued requests fail with ``NoModelError`` (the server is going away)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        for running in list(self._running):
            running.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        self._fail(self._queue, NoModelError("the server is shutting down"))
        self._queue.clear()
        if self._executor is not None:
            # A model call in progress cannot be interrupted; let it finish on its own.
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def parse(self, text: str, reference_date: date | None = None) -> ParseResult:
        """Parse one text in whichever batch it lands in."""
        return (await self.parse_many([(text, reference_date)]))[0]

    async def parse_many(self, items: Sequence[tuple[str, date | None]]) -> list[ParseResult]:
        """Parse several texts, queued together so that they tend to share a model call."""
        if self._task is None or self._loop is None:
            raise RuntimeError("the batcher is not running; call start() first")
        if self._get_parser() is None:
            raise NoModelError(self._no_model_reason())
        now = self._loop.time()
        pending = [_Pending(text, day, self._loop.create_future(), now) for text, day in items]
        self._queue.extend(pending)
        self._wake()
        if len(pending) == 1:  # the common case, without gather's bookkeeping
            return [await pending[0].future]
        outcomes = await asyncio.gather(*(p.future for p in pending), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return outcomes  # type: ignore[return-value]  # no exception among them

    def _wake(self) -> None:
        waiter = self._waiter
        if (
            waiter is not None
            and not waiter.done()
            and (self._idle or len(self._queue) >= self.max_batch_size)
        ):
            waiter.set_result(None)

    async def _wait(self, timeout: float | None) -> None:
        """Sleep until ``_wake`` decides there is something to do, or ``timeout`` passes.

        A bare future plus ``call_later`` instead of ``asyncio.wait_for``, which would cost
        a task per wait on the hot path.
        """
        assert self._loop is not None
        waiter = self._waiter = self._loop.create_future()
        timer = None
        if timeout is not None:
            timer = self._loop.call_later(timeout, lambda: waiter.done() or waiter.set_result(None))
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    async def _collect(self) -> None:
        assert self._loop is not None and self._free_workers is not None
        loop = self._loop
        while True:
            if not self._queue:
                self._idle = True
                await self._wait(None)
                continue
            self._idle = False
            if len(self._queue) < self.max_batch_size:
                remaining = self._queue[0].enqueued + self.wait_s - loop.time()
                if remaining > 0:
                    await self._wait(remaining)
            await self._free_workers.acquire()  # requests keep queueing meanwhile
            batch = self._queue[: self.max_batch_size]
            del self._queue[: self.max_batch_size]
            # Requests whose client went away are cancelled; don't spend the model on them.
            batch = [p for p in batch if not p.future.done()]
            parser = self._get_parser()
            if not batch or parser is None:
                self._fail(batch, NoModelError(self._no_model_reason()))
                self._free_workers.release()
                continue
            # Submitted to the worker thread now, not when a task first runs: a task's first step
            # would wait behind every answer already queued on the event loop.
            call = loop.run_in_executor(
                self._executor,
                parser.parse_batch,
                [p.text for p in batch],
                [p.reference_date for p in batch],
            )
            running = loop.create_task(self._settle(batch, call, time.perf_counter()), name="nlp-batch")
            self._running.add(running)
            running.add_done_callback(self._running.discard)

    async def _settle(
        self, batch: list[_Pending], call: asyncio.Future[list[ParseResult]], started: float
    ) -> None:
        """Answer a batch's requests once its model call returns.

        The worker is handed back first: the collector then dispatches the next batch before the
        event loop spends its time writing this batch's answers, so the worker does not sit idle
        meanwhile.
        """
        assert self._free_workers is not None
        try:
            try:
                results = await call
            finally:
                self._free_workers.release()
            if len(results) != len(batch):
                raise RuntimeError(f"parse_batch returned {len(results)} results for {len(batch)} texts")
        except asyncio.CancelledError:
            self._fail(batch, NoModelError("the server is shutting down"))
            raise
        except Exception as exc:
            logger.exception("model call failed for a batch of %d texts", len(batch))
            self._fail(batch, BatchFailedError(f"the model failed on this request's batch: {exc!r}"))
            return
        if self._on_batch is not None:
            self._on_batch(len(batch), time.perf_counter() - started)
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    @staticmethod
    def _fail(batch: Sequence[_Pending], error: Exception) -> None:
        for pending in batch:
            if not pending.future.done():
                # One instance per request: a raised exception collects its traceback.
                pending.future.set_exception(type(error)(*error.args))
