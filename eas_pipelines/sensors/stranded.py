"""Stranded requests, from Dagster's side: the stranded-request pass on the sensor daemon's clock.

Every fast-lane worker runs the pass (:mod:`eas_pipelines.lanes.stranded`) at start-up and every
~30 s; this sensor runs the same pass every 30 s from the Dagster daemon, so that a request is
recovered even when no worker is left alive to do it (``EAS_WORKER_COUNT=1`` and that worker died:
the re-queued request then reaches the standard lane through its fallback). Both at once are safe:
the pass is idempotent (compare-and-set store transitions, one queue entry per retry).

Requests whose run Dagster still owns (the standard lane, and the fast lane's fallback runs) are
never touched here: the run launcher and run monitoring (``dagster.yaml``) settle those, and the
failure sensor applies the recovery rule to their failures.
"""

import dagster as dg

from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.stranded import recover_stranded
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource

STRANDED_ACTOR = "eas/stranded-sensor"
"""Who recovered a request, in its history, audit log and its dead run's failure message."""


@dg.sensor(
    name="stranded_request_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Recovers requests left running by a dead fast-lane worker (or a run that ended without "
        "settling them): marks the run failed and retries or fails the request."
    ),
)
def stranded_request_sensor(
    context: dg.SensorEvaluationContext,
    store: RequestStoreResource,
    fast_lane: FastLaneResource,
    policy: WorkflowPolicyResource,
) -> dg.SkipReason:
    report = recover_stranded(
        store.get_store(),
        context.instance,
        FastQueue(fast_lane.client, prefix=fast_lane.prefix),
        heartbeat_s=policy.worker_heartbeat_seconds,  # the grace period derives from it
        max_attempts=policy.max_attempts,
        actor=STRANDED_ACTOR,
        backoff_base_s=policy.retry_backoff_seconds,
    )
    for request_id in report.recovered:
        context.log.warning(f"recovered stranded request {request_id}")
    # A tick yields no runs: the summary is what the UI shows for it.
    return dg.SkipReason(report.summary())
