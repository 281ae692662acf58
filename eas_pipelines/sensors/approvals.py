"""Approvals after the decision: resume approved work.

``approval_resume_sensor`` puts every ``approved`` request back in ``queued``; its next run of
the same job finds the decision and continues past the approval step. The sensor scans the
requests *in* ``approved`` (a handful at any moment) rather than keeping a cursor over decided
approvals: ``approved`` has a single way out (queued), the compare-and-set makes the step happen
once, and a tick that fails half-way loses nothing because the next one finds the rest. A rejected
request needs nothing: the decision itself ends it ``rejected``.

Resumed fast-lane work goes back on the Redis queue when a warm worker is alive, else it is
re-queued on the standard lane at once rather than waiting out the fallback delay.

What nobody decided in time is escalated by ``approval_escalation_job``, next to the approval gate
(:mod:`eas_pipelines.agents.approvals`).
"""

import dagster as dg
import redis

from eas_pipelines.resources import FastLaneResource, RequestStoreResource
from eas_pipelines.store import Lane, StaleTransition, Status

RESUME_ACTOR = "eas/approvals"


@dg.sensor(
    name="approval_resume_sensor",
    # Under the sensor daemon's own 5 s loop: at exactly 5 the tick is often not yet due and waits
    # a second loop (measured: 10 s between ticks).
    minimum_interval_seconds=4,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-queues approved requests so their workflow continues past the approval.",
)
def approval_resume_sensor(
    context: dg.SensorEvaluationContext, store: RequestStoreResource, fast_lane: FastLaneResource
) -> dg.SkipReason:
    requests = store.get_store()
    approved = list(reversed(requests.list(status=Status.APPROVED, limit=100)))  # oldest first
    if not approved:
        return dg.SkipReason("no approved request waiting to resume")
    try:
        workers = bool(fast_lane.live_workers())
    except redis.RedisError:
        workers = False
    resumed = []
    for record in approved:
        lane = record.lane or Lane.STANDARD
        if lane is Lane.FAST and not workers:
            lane = Lane.STANDARD
        try:
            queued = requests.transition(
                record.id,
                Status.QUEUED,
                actor=RESUME_ACTOR,
                reason="approved: resuming the workflow",
                expected=Status.APPROVED,
                lane=lane,
                last_error=None,
            )
        except StaleTransition:
            continue  # another tick (or an operator) got there first
        if queued.lane is Lane.FAST:
            try:
                fast_lane.enqueue(queued.id, int(queued.effective_priority), queued.attempts)
            except redis.RedisError as exc:  # the standard lane's fallback picks it up
                context.log.warning(f"request {queued.id}: fast-lane enqueue failed ({exc})")
        resumed.append(f"{queued.id} ({queued.lane})")
    context.log.info(f"resumed {len(resumed)} approved request(s): {', '.join(resumed)}")
    return dg.SkipReason(f"resumed {len(resumed)} approved request(s)")
