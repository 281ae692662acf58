"""Recovery of requests whose run failed: retry with backoff, or fail for good.

A run fails when an op keeps failing after its own retries (a connector down, its circuit open)
or when the run never got going (a launch error, a crashed run worker). The request is re-queued
until it has failed ``max_attempts`` runs, then ends ``failed`` with the failure's reason.

Runs that do not own their request are left alone: a duplicate delivery (tagged by
``start_request``), or a run whose request has moved on (another run claimed it, an operator
cancelled it). Everything this sensor does is a store transition, so it is in the request's
history and audit log with actor ``eas/recovery``. A request failed for good whose workflow had
completed compensable steps gets a run of the recovery agent's saga job, which undoes them
(:mod:`eas_pipelines.agents.recovery.failed_runs`).
"""

import contextlib
from dataclasses import dataclass, replace

import dagster as dg
import redis

from eas_pipelines.agents import AGENT_JOBS
from eas_pipelines.agents.recovery.failed_runs import recovery_saga_compensation, saga_run_request
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.recovery import (
    RECOVERY_ACTOR,
    apply_recovery,
    audit_outcome,
    enqueue_retry,
    failure_reason,
    retry_delay,
)
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.runs import TAG_DUPLICATE, TAG_LANE, TAG_REQUEST_ID
from eas_pipelines.store import Lane, RequestNotFound, RequestStore, StaleTransition, Status

AGENT_JOB_NAMES = frozenset(job.name for job in AGENT_JOBS)


@dataclass(frozen=True)
class Recovery:
    """What the sensor did with a failed run's request."""

    outcome: str  # "requeued", "failed" or "ignored"
    detail: str
    delay_s: float = 0.0


def run_failure_reason(context: dg.RunFailureSensorContext) -> str:
    """The failed steps' error messages, else the run failure's own message (worded as the worker's)."""
    return failure_reason(context.get_step_failure_events(), context.failure_event.message or "run failed")


def recover(
    requests: RequestStore,
    request_id: str,
    run_id: str,
    reason: str,
    policy: WorkflowPolicyResource,
    fast_lane: FastLaneResource | None = None,
    *,
    lane_tag: str | None = None,
) -> Recovery:
    """Re-queue or fail the request of failed run ``run_id`` (a no-op for runs that do not own it).

    The rule itself is :func:`eas_pipelines.recovery.apply_recovery` (compare-and-set from
    ``running``, only for the request's latest run), so a fast-lane worker applying it to the same
    failure first leaves nothing to do here. Added here: a run that failed before claiming its
    request (launch error, crashed run worker) while the request is still ``queued`` — the
    standard lane has already used that run key and would never launch it again. Fast-lane runs
    are excluded from that case: their worker keeps the queue entry and delivers it again.
    """
    try:
        record = requests.get(request_id)
    except RequestNotFound:
        return Recovery("ignored", f"request {request_id} does not exist")
    never_started = (
        record.status is Status.QUEUED and run_id not in record.run_ids and lane_tag != Lane.FAST.value
    )
    if never_started:
        try:
            # Count the attempt and fail the request, so that the rule below can re-queue it.
            requests.transition(
                request_id,
                Status.FAILED,
                actor=RECOVERY_ACTOR,
                reason=f"run {run_id} failed before starting: {reason}",
                expected=Status.QUEUED,
                attempt=True,
                last_error=reason,
            )
        except StaleTransition as exc:
            return Recovery("ignored", f"request {request_id} changed meanwhile: {exc}")
        # The rule then only decides whether the request is retried; "failed" is already done here.
        outcome = apply_recovery(requests, request_id, reason, policy.max_attempts, expected=Status.FAILED)
        if outcome.status is Status.FAILED:
            outcome = replace(outcome, changed=True)  # failed for good, by the transition above
    else:
        outcome = apply_recovery(requests, request_id, reason, policy.max_attempts, run_id=run_id)
    if not outcome.changed:
        return Recovery("ignored", f"request {request_id} is {outcome.status}; run {run_id} does not own it")
    delay = retry_delay(outcome, base_s=policy.retry_backoff_seconds)
    audit_outcome(
        requests, outcome, run_id=run_id, reason=reason, max_attempts=policy.max_attempts, delay_s=delay
    )
    if outcome.status is Status.FAILED:
        return Recovery("failed", f"failed after {outcome.retries + 1} failed run(s)")
    if fast_lane is not None:
        # If Redis is down, the standard lane's fallback launches it once it has waited long enough,
        # and the stranded-request pass puts a lost retry entry back on the queue.
        with contextlib.suppress(redis.RedisError):
            enqueue_retry(FastQueue(fast_lane.client, prefix=fast_lane.prefix), outcome, delay)
    return Recovery("requeued", f"retry {outcome.retries} in {delay:g}s", delay)


@dg.run_failure_sensor(
    name="request_failure_sensor",
    # Every run in the instance, not only those the daemon launched: fast-lane workers run jobs
    # in-process, and such runs carry no code-location origin that ``monitored_jobs`` could match.
    monitor_all_code_locations=True,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retries (with backoff) or fails the request of a failed agent run; a request failed "
    "for good has its completed steps compensated (saga).",
    request_job=recovery_saga_compensation,
)
def request_failure_sensor(
    context: dg.RunFailureSensorContext,
    store: RequestStoreResource,
    fast_lane: FastLaneResource,
    policy: WorkflowPolicyResource,
) -> dg.RunRequest | None:
    run = context.dagster_run
    request_id = run.tags.get(TAG_REQUEST_ID)
    if run.job_name not in AGENT_JOB_NAMES:
        return
    if not request_id:
        context.log.info(f"run {run.run_id} has no {TAG_REQUEST_ID} tag; nothing to recover")
        return
    if run.tags.get(TAG_DUPLICATE) == "true":
        context.log.info(f"run {run.run_id} was a duplicate delivery of {request_id}; nothing to recover")
        return
    result = recover(
        store.get_store(),
        request_id,
        run.run_id,
        run_failure_reason(context),
        policy,
        fast_lane,
        lane_tag=run.tags.get(TAG_LANE),
    )
    context.log.info(
        f"request {request_id} after failed run {run.run_id}: {result.outcome} ({result.detail})"
    )
    # Failed for good (here or by the fast-lane worker that saw it first): undo its completed steps.
    return saga_run_request(store.get_store(), request_id, run.run_id)
