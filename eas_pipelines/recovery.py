"""The one recovery rule for a request whose run failed or was lost: retry it, or fail it for good.

Three callers apply it, and must agree: the run-failure sensor (standard-lane runs, and any run it
sees in the Dagster instance), the fast-lane worker (its in-process runs, which no sensor sees when
the Dagster daemon is not running, and the runs of a worker that died) and the stranded-request pass
(:mod:`eas_pipelines.lanes.stranded`: requests left ``running`` by a run whose owner is gone, found
from the store rather than from a queue entry or a failure event). Several may see the same failure;
the rule is therefore safe to apply twice:

- it acts only on a request still in the status the caller saw (``running``; compare-and-set: of two
  callers one moves it, the other finds it moved and reports where it is now);
- given the failed run's id, it acts only if that run is the request's latest: a failure of an older
  run (a dead worker's stale run, marked failed after the request moved on) or of a duplicate
  delivery that lost the start race never touches the request a newer run owns.

Failed runs are counted from the request's own history: every re-queue by :data:`RECOVERY_ACTOR`
is one failed run, and the failure being handled is one more. ``attempts`` (runs started) is not
used, because a run that ended to wait for an approval and the run that resumed after it are two
starts but no failure.

What follows the rule is shared too, so that every caller leaves the same trail: :func:`audit_outcome`
writes ``retry.scheduled`` / ``retry.exhausted`` (by the caller whose call moved the request, so once)
and :func:`enqueue_retry` puts a fast-lane retry back on the Redis queue after :func:`backoff_delay`,
keyed by ``(request_id, attempts)`` so that two callers enqueueing the same retry produce one entry.
A standard-lane retry needs no enqueue: the standard-lane sensor finds it in the store and holds it
back until the same delay (recomputed by :func:`retry_due_at`) is over.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import dagster as dg

from eas_pipelines.settings import EASSettings
from eas_pipelines.store import Lane, RequestRecord, RequestStore, StaleTransition, Status

RECOVERY_ACTOR = "eas/recovery"
"""The actor of every re-queue the rule makes; the retry count is read back from it."""
BACKOFF_BASE_S: float = EASSettings.model_fields["retry_backoff_seconds"].default
"""``EAS_RETRY_BACKOFF_SECONDS``' default: callers pass the configured value."""
BACKOFF_CAP_S = 300.0


class RetryQueue(Protocol):
    """What :func:`enqueue_retry` needs of the fast lane's queue (:class:`~eas_pipelines.lanes.FastQueue`).

    A protocol rather than an import: the queue library sits above this rule (its stranded-request
    pass applies it), and layers only point down.
    """

    def enqueue(self, request_id: str, priority: int, attempt: int, *, delay_s: float = 0.0) -> str: ...


@dataclass(frozen=True)
class Recovery:
    """What :func:`apply_recovery` found or did.

    ``changed`` is True when this call moved the request (to queued or failed); False when it was
    already elsewhere (another caller recovered it first, the run was not its latest, ...).
    ``retries`` is how many times the request has been re-queued by the rule, this call included.
    """

    status: Status
    record: RequestRecord
    changed: bool
    retries: int = 0

    @property
    def retry(self) -> bool:
        """The request is queued again and must be (re-)enqueued on its lane."""
        return self.status is Status.QUEUED


def retries_so_far(store: RequestStore, request_id: str) -> int:
    """How many times the recovery rule has re-queued this request (from its history)."""
    return sum(
        1
        for step in store.history(request_id)
        if step.actor == RECOVERY_ACTOR and step.to_status is Status.QUEUED
    )


def backoff_delay(
    retries: int,
    *,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
    rng: random.Random | None = None,
    key: str | None = None,
) -> float:
    """Seconds to wait before retry number ``retries`` (1, 2, ...): exponential, capped, "equal jitter".

    Half the exponential step is kept and half is random, so retries of many requests that failed
    together (a connector outage) spread out instead of arriving as one burst, while each still
    waits at least half its step. With ``key`` (the request id) the random half is drawn from a hash
    of ``(key, retries)`` instead: every caller computes the same delay for the same retry, which is
    what lets the standard-lane sensor recompute when a retry is due (:func:`retry_due_at`) and two
    callers enqueueing one retry agree. The cap never shortens the first step below ``base_s`` (an
    operator who configures a one-hour backoff means it).
    """
    step = min(max(cap_s, base_s), base_s * (2 ** max(0, retries - 1)))
    if key is not None:
        digest = hashlib.sha256(f"{key}:{retries}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / 2**64
    else:
        fraction = (rng or random).random()
    return step / 2 + fraction * (step / 2)


def retry_due_at(
    store: RequestStore,
    record: RequestRecord,
    *,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> datetime | None:
    """When a re-queued request may run again; ``None`` for work that is not a retry of the rule.

    Only requests carrying ``last_error`` (set by the rule, cleared when an approval resumes a
    request) can be retries, so the history is read for those alone.
    """
    if record.last_error is None or record.queued_at is None:
        return None
    retries = retries_so_far(store, record.id)
    if retries == 0:
        return None
    return record.queued_at + timedelta(
        seconds=backoff_delay(retries, base_s=base_s, cap_s=cap_s, key=record.id)
    )


def failure_reason(step_failures: Iterable[dg.DagsterEvent], fallback: str) -> str:
    """What an operator needs to read in ``last_error`` about a failed run, one line per failed step.

    Dagster wraps an op's exception ("Error occurred while executing op ..."): the innermost cause is
    the useful part. ``fallback`` (the run failure's own message) is used when no step failed (a
    launch error, a run marked failed from outside).
    """
    reasons = []
    for event in step_failures:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message if error is not None else event.message or "step failed").strip()
        reasons.append(f"{event.step_key}: {message}")
    return "; ".join(reasons) if reasons else (fallback.strip() or "run failed")


def apply_recovery(
    store: RequestStore,
    request_id: str,
    reason: str,
    max_attempts: int,
    *,
    run_id: str | None = None,
    actor: str = RECOVERY_ACTOR,
    expected: Status = Status.RUNNING,
) -> Recovery:
    """Apply the recovery rule to ``request_id`` after a failed run; see the module docstring.

    ``actor`` other than :data:`RECOVERY_ACTOR` is recorded on a final ``failed`` only: re-queues
    always carry :data:`RECOVERY_ACTOR`, since they are what later calls count. ``expected`` is
    ``running`` except for a run that failed before claiming its request, whose caller has already
    failed the request (``expected=failed``): the rule then only decides whether it is retried.
    """
    record = store.get(request_id)
    retries = retries_so_far(store, request_id)
    if record.status is not expected:
        return Recovery(record.status, record, changed=False, retries=retries)
    if expected is Status.RUNNING and run_id is not None and record.run_ids and record.run_ids[-1] != run_id:
        return Recovery(record.status, record, changed=False, retries=retries)
    failed_runs = retries + 1
    if failed_runs < max_attempts:
        target, who = Status.QUEUED, RECOVERY_ACTOR
        why = f"retry {failed_runs} of {max_attempts - 1} after a failed run: {reason}"
    else:
        target, who = Status.FAILED, actor
        why = f"failed after {failed_runs} failed run(s) (max attempts {max_attempts}): {reason}"
    if target is record.status:  # already failed by the caller: nothing left to move
        return Recovery(record.status, record, changed=False, retries=retries)
    try:
        updated = store.transition(
            request_id, target, actor=who, reason=why, expected=expected, last_error=reason
        )
    except StaleTransition:
        current = store.get(request_id)
        return Recovery(current.status, current, changed=False, retries=retries_so_far(store, request_id))
    return Recovery(
        updated.status, updated, changed=True, retries=failed_runs if target is Status.QUEUED else retries
    )


def recover(
    store: RequestStore,
    request_id: str,
    reason: str,
    max_attempts: int,
    *,
    run_id: str | None = None,
    actor: str = RECOVERY_ACTOR,
) -> Status:
    """The request's status after applying the recovery rule (queued: retry it; failed: given up)."""
    return apply_recovery(store, request_id, reason, max_attempts, run_id=run_id, actor=actor).status


def audit_outcome(
    store: RequestStore,
    outcome: Recovery,
    *,
    run_id: str | None,
    reason: str,
    max_attempts: int,
    delay_s: float,
    **detail: object,
) -> None:
    """The audit entry that says what the rule decided: ``retry.scheduled`` or ``retry.exhausted``.

    Written only by the caller whose call moved the request (``outcome.changed``), so that a
    failure seen by two callers leaves one entry. ``detail`` adds the caller's own facts (the dead
    worker, the run it marked failed).
    """
    if not outcome.changed:
        return
    record = outcome.record
    if outcome.status is Status.QUEUED:
        not_before = (record.queued_at or record.updated_at) + timedelta(seconds=delay_s)
        store.audit(
            record.id,
            RECOVERY_ACTOR,
            "retry.scheduled",
            {
                "run_id": run_id,
                "failures": outcome.retries,
                "max_attempts": max_attempts,
                "reason": reason,
                "delay_s": delay_s,
                "not_before": not_before.isoformat(),
                "lane": record.lane.value if record.lane else None,
                **detail,
            },
        )
    elif outcome.status is Status.FAILED:
        store.audit(
            record.id,
            RECOVERY_ACTOR,
            "retry.exhausted",
            {
                "run_id": run_id,
                "failures": outcome.retries + 1,
                "max_attempts": max_attempts,
                "reason": reason,
                **detail,
            },
        )


def retry_delay(outcome: Recovery, *, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """The backoff of the retry ``outcome`` scheduled (0 when it is no retry)."""
    if not outcome.retry:
        return 0.0
    return backoff_delay(outcome.retries, base_s=base_s, cap_s=cap_s, key=outcome.record.id)


def enqueue_retry(queue: RetryQueue | None, outcome: Recovery, delay_s: float) -> str | None:
    """Put a fast-lane retry back on the Redis queue, ``delay_s`` from now; returns the entry id.

    Keyed by ``(request_id, attempts)``: every caller that saw the same retry enqueues it (whether or
    not its own call moved the request, so that a caller dying between the two steps loses nothing)
    and the queue keeps one entry. Nothing for a standard-lane request (its sensor reads the store)
    or a request that is not queued any more. Redis errors propagate: the caller decides whether a
    lost enqueue is covered (the standard lane's fallback) or must be retried.
    """
    record = outcome.record
    if queue is None or not outcome.retry or record.lane is not Lane.FAST:
        return None
    priority = int(record.effective_priority)
    return queue.enqueue(record.id, priority, record.attempts, delay_s=delay_s)
