"""Recovery of requests whose run failed: retry with backoff, or fail for good.

A run fails when an op keeps failing after its own retries (a connector down, its circuit open)
or when the run never got going (a launch error, a crashed run worker). The request is re-queued
until it has failed ``max_attempts`` runs, then ends ``failed`` with the failure's reason.

Runs that do not own their request are left alone: a duplicate delivery (tagged by
``start_request``), or a run whose request has moved on (another run claimed it, an operator
cancelled it). Everything this sensor does is a store transition, so it is in the request's
history and audit log with actor ``eas/recovery``.
"""

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg
import redis

from eas_pipelines.agents import AGENT_JOBS
from eas_pipelines.agents.common import TAG_DUPLICATE, TAG_LANE, TAG_REQUEST_ID
from eas_pipelines.recovery import RECOVERY_ACTOR, apply_recovery, retries_so_far
from eas_pipelines.recovery import Recovery as RuleOutcome
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.store import Lane, Priority, RequestNotFound, RequestStore, StaleTransition, Status

AGENT_JOB_NAMES = frozenset(job.name for job in AGENT_JOBS)


@dataclass(frozen=True)
class Recovery:
    """What the sensor did with a failed run's request."""

    outcome: str  # "requeued", "failed" or "ignored"
    detail: str
    delay_s: float = 0.0


def failure_reason(context: dg.RunFailureSensorContext) -> str:
    """The failed steps' error messages, else the run failure's own message."""
    reasons = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        message = (error.message if error is not None else event.message or "").strip()
        reasons.append(f"{event.step_key}: {message}")
    if reasons:
        return "; ".join(reasons)
    return (context.failure_event.message or "run failed").strip()


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
        outcome = _retry_failed(requests, request_id, reason, policy)
    else:
        outcome = apply_recovery(requests, request_id, reason, policy.max_attempts, run_id=run_id)
    if not outcome.changed:
        return Recovery("ignored", f"request {request_id} is {outcome.status}; run {run_id} does not own it")
    if outcome.status is Status.FAILED:
        requests.audit(
            request_id,
            RECOVERY_ACTOR,
            "retry.exhausted",
            {
                "run_id": run_id,
                "failures": outcome.retries + 1,
                "max_attempts": policy.max_attempts,
                "reason": reason,
            },
        )
        return Recovery("failed", f"failed after {outcome.retries + 1} failed run(s)")
    queued = outcome.record
    delay = policy.retry_delay_s(outcome.retries)
    not_before = (queued.queued_at or queued.updated_at) + timedelta(seconds=delay)
    requests.audit(
        request_id,
        RECOVERY_ACTOR,
        "retry.scheduled",
        {
            "run_id": run_id,
            "failures": outcome.retries,
            "max_attempts": policy.max_attempts,
            "delay_s": delay,
            "not_before": not_before.isoformat(),
            "lane": queued.lane.value if queued.lane else None,
        },
    )
    if queued.lane is Lane.FAST and fast_lane is not None:
        # If Redis is down, the standard lane's fallback launches it once it has waited long enough.
        with contextlib.suppress(redis.RedisError):
            fast_lane.enqueue(queued.id, int(queued.priority or Priority.P1), queued.attempts, delay_s=delay)
    return Recovery("requeued", f"retry {outcome.retries} in {delay:g}s", delay)


def _retry_failed(
    requests: RequestStore, request_id: str, reason: str, policy: WorkflowPolicyResource
) -> RuleOutcome:
    """The recovery rule for a request already ``failed`` by :func:`recover` (never-started runs)."""
    failures = retries_so_far(requests, request_id) + 1
    record = requests.get(request_id)
    if failures >= policy.max_attempts:
        return RuleOutcome(Status.FAILED, record, changed=True, retries=failures - 1)
    queued = requests.transition(
        request_id,
        Status.QUEUED,
        actor=RECOVERY_ACTOR,
        reason=f"retry {failures} of {policy.max_attempts - 1} after a failed run: {reason}",
        expected=Status.FAILED,
        last_error=reason,
    )
    return RuleOutcome(Status.QUEUED, queued, changed=True, retries=failures)


@dg.run_failure_sensor(
    name="request_failure_sensor",
    # Every run in the instance, not only those the daemon launched: fast-lane workers run jobs
    # in-process, and such runs carry no code-location origin that ``monitored_jobs`` could match.
    monitor_all_code_locations=True,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retries (with backoff) or fails the request of a failed agent run.",
)
def request_failure_sensor(
    context: dg.RunFailureSensorContext,
    store: RequestStoreResource,
    fast_lane: FastLaneResource,
    policy: WorkflowPolicyResource,
) -> None:
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
        failure_reason(context),
        policy,
        fast_lane,
        lane_tag=run.tags.get(TAG_LANE),
    )
    context.log.info(
        f"request {request_id} after failed run {run.run_id}: {result.outcome} ({result.detail})"
    )
