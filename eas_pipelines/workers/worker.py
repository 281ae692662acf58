"""A warm fast-lane worker: takes requests off the Redis queue and runs their Dagster job in-process.

Why in-process: Dagster's own queued lane costs seconds per run (coordinator, launcher, a new process
that loads the code location). A worker loads the Definitions once, keeps its database pools and
Redis connections, and runs each request's job with ``execute_in_process`` against the real
instance, so every request is still an ordinary run in the Dagster UI (tagged with request id,
agent, priority, lane and worker) at a fraction of the cost.

Guarantees, and who gives them:

- at-least-once: an entry is acknowledged only once its request is settled (run finished and
  recovered if it failed, or found already done); a worker that dies leaves the entry pending, its
  heartbeat stops extending the lease, and another worker reclaims it after the visibility timeout;
- never twice: the workflow's first op claims the request ``queued -> running`` as a compare-and-set,
  so a second delivery (a reclaim racing a slow worker, a duplicate enqueue, the standard-lane
  fallback) fails fast instead of running the workflow again; the worker also skips a request that
  is no longer ``queued`` before starting anything;
- a dead worker's work is finished: a reclaimed request stuck ``running`` under a run whose worker
  is gone gets that run marked FAILED in Dagster (the UI shows the truth) and goes back through the
  recovery rule (:mod:`eas_pipelines.recovery`), then runs again here at once;
- and finished even when its queue entry is gone (a memory-only Redis restarted, no worker left to
  reclaim it): every worker runs the stranded-request pass (:mod:`eas_pipelines.lanes.stranded`)
  once at start-up, before taking work, and every ~30 s (jittered) between tasks, so this holds
  without the Dagster daemon too;
- poison: an entry delivered more than ``max_deliveries`` times (it kills or hangs every worker that
  takes it) is dead-lettered and its request failed, instead of circulating forever.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import dagster as dg

from eas_pipelines.lanes import stranded
from eas_pipelines.lanes.fast_queue import FastQueue, Task
from eas_pipelines.lanes.heartbeat import Heartbeat
from eas_pipelines.lanes.stranded import Owner, fail_dead_runs, find_owner, recover_request
from eas_pipelines.observability import metrics
from eas_pipelines.observability.logs import bound_request
from eas_pipelines.observability.spans import (
    ATTR_AGENT,
    ATTR_ATTEMPT,
    ATTR_LANE,
    ATTR_REQUEST_ID,
    mark_outcome,
    run_span,
)
from eas_pipelines.observability.tracing import attached_trace
from eas_pipelines.recovery import (
    BACKOFF_BASE_S,
    BACKOFF_CAP_S,
    apply_recovery,
    audit_outcome,
    enqueue_retry,
    failure_reason,
    retry_delay,
)
from eas_pipelines.routing import ROUTES, job_for
from eas_pipelines.runs import FAST_LANE, TAG_WORKER, fail_unroutable, run_config_for, run_tags_for
from eas_pipelines.store import (
    IllegalTransition,
    RequestNotFound,
    RequestRecord,
    RequestStore,
    Status,
)
from eas_pipelines.workers.warm import WarmResources

log = logging.getLogger(__name__)

DEFAULT_DEFINITIONS = "eas_pipelines.definitions:defs"
STRANDED_EVERY_S = 30.0
"""How often (±20 %) each worker runs the stranded-request pass between tasks."""


class Action(StrEnum):
    """What :meth:`Worker.run_once` did with a task."""

    EXECUTED = "executed"  # the job ran and succeeded (request succeeded, awaits approval, or refused)
    RETRY_QUEUED = "retry_queued"  # the run failed; the request is queued again with a backoff
    FAILED = "failed"  # the run failed and attempts are exhausted: the request is failed
    SKIPPED = "skipped"  # the request was not queued (done, cancelled, running under a live owner)
    RETURNED = "returned"  # reclaimed from a worker that is still alive: handed back to it
    DEAD_LETTERED = "dead_lettered"  # delivered too often: moved to the dead-letter stream
    DEFERRED = "deferred"  # not acknowledged: it will be delivered again after the visibility timeout


@dataclass(frozen=True)
class TaskOutcome:
    """One task's fate, for logs, metrics and tests."""

    task: Task
    action: Action
    run_id: str | None = None
    status: Status | None = None
    detail: str | None = None
    seconds: float = 0.0
    agent: str | None = None  # the request's, when it was found in the store
    intent: str | None = None


def default_worker_id() -> str:
    """Unique per process: a restarted worker (same pod, same host) must never look like its dead self."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def load_definitions(ref: str | dg.Definitions | None = None) -> dg.Definitions:
    """``module.path:attribute`` (attribute defaults to ``defs``) or a Definitions object, as is.

    A module path rather than an import in this file so that tests (and a deployment with its own
    code location) can point the worker at other Definitions without touching product code.
    """
    if isinstance(ref, dg.Definitions):
        return ref
    module_name, _, attribute = (ref or DEFAULT_DEFINITIONS).partition(":")
    module = importlib.import_module(module_name)
    found = getattr(module, attribute or "defs", None)
    if isinstance(found, dg.Definitions):
        return found
    candidates = [value for value in vars(module).values() if isinstance(value, dg.Definitions)]
    if attribute or len(candidates) != 1:
        raise LookupError(f"{ref!r}: no dagster Definitions found (name one as module:attribute)")
    return candidates[0]


SETTLED_AS: dict[Status, str] = {
    Status.SUCCEEDED: metrics.COMPLETED,
    Status.FAILED: metrics.FAILED,
    Status.AWAITING_APPROVAL: metrics.AWAITING_APPROVAL,
}
"""How a request a worker's task settled is counted in ``eas_requests_total`` (its ``status``)."""
SETTLING_ACTIONS = frozenset({Action.EXECUTED, Action.FAILED, Action.DEAD_LETTERED})
"""Actions after which the request's status is the one this task left it in (not someone else's)."""


def count_outcome(outcome: TaskOutcome) -> None:
    """The task in ``eas_worker_tasks_total``; the request, when this task settled it, in
    ``eas_requests_total`` (and its route's manual minutes in ``eas_time_saved_seconds_total``)."""
    metrics.count_worker_task(outcome.agent, outcome.action.value)
    status = None
    if outcome.action in SETTLING_ACTIONS and outcome.status is not None:
        status = SETTLED_AS.get(outcome.status)
    if status == metrics.COMPLETED:
        route = ROUTES.get(outcome.intent or "")
        metrics.count_completed(outcome.agent, outcome.intent, route.manual_minutes if route else 0.0)
    elif status is not None:
        metrics.count_request(outcome.agent, outcome.intent, status)


def traced_task_carrier(task: Task) -> dict[str, str] | None:
    """The trace context the queue entry carried (None for a delayed retry: the store has it)."""
    return {"traceparent": task.traceparent} if task.traceparent else None


def run_failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """Why an ``execute_in_process`` run failed, worded as the failure sensor words it."""
    run_failure = next((e.message for e in result.all_events if e.is_run_failure and e.message), None)
    return failure_reason(
        (e for e in result.all_events if e.is_step_failure), run_failure or f"run {result.run_id} failed"
    )


class Worker:
    """One warm worker: dequeues, settles and runs one request at a time.

    Run several worker processes for parallelism (``EAS_WORKER_COUNT``); one process runs one job at
    a time so that a job's resources, logs and signals are its own.

    ``definitions``: a ``Definitions`` or ``module:attribute`` (None: the project's code location).
    ``heartbeat_s``: ``EAS_WORKER_HEARTBEAT_SECONDS``; the visibility timeout (how long an entry
    must sit unacknowledged and untouched before another worker reclaims it) defaults to three
    beats, the same span after which the heartbeat key expires. ``max_attempts``: failed runs before
    a request fails (``EAS_MAX_ATTEMPTS``). ``max_deliveries``: deliveries of one entry before it is
    dead-lettered. ``backoff_*``: the retry delay (see :func:`~eas_pipelines.recovery.backoff_delay`).
    ``stranded_every_s``: how often the stranded-request pass runs between tasks (None: only at
    start-up); ``stranded_grace_s``: how long a request must be ``running`` unchanged before the pass
    judges it (default and minimum: two heartbeat TTLs).
    """

    def __init__(
        self,
        store: RequestStore,
        queue: FastQueue,
        definitions: dg.Definitions | str | None,
        instance: dg.DagsterInstance,
        worker_id: str | None = None,
        *,
        heartbeat_s: float = 5.0,
        visibility_timeout_s: float | None = None,
        max_attempts: int = 3,
        max_deliveries: int = 5,
        block_ms: int = 1000,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
        reclaim_batch: int = 1,
        run_config: Callable[[str], dict[str, Any]] = run_config_for,
        stranded_every_s: float | None = STRANDED_EVERY_S,
        stranded_grace_s: float | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        self.definitions = load_definitions(definitions)
        self.instance = instance
        self.worker_id = worker_id or default_worker_id()
        self.actor = f"worker:{self.worker_id}"
        self.max_attempts = int(max_attempts)
        self.max_deliveries = int(max_deliveries)
        self.block_ms = int(block_ms)
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.reclaim_batch = int(reclaim_batch)
        self.run_config = run_config
        self.heartbeat_s = float(heartbeat_s)
        self.stranded_every_s = stranded_every_s
        self.stranded_grace_s = (
            float(stranded_grace_s) if stranded_grace_s is not None else stranded.default_grace_s(heartbeat_s)
        )
        if self.stranded_grace_s < stranded.default_grace_s(heartbeat_s):
            raise ValueError(
                f"stranded_grace_s must be at least {stranded.GRACE_TTLS} heartbeat TTLs "
                f"({stranded.default_grace_s(heartbeat_s)} s): a live worker's request must not be judged"
            )
        self._next_stranded = 0.0
        # A lease survives one late heartbeat; the heartbeat key expires on the same clock.
        self.visibility_timeout_s = (
            float(visibility_timeout_s) if visibility_timeout_s is not None else 3 * float(heartbeat_s)
        )
        self._reclaim_every_s = max(0.2, self.visibility_timeout_s / 2)
        self._next_reclaim = 0.0
        self._reclaimed: deque[Task] = deque()
        self._current: Task | None = None
        # Resolve every job once: the warm pool's point is that no request pays for code loading.
        self.jobs: dict[str, dg.JobDefinition] = {
            job.name: job for job in self.definitions.resolve_all_job_defs()
        }
        self.warm = WarmResources()
        queue.ensure_groups()
        self.heartbeat = Heartbeat(
            queue.client, self.worker_id, heartbeat_s, prefix=queue.prefix, on_beat=self._extend_lease
        )

    # ------------------------------------------------------------------ loop

    def run_forever(self, stop_event: threading.Event) -> None:
        """Work until ``stop_event`` is set; the task in progress is always finished first.

        Errors outside a job (Redis or PostgreSQL unreachable) are logged and retried with a short
        pause: the task, if any, stays unacknowledged and comes back after the visibility timeout.
        """
        self.heartbeat.start()
        log.info("worker %s started (%d jobs loaded)", self.worker_id, len(self.jobs))
        self.recover_stranded()  # before taking work: finish what dead workers left running
        pause = 0.5
        try:
            while not stop_event.is_set():
                try:
                    if self.stranded_every_s is not None and time.monotonic() >= self._next_stranded:
                        self.recover_stranded()
                    self.run_once(block_ms=min(self.block_ms, 1000))
                    pause = 0.5
                except Exception:  # noqa: BLE001 - a worker survives its dependencies' outages
                    log.exception("worker %s: error outside a job; retrying in %.1fs", self.worker_id, pause)
                    stop_event.wait(pause)
                    pause = min(pause * 2, 10.0)
        finally:
            self.close()
            log.info("worker %s stopped", self.worker_id)

    def close(self) -> None:
        """Stop heartbeating (the key is deleted: the worker stops counting as live at once) and tear
        the warm resources down."""
        self.heartbeat.stop()
        self.warm.close()

    def recover_stranded(self) -> stranded.StrandedReport | None:
        """Run the stranded-request pass (:func:`eas_pipelines.lanes.stranded.recover_stranded`) once, now.

        Called between tasks (a worker is then running no job of its own, so a run tagged with this
        worker's id is as stranded as a dead worker's). Errors are logged, not raised: a worker must
        not stop taking work because the pass failed, and the next pass (~30 s, jittered so that a
        pool started together does not pass in lockstep) tries again, or sooner when the pass asked
        to (Redis had just restarted and dead workers could not be told from live ones yet).
        """
        report: stranded.StrandedReport | None = None
        try:
            report = stranded.recover_stranded(
                self.store,
                self.instance,
                self.queue,
                heartbeat_s=self.heartbeat_s,
                max_attempts=self.max_attempts,
                actor=self.actor,
                grace_s=self.stranded_grace_s,
                me=self.worker_id,
                backoff_base_s=self.backoff_base_s,
                backoff_cap_s=self.backoff_cap_s,
            )
        except Exception:  # noqa: BLE001 - the pass is retried; the worker keeps working
            log.exception("worker %s: stranded-request pass failed", self.worker_id)
        every = self.stranded_every_s if self.stranded_every_s is not None else STRANDED_EVERY_S
        wait = every * random.uniform(0.8, 1.2)
        if report is not None and report.retry_in_s is not None:
            wait = min(wait, report.retry_in_s + 0.5)
        self._next_stranded = time.monotonic() + wait
        return report

    def run_once(self, block_ms: int | None = None) -> TaskOutcome | None:
        """Take one task (reclaimed work first) and settle it; None when there was nothing to do."""
        task = self._next_task(self.block_ms if block_ms is None else block_ms)
        if task is None:
            return None
        started = time.monotonic()
        self._current = task
        try:
            self.heartbeat.publish(task.request_id, task.entry_id)
            # Every line logged about this task names its request and, when it came with one, its trace.
            with bound_request(task.request_id), attached_trace(traced_task_carrier(task)):
                outcome = self._process(task)
        finally:
            self._current = None
            self.heartbeat.current = self.heartbeat.current_entry = None
        outcome = replace(outcome, seconds=time.monotonic() - started)
        count_outcome(outcome)
        with bound_request(task.request_id), attached_trace(traced_task_carrier(task)):
            log.info(
                "worker %s: request %s (P%d, delivery %d) %s%s",
                self.worker_id,
                task.request_id,
                int(task.priority),
                task.delivery_count,
                outcome.action,
                f": {outcome.detail}" if outcome.detail else "",
            )
        return outcome

    def _next_task(self, block_ms: int) -> Task | None:
        now = time.monotonic()
        if not self._reclaimed and now >= self._next_reclaim:
            tasks = self.queue.reclaim(
                self.worker_id, int(self.visibility_timeout_s * 1000), count=self.reclaim_batch
            )
            self._reclaimed.extend(tasks)
            # A full batch may mean more are waiting: look again right after these.
            self._next_reclaim = now if len(tasks) >= self.reclaim_batch else now + self._reclaim_every_s
        if self._reclaimed:
            return self._reclaimed.popleft()
        until_reclaim_ms = max(0, int((self._next_reclaim - now) * 1000))
        return self.queue.dequeue(self.worker_id, block_ms=min(block_ms, until_reclaim_ms))

    def _extend_lease(self) -> None:
        """Keep every task this worker holds from looking abandoned: the one in progress, reclaimed
        ones and ones a blocking read delivered together, waiting their turn (whose delivery counts
        would otherwise climb towards the dead-letter limit each time another worker reclaimed them)."""
        held = [self._current, *list(self._reclaimed), *self.queue.buffered(self.worker_id)]
        for task in held:
            if task is not None and not self.queue.touch(task):
                log.warning(
                    "worker %s: lost the lease on %s (acked or reclaimed)", self.worker_id, task.entry_id
                )

    # ------------------------------------------------------------------ settling a task

    def _process(self, task: Task) -> TaskOutcome:
        try:
            record = self.store.get(task.request_id)
        except RequestNotFound:
            self.queue.dead_letter(task, "request not found in the store")
            return TaskOutcome(task, Action.DEAD_LETTERED, detail="unknown request")
        outcome = self._settle(task, record)
        return replace(outcome, agent=record.agent, intent=record.intent)

    def _settle(self, task: Task, record: RequestRecord) -> TaskOutcome:
        """Decide what to do with the stored request ``record`` of ``task``, and do it."""
        ownership: stranded.Ownership | None = None
        if record.status is Status.RUNNING:
            ownership = find_owner(
                self.instance, self.queue.client, record, prefix=self.queue.prefix, me=self.worker_id
            )
            owned = self._owned_elsewhere(task, ownership)
            if owned is not None:
                return owned

        # Only now: an entry circulating while a live owner runs its request is no poison.
        if record.status in (Status.QUEUED, Status.RUNNING) and task.delivery_count > self.max_deliveries:
            return self._dead_letter(task, record)

        if record.status is Status.RUNNING and ownership is not None:
            taken = self._take_over(task, record, ownership)
            if taken is not None:
                return taken
            record = self.store.get(task.request_id)
        elif record.status is Status.QUEUED and task.delivery_count > 1:
            # A redelivery: the previous holder may have died after creating its run but before the
            # run claimed the request; that run would show as running in the UI forever.
            self._fail_dead_runs(record)

        if record.status is not Status.QUEUED:
            self.queue.ack(task)
            return TaskOutcome(
                task, Action.SKIPPED, status=record.status, detail=f"request is {record.status}"
            )
        return self._execute(task, record)

    def _owned_elsewhere(self, task: Task, ownership: stranded.Ownership) -> TaskOutcome | None:
        """The outcome when a live owner (or Dagster's own launcher) runs the request; else None."""
        run_id, status = ownership.run_id, Status.RUNNING
        if ownership.owner is Owner.DAGSTER:
            # A standard-lane run (Dagster's launcher and run monitoring own it): not ours to judge.
            self.queue.ack(task)
            return TaskOutcome(task, Action.SKIPPED, run_id, status, "running in Dagster")
        if ownership.owner is Owner.NOBODY:
            return None  # take over
        owner, info = ownership.worker, ownership.worker_info or {}
        if task.delivery_count > 1 and info.get("current_entry") == task.entry_id and owner is not None:
            # Reclaimed from a worker that is alive and on it after all (its lease extension was
            # late, Redis blipped): hand the entry back so that its acknowledgement still counts.
            self.queue.give_back(task, owner)
            return TaskOutcome(task, Action.RETURNED, run_id, status, f"owner {owner} alive")
        # A stray duplicate entry while the owner runs the request under its own entry.
        self.queue.ack(task)
        return TaskOutcome(task, Action.SKIPPED, run_id, status, f"running on {owner}")

    def _take_over(
        self, task: Task, record: RequestRecord, ownership: stranded.Ownership
    ) -> TaskOutcome | None:
        """A request ``running`` with nobody alive behind it: fail the stale run, apply the recovery rule.

        Returns the outcome when the task is settled here, or None when the request was put back in
        ``queued`` and should run now (its delay has been served while it was waiting to be reclaimed).
        """
        rescue = recover_request(
            self.store,
            self.instance,
            self.queue.client,
            record,
            ownership,
            prefix=self.queue.prefix,
            max_attempts=self.max_attempts,
            actor=self.actor,
            me=self.worker_id,
            immediate=True,
        )
        if rescue.outcome.status is Status.QUEUED:
            return None
        self.queue.ack(task)
        action = Action.FAILED if rescue.outcome.status is Status.FAILED else Action.SKIPPED
        return TaskOutcome(task, action, status=rescue.outcome.status, detail=rescue.reason)

    def _fail_dead_runs(self, record: RequestRecord) -> list[str]:
        """Mark FAILED the request's unfinished fast-lane runs whose worker is gone (``lanes.stranded``)."""
        return fail_dead_runs(
            self.instance,
            self.queue.client,
            record.id,
            prefix=self.queue.prefix,
            rescuer=self.actor,
            me=self.worker_id,
        )

    def _dead_letter(self, task: Task, record: RequestRecord) -> TaskOutcome:
        reason = (
            f"dead-lettered: delivered {task.delivery_count} times (max {self.max_deliveries}) "
            "without being settled; every worker that took it died or gave up"
        )
        self._fail_dead_runs(record)
        try:
            record = self.store.transition(
                record.id,
                Status.FAILED,
                actor=self.actor,
                reason=reason,
                expected=(Status.QUEUED, Status.RUNNING),
                last_error=reason,
            )
        except IllegalTransition:  # StaleTransition included: someone settled it meanwhile
            record = self.store.get(record.id)
        self.queue.dead_letter(task, reason)
        return TaskOutcome(task, Action.DEAD_LETTERED, status=record.status, detail=reason)

    # ------------------------------------------------------------------ running a job

    def job_name_for(self, record: RequestRecord) -> str | None:
        """The loaded Dagster job that runs ``record`` (:func:`eas_pipelines.routing.job_for`)."""
        return job_for(record, self.jobs)

    def _execute(self, task: Task, record: RequestRecord) -> TaskOutcome:
        job_name = self.job_name_for(record)
        if job_name is None:
            record, reason = fail_unroutable(self.store, record, actor=self.actor)
            self.queue.ack(task)
            return TaskOutcome(task, Action.FAILED, status=record.status, detail=reason)

        run_id = str(uuid.uuid4())
        tags = {**run_tags_for(record, lane=FAST_LANE), TAG_WORKER: self.worker_id}
        metrics.observe_run_start(metrics.FAST_LANE, record.agent, time.time() - task.enqueued_at)
        # The run's span, in the request's trace: the steps' spans (agents.common) and their connector
        # calls nest in it, since execute_in_process runs the ops in this thread.
        with run_span(
            job_name,
            run_id=run_id,
            trace_context=traced_task_carrier(task) or record.trace_context,
            attributes={
                ATTR_REQUEST_ID: record.id,
                ATTR_AGENT: record.agent,
                ATTR_LANE: FAST_LANE,
                ATTR_ATTEMPT: record.attempts + 1,
            },
        ) as span:
            result = self.warm.job(self.jobs[job_name]).execute_in_process(
                run_config=self.run_config(record.id),
                instance=self.instance,
                tags=tags,
                run_id=run_id,
                raise_on_error=False,
            )
            mark_outcome(span, result.success)
        if result.success:
            self.queue.ack(task)
            after = self.store.get(record.id)
            return TaskOutcome(task, Action.EXECUTED, run_id, after.status)

        reason = run_failure_reason(result)
        recovery = apply_recovery(
            self.store, record.id, reason, self.max_attempts, run_id=run_id, actor=self.actor
        )
        if run_id not in recovery.record.run_ids:
            # The run never claimed the request (it failed before its first op committed, or lost the
            # claim to another delivery). If the request is still queued nobody else will run it:
            # keep the entry so it is delivered again; otherwise its owner settles it.
            if recovery.status is Status.QUEUED:
                return TaskOutcome(task, Action.DEFERRED, run_id, recovery.status, reason)
            self.queue.ack(task)
            return TaskOutcome(task, Action.SKIPPED, run_id, recovery.status, reason)
        delay = retry_delay(recovery, base_s=self.backoff_base_s, cap_s=self.backoff_cap_s)
        audit_outcome(
            self.store,
            recovery,
            run_id=run_id,
            reason=reason,
            max_attempts=self.max_attempts,
            delay_s=delay,
            recovered_by=self.actor,
        )
        if recovery.status is Status.QUEUED:
            enqueue_retry(self.queue, recovery, delay)
            self.queue.ack(task)
            return TaskOutcome(
                task, Action.RETRY_QUEUED, run_id, recovery.status, f"{reason} (retry in {delay:.1f}s)"
            )
        self.queue.ack(task)
        action = Action.FAILED if recovery.status is Status.FAILED else Action.SKIPPED
        return TaskOutcome(task, action, run_id, recovery.status, reason)
