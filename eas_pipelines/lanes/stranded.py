"""Requests stranded ``running``: their run's owner is gone and nothing else would ever notice.

A fast-lane worker runs its job in-process: no launcher or run monitor watches that run. If the
worker dies (SIGKILL, OOM, a vanished node) its queue entry is reclaimed by another worker, which
then finishes the request (:mod:`eas_pipelines.workers.worker`) — but only while the entry
exists. With a memory-only Redis (the embedded default) restarted under ``eas up``, or an entry
lost any other way, the request stays ``running`` and its Dagster run ``STARTED`` forever. This
module finds such requests from the store instead of the queue, and it is the one place that says
who owns a running request:

- :func:`find_owner`: Dagster (an unfinished run of the standard lane or its fallback: Dagster's
  launcher and run monitoring own it), a live worker (an unfinished fast-lane run whose worker's
  heartbeat key exists), or nobody (the run is missing or finished, or its worker's heartbeat
  expired);
- :func:`fail_dead_runs`: marks FAILED, with the reason, every unfinished fast-lane run of a request
  whose worker is gone, so that the UI shows the truth;
- :func:`recover_request`: both of the above, then the one recovery rule
  (:func:`eas_pipelines.recovery.apply_recovery`) and its audit entry;
- :func:`recover_stranded`: the pass. Every ``running`` request unchanged for a grace period (two
  heartbeat TTLs by default: a request claimed a moment ago is never judged) whose owner is gone
  is recovered, and a fast-lane retry goes back on the queue after its backoff. It also puts back
  on the queue fast-lane requests queued again (a retry, a resumed approval) whose entry was lost
  with Redis' memory (the gateway's reconciler does that for first attempts only).

The pass runs at every worker's start-up, every ~30 s inside each worker's loop (so it works without
the Dagster daemon) and as ``stranded_request_sensor``. Several passes at once are safe: a pass takes
a short Redis lock per request so that concurrent passes do not mark one run failed twice, and
correctness does not depend on it anyway, since every store change is a compare-and-set and the
retry's enqueue is keyed by ``(request_id, attempts)``.

One trap is avoided on purpose: a worker's heartbeat key proves it alive, but its absence proves it
dead only if Redis has been up long enough for a live worker to have written its key again. Right
after a Redis restart every key is missing; the pass leaves fast-lane runs alone until Redis has
been up for one heartbeat TTL, and says how long to wait (:attr:`StrandedReport.retry_in_s`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import dagster as dg
import redis

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import TTL_BEATS, is_live, worker_info
from eas_pipelines.recovery import (
    BACKOFF_BASE_S,
    BACKOFF_CAP_S,
    Recovery,
    apply_recovery,
    audit_outcome,
    enqueue_retry,
    retry_delay,
    retry_due_at,
)
from eas_pipelines.runs import FAST_LANE, TAG_LANE, TAG_REQUEST_ID, TAG_WORKER
from eas_pipelines.store import Lane, RequestRecord, RequestStore, Status

log = logging.getLogger(__name__)

GRACE_TTLS = 2
"""The default grace period, in heartbeat TTLs: a request unchanged for less is never judged."""
PAGE = 200
MAX_PER_PASS = 1000

UNFINISHED_RUN_STATUSES: tuple[dg.DagsterRunStatus, ...] = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)

# KEYS: lock.  ARGV: holder.  Deletes the lock only if this pass still holds it.
_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Owner(StrEnum):
    """Who is responsible for finishing a ``running`` request."""

    DAGSTER = "dagster"  # an unfinished run Dagster launched: its launcher and run monitoring own it
    WORKER = "worker"  # an unfinished fast-lane run whose worker's heartbeat is alive
    NOBODY = "nobody"  # no run, a finished run, or a run whose worker is gone: stranded


@dataclass(frozen=True)
class Ownership:
    """What :func:`find_owner` found: who owns the request's latest run, and why nobody does."""

    owner: Owner
    run: dg.DagsterRun | None
    worker: str | None = None  # the fast-lane worker tagged on the run
    worker_info: dict[str, Any] | None = None  # its heartbeat document, while it is alive
    reason: str = ""  # why nobody owns it: what the request's history will say

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run is not None else None


def heartbeat_ttl_s(heartbeat_s: float) -> float:
    """How long a worker's heartbeat key outlives its last beat (see :mod:`.heartbeat`)."""
    return TTL_BEATS * float(heartbeat_s)


def default_grace_s(heartbeat_s: float) -> float:
    """Two heartbeat TTLs: a request claimed a moment ago, whose worker is alive, is never judged."""
    return GRACE_TTLS * heartbeat_ttl_s(heartbeat_s)


def find_owner(
    instance: dg.DagsterInstance,
    client: redis.Redis,
    record: RequestRecord,
    *,
    prefix: str,
    me: str | None = None,
) -> Ownership:
    """Who owns ``record``'s latest run: Dagster, a live worker, or nobody (with the reason).

    ``me``: the id of the calling worker, which is not running any job while it asks (it asks
    between tasks), so a run tagged with its own id is as dead as one of a vanished worker.
    """
    run_id = record.run_ids[-1] if record.run_ids else None
    run = instance.get_run_by_id(run_id) if run_id is not None else None
    if run is None:
        why = f"its run {run_id} is unknown to this Dagster instance" if run_id else "it has no run"
        return Ownership(Owner.NOBODY, None, reason=why)
    worker = run.tags.get(TAG_WORKER)
    if run.is_finished:
        return Ownership(
            Owner.NOBODY, run, worker, reason=f"run {run.run_id} ended {run.status.value} without settling it"
        )
    if run.tags.get(TAG_LANE) != FAST_LANE or worker is None:
        return Ownership(Owner.DAGSTER, run)
    if worker == me:
        return Ownership(Owner.NOBODY, run, worker, reason=f"worker {worker} is no longer running it")
    info = worker_info(client, worker, prefix)
    if info is not None:
        return Ownership(Owner.WORKER, run, worker, info)
    return Ownership(Owner.NOBODY, run, worker, reason=f"worker {worker} gone (no heartbeat)")


def fail_dead_runs(
    instance: dg.DagsterInstance,
    client: redis.Redis,
    request_id: str,
    *,
    prefix: str,
    rescuer: str,
    me: str | None = None,
) -> list[str]:
    """Mark FAILED every unfinished fast-lane run of the request whose worker is gone; their ids.

    In-process runs have no launcher or monitor to notice that their process vanished, so without
    this a killed worker's run would show as STARTED in the UI forever. ``rescuer`` is named in the
    run's failure message; ``me`` as in :func:`find_owner`.
    """
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            tags={TAG_REQUEST_ID: request_id, TAG_LANE: FAST_LANE}, statuses=list(UNFINISHED_RUN_STATUSES)
        )
    )
    failed: list[str] = []
    for run in runs:
        owner = run.tags.get(TAG_WORKER)
        if owner is None or (owner != me and is_live(client, owner, prefix)):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"EAS fast lane: worker {owner} stopped heartbeating during this run; "
                f"request {request_id} was recovered by {rescuer}"
            ),
        )
        failed.append(run.run_id)
        log.warning("%s: marked run %s of dead worker %s failed", rescuer, run.run_id, owner)
    return failed


@dataclass(frozen=True)
class Rescue:
    """What :func:`recover_request` did: the rule's outcome, the reason it recorded, runs it failed."""

    outcome: Recovery
    reason: str
    failed_runs: tuple[str, ...]
    delay_s: float


def recover_request(
    store: RequestStore,
    instance: dg.DagsterInstance,
    client: redis.Redis,
    record: RequestRecord,
    ownership: Ownership,
    *,
    prefix: str,
    max_attempts: int,
    actor: str,
    me: str | None = None,
    backoff_base_s: float = BACKOFF_BASE_S,
    backoff_cap_s: float = BACKOFF_CAP_S,
    immediate: bool = False,
) -> Rescue:
    """Recover a ``running`` request nobody owns: fail its dead runs, apply the rule, audit it.

    ``immediate``: the caller runs the retry at once (a worker that reclaimed the request's entry
    has served its delay while the entry waited to be reclaimed), so no backoff is scheduled.
    The caller enqueues a fast-lane retry otherwise (:func:`~eas_pipelines.recovery.enqueue_retry`
    with :attr:`Rescue.delay_s`).
    """
    failed = fail_dead_runs(instance, client, record.id, prefix=prefix, rescuer=actor, me=me)
    reason = ownership.reason or "its run's owner is gone"
    run = ownership.run
    if run is not None and not run.is_finished:
        done = "marked failed" if run.run_id in failed else "already ended"
        reason = f"{reason}; run {run.run_id} {done}"
    outcome = apply_recovery(
        store,
        record.id,
        reason,
        max_attempts,
        run_id=record.run_ids[-1] if record.run_ids else None,
        actor=actor,
    )
    delay = 0.0 if immediate else retry_delay(outcome, base_s=backoff_base_s, cap_s=backoff_cap_s)
    audit_outcome(
        store,
        outcome,
        run_id=ownership.run_id,
        reason=reason,
        max_attempts=max_attempts,
        delay_s=delay,
        worker=ownership.worker,
        runs_marked_failed=failed,
        recovered_by=actor,
    )
    return Rescue(outcome, reason, tuple(failed), delay)


@dataclass
class StrandedReport:
    """What one pass found and did, by request id."""

    requeued: list[str] = field(default_factory=list)  # back on their lane, for a retry
    failed: list[str] = field(default_factory=list)  # attempts exhausted: failed for good
    failed_runs: list[str] = field(default_factory=list)  # Dagster runs marked FAILED
    owned: list[str] = field(default_factory=list)  # running under a live owner: left alone
    settling: list[str] = field(default_factory=list)  # run ended within the grace: its owner settles it
    deferred: list[str] = field(default_factory=list)  # worker absent, Redis too young to tell
    busy: list[str] = field(default_factory=list)  # another pass held the request's lock
    reenqueued: list[str] = field(default_factory=list)  # queued retries whose lost entry was put back
    retry_in_s: float | None = None  # run again this soon: deferred or young requests can be judged then

    @property
    def recovered(self) -> list[str]:
        """Requests this pass moved out of ``running`` (re-queued or failed)."""
        return self.requeued + self.failed

    def summary(self) -> str:
        parts = [
            f"{len(self.requeued)} re-queued",
            f"{len(self.failed)} failed",
            f"{len(self.failed_runs)} run(s) marked failed",
            f"{len(self.owned)} owned",
        ]
        if self.settling:
            parts.append(f"{len(self.settling)} settling")
        if self.deferred:
            parts.append(f"{len(self.deferred)} deferred (Redis restarted)")
        if self.busy:
            parts.append(f"{len(self.busy)} busy")
        if self.reenqueued:
            parts.append(f"{len(self.reenqueued)} lost entries re-enqueued")
        return "stranded requests: " + ", ".join(parts)


def redis_uptime_s(client: redis.Redis) -> float | None:
    """Seconds since the Redis server started; None when it will not say (INFO disabled)."""
    try:
        return float(client.info("server")["uptime_in_seconds"])
    except (redis.ResponseError, KeyError, TypeError, ValueError):
        return None


def recover_stranded(
    store: RequestStore,
    instance: dg.DagsterInstance,
    queue: FastQueue,
    *,
    heartbeat_s: float,
    max_attempts: int,
    actor: str,
    grace_s: float | None = None,
    me: str | None = None,
    backoff_base_s: float = BACKOFF_BASE_S,
    backoff_cap_s: float = BACKOFF_CAP_S,
    max_requests: int = MAX_PER_PASS,
    uptime: Callable[[redis.Redis], float | None] = redis_uptime_s,
) -> StrandedReport:
    """One pass: recover every request stranded ``running``, re-enqueue lost fast-lane retries.

    ``heartbeat_s`` is ``EAS_WORKER_HEARTBEAT_SECONDS``; ``grace_s`` (at least two heartbeat TTLs,
    the default) is how long a request must have been ``running`` unchanged before it is judged,
    and how long ago a run must have ended before this pass settles it in place of the worker or
    failure sensor that normally would (with the run's real failure reason). ``actor`` names the
    pass in history, audit and run failure messages; ``me`` is the calling worker's id, if any.
    """
    ttl = heartbeat_ttl_s(heartbeat_s)
    grace = default_grace_s(heartbeat_s) if grace_s is None else float(grace_s)
    if grace < GRACE_TTLS * ttl:
        raise ValueError(
            f"grace_s ({grace}) must be at least {GRACE_TTLS} heartbeat TTLs ({GRACE_TTLS * ttl})"
        )
    client, prefix = queue.client, queue.prefix
    redis_age = uptime(client)
    too_young_for = max(0.0, ttl - redis_age) if redis_age is not None else 0.0
    report = StrandedReport()
    after: tuple[datetime, str] | None = None
    seen = 0
    while seen < max_requests:
        page = store.stale_running(
            timedelta(seconds=grace), limit=min(PAGE, max_requests - seen), after=after
        )
        if not page:
            break
        seen += len(page)
        after = (page[-1].updated_at, page[-1].id)
        for record in page:
            ownership = find_owner(instance, client, record, prefix=prefix, me=me)
            if ownership.owner is not Owner.NOBODY:
                report.owned.append(record.id)
                continue
            run = ownership.run
            if run is not None and _ended_within(instance, run, grace):
                report.settling.append(record.id)
                continue
            if too_young_for > 0 and run is not None and not run.is_finished and ownership.worker != me:
                report.deferred.append(record.id)  # its worker may be alive and not have re-beaten yet
                continue
            _recover_one(
                store,
                instance,
                queue,
                record,
                ownership,
                report,
                max_attempts=max_attempts,
                actor=actor,
                me=me,
                lock_ms=int(max(grace, 30.0) * 1000),
                backoff_base_s=backoff_base_s,
                backoff_cap_s=backoff_cap_s,
            )
        if len(page) < PAGE:
            break
    _reenqueue_lost_retries(store, queue, report, grace, backoff_base_s, backoff_cap_s, max_requests)
    if report.deferred:
        report.retry_in_s = too_young_for
    due = store.seconds_until_stale(timedelta(seconds=grace))
    if due is not None:
        # Come back when the youngest running request can be judged, but no more often than a
        # heartbeat TTL: under steady load some request always is about to cross the grace.
        due = max(due, ttl)
        report.retry_in_s = due if report.retry_in_s is None else min(report.retry_in_s, due)
    if report.recovered or report.reenqueued or report.deferred:
        log.info("%s: %s", actor, report.summary())
    return report


def _ended_within(instance: dg.DagsterInstance, run: dg.DagsterRun, grace_s: float) -> bool:
    """Whether ``run`` finished less than ``grace_s`` ago (its worker or the failure sensor is on it)."""
    if not run.is_finished:
        return False
    record = instance.get_run_record_by_id(run.run_id)
    if record is None:
        return False
    ended = record.end_time if record.end_time is not None else record.update_timestamp.timestamp()
    return time.time() - ended < grace_s


def _recover_one(
    store: RequestStore,
    instance: dg.DagsterInstance,
    queue: FastQueue,
    record: RequestRecord,
    ownership: Ownership,
    report: StrandedReport,
    *,
    max_attempts: int,
    actor: str,
    me: str | None,
    lock_ms: int,
    backoff_base_s: float,
    backoff_cap_s: float,
) -> None:
    client = queue.client
    lock = f"{queue.prefix}stranded:{record.id}"
    holder = f"{actor}:{time.monotonic_ns()}:{id(report)}"
    if not client.set(lock, holder, nx=True, px=lock_ms):
        report.busy.append(record.id)
        return
    try:
        current = store.get(record.id)
        if current.status is not Status.RUNNING or current.run_ids != record.run_ids:
            return  # moved on since the page was read (settled, or taken over by a worker)
        rescue = recover_request(
            store,
            instance,
            client,
            current,
            ownership,
            prefix=queue.prefix,
            max_attempts=max_attempts,
            actor=actor,
            me=me,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
        )
        report.failed_runs.extend(rescue.failed_runs)
        enqueue_retry(queue, rescue.outcome, rescue.delay_s)
        if rescue.outcome.changed:
            (report.requeued if rescue.outcome.retry else report.failed).append(record.id)
            log.warning("%s: request %s %s: %s", actor, record.id, rescue.outcome.status, rescue.reason)
    finally:
        client.eval(_UNLOCK_LUA, 1, lock, holder)


def _reenqueue_lost_retries(
    store: RequestStore,
    queue: FastQueue,
    report: StrandedReport,
    grace_s: float,
    backoff_base_s: float,
    backoff_cap_s: float,
    max_requests: int,
) -> None:
    """Put back on the queue fast-lane requests queued again (attempts > 0) whose entry was lost.

    A retry's entry (and a resumed approval's) lives only in Redis: a memory-only Redis that
    restarted has lost it, and the request would stay ``queued`` while workers are alive (the
    standard lane only takes fast-lane work when none is). The enqueue is keyed by
    ``(request_id, attempts)``, as every enqueue of that attempt was, so an entry that still exists
    (or was already taken by a worker) is not duplicated. First attempts are the gateway
    reconciler's (same rule, ``attempts == 0``).
    """
    now = datetime.now(UTC)
    settled = now - timedelta(seconds=grace_s)
    after: tuple[datetime, str] | None = None
    seen = 0
    while seen < max_requests:
        page = store.queued_for_lane(Lane.FAST, after=after, limit=min(PAGE, max_requests - seen))
        if not page:
            return
        seen += len(page)
        after = page[-1].cursor
        for record in page:
            if record.attempts == 0 or record.queued_at is None or record.queued_at > settled:
                continue
            if queue.client.exists(queue.dedup_key(record.id, record.attempts)):
                continue
            due = retry_due_at(store, record, base_s=backoff_base_s, cap_s=backoff_cap_s)
            delay = max(0.0, (due - now).total_seconds()) if due is not None else 0.0
            priority = int(record.effective_priority)
            queue.enqueue(record.id, priority, record.attempts, delay_s=delay)
            report.reenqueued.append(record.id)
        if len(page) < PAGE or page[-1].queued_at is None or page[-1].queued_at > settled:
            return
