"""The one recovery rule for a request whose run failed: retry it while attempts remain, else fail it.

Two callers apply it, and must agree: the run-failure sensor (standard-lane runs, and any run it sees
in the Dagster instance) and the fast-lane worker (its in-process runs, which no sensor sees when the
Dagster daemon is not running, and the runs of a worker that died). Both may see the same failure;
the rule is therefore safe to apply twice:

- it acts only on a request still ``running`` (compare-and-set from ``running``: of two callers one
  moves it, the other finds it moved and reports where it is now);
- given the failed run's id, it acts only if that run is the request's latest: a failure of an older
  run (a dead worker's stale run, marked failed after the request moved on) or of a duplicate
  delivery that lost the start race never touches the request a newer run owns.

Failed runs are counted from the request's own history: every re-queue by :data:`RECOVERY_ACTOR`
is one failed run, and the failure being handled is one more. ``attempts`` (runs started) is not
used, because a run that ended to wait for an approval and the run that resumed after it are two
starts but no failure. A retried request is ``queued`` again; putting it back on its lane (with
:func:`backoff_delay`) is the caller's job, keyed by ``(request_id, attempts)`` so that two callers
enqueueing the same retry produce one fast-lane entry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from eas_pipelines.store import RequestRecord, RequestStore, StaleTransition, Status

RECOVERY_ACTOR = "eas/recovery"
"""The actor of every re-queue the rule makes; the retry count is read back from it."""
BACKOFF_BASE_S = 10.0  # EAS_RETRY_BACKOFF_SECONDS' default (WorkflowPolicyResource)
BACKOFF_CAP_S = 300.0


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
) -> float:
    """Seconds to wait before retry number ``retries`` (1, 2, ...): exponential, capped, "equal jitter".

    Half the exponential step is kept and half is random, so retries of many requests that failed
    together (a connector outage) spread out instead of arriving as one burst, while each still
    waits at least half its step.
    """
    step = min(cap_s, base_s * (2 ** max(0, retries - 1)))
    return step / 2 + (rng or random).uniform(0, step / 2)


def apply_recovery(
    store: RequestStore,
    request_id: str,
    reason: str,
    max_attempts: int,
    *,
    run_id: str | None = None,
    actor: str = RECOVERY_ACTOR,
) -> Recovery:
    """Apply the recovery rule to ``request_id`` after a failed run; see the module docstring.

    ``actor`` other than :data:`RECOVERY_ACTOR` is recorded on a final ``failed`` only: re-queues
    always carry :data:`RECOVERY_ACTOR`, since they are what later calls count.
    """
    record = store.get(request_id)
    retries = retries_so_far(store, request_id)
    if record.status is not Status.RUNNING:
        return Recovery(record.status, record, changed=False, retries=retries)
    if run_id is not None and record.run_ids and record.run_ids[-1] != run_id:
        return Recovery(record.status, record, changed=False, retries=retries)
    failed_runs = retries + 1
    if failed_runs < max_attempts:
        target, who = Status.QUEUED, RECOVERY_ACTOR
        why = f"retry {failed_runs} of {max_attempts - 1} after a failed run: {reason}"
    else:
        target, who = Status.FAILED, actor
        why = f"failed after {failed_runs} failed run(s) (max attempts {max_attempts}): {reason}"
    try:
        updated = store.transition(
            request_id, target, actor=who, reason=why, expected=Status.RUNNING, last_error=reason
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
