"""The standard lane: queued requests become Dagster runs through the run queue.

Each tick reads requests queued on the ``standard`` lane after the cursor (``queued_for_lane``,
never the run storage) and yields one ``RunRequest`` per (request, attempt), tagged so that the
QueuedRunCoordinator orders them by priority and limits concurrency per agent.

It is also the fast lane's fallback: when no warm worker has a live heartbeat, fast-lane
requests that have waited longer than ``fast_lane_fallback_seconds`` are launched here too.

The cursor (JSON, one section per lane) is ``after`` — the last ``(queued_at, id)`` passed — and
``emitted`` — the run keys yielded recently. Each scan starts :data:`LOOKBACK` before ``after``
because ``queued_at`` is stamped before its transaction commits, so a row can appear slightly
behind a cursor that already moved on; ``emitted`` keeps that overlap from yielding a request
twice. A retry that is not yet due (see :mod:`.retry`) holds ``after`` in place until it is.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import redis

from eas_pipelines.agents import AGENT_JOBS
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.routing import job_for
from eas_pipelines.runs import FALLBACK_LANE, fail_unroutable, run_config_for, run_key_for, run_tags_for
from eas_pipelines.sensors.retry import retry_not_before
from eas_pipelines.store import Lane, RequestStore

LOOKBACK = timedelta(seconds=5)
PAGE = 200
SENSOR_ACTOR = "eas/standard-lane"
JOB_NAMES = frozenset(job.name for job in AGENT_JOBS)


@dataclass
class LaneCursor:
    after: tuple[datetime, str] | None = None
    emitted: dict[str, str] = field(default_factory=dict)  # run key -> queued_at (ISO)

    @classmethod
    def load(cls, raw: Any) -> "LaneCursor":
        if not isinstance(raw, dict):
            return cls()
        after = raw.get("after")
        return cls(
            after=(datetime.fromisoformat(after[0]), after[1]) if after else None,
            emitted=dict(raw.get("emitted") or {}),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "after": [self.after[0].isoformat(), self.after[1]] if self.after else None,
            "emitted": self.emitted,
        }


def load_cursor(raw: str | None) -> dict[str, LaneCursor]:
    data = json.loads(raw) if raw else {}
    return {lane: LaneCursor.load(data.get(lane)) for lane in (Lane.STANDARD.value, Lane.FAST.value)}


def dump_cursor(cursors: dict[str, LaneCursor]) -> str:
    return json.dumps({lane: cursor.dump() for lane, cursor in cursors.items()}, sort_keys=True)


def scan_lane(
    context: dg.SensorEvaluationContext,
    store: RequestStore,
    policy: WorkflowPolicyResource,
    lane: Lane,
    cursor: LaneCursor,
    now: datetime,
    *,
    min_age: timedelta | None = None,
) -> tuple[list[dg.RunRequest], LaneCursor]:
    """Run requests for ``lane``'s queued work after ``cursor``, and the advanced cursor."""
    scan_from = (cursor.after[0] - LOOKBACK, "") if cursor.after else None
    records = store.queued_for_lane(lane, after=scan_from, limit=PAGE)
    emitted = dict(cursor.emitted)
    after = cursor.after
    held = False
    run_requests: list[dg.RunRequest] = []
    tag_lane = lane.value if min_age is None else FALLBACK_LANE
    for record in records:
        key = run_key_for(record)
        if key not in emitted:
            if min_age is not None and record.queued_at is not None and record.queued_at > now - min_age:
                break  # younger than the fallback delay, and so is everything after it
            not_before = retry_not_before(store, record, policy)
            if not_before is not None and not_before > now:
                held = True
                continue
            job = job_for(record, JOB_NAMES)
            if job is None:
                _, reason = fail_unroutable(store, record, actor=SENSOR_ACTOR)
                context.log.warning(f"request {record.id}: {reason}")
                continue
            run_requests.append(
                dg.RunRequest(
                    run_key=key,
                    job_name=job,
                    run_config=run_config_for(record.id),
                    tags=run_tags_for(record, lane=tag_lane, k8s_resources=policy.k8s_agent_resources),
                )
            )
            emitted[key] = record.queued_at.isoformat() if record.queued_at else now.isoformat()
        if not held and record.cursor is not None and (after is None or record.cursor > after):
            after = record.cursor
    if after is not None:
        horizon = after[0] - LOOKBACK
        emitted = {k: v for k, v in emitted.items() if datetime.fromisoformat(v) >= horizon}
    return run_requests, LaneCursor(after=after, emitted=emitted)


def workers_alive(context: dg.SensorEvaluationContext, fast_lane: FastLaneResource) -> bool:
    """Whether any warm worker has a live heartbeat; an unreachable Redis counts as none."""
    try:
        return bool(fast_lane.live_workers())
    except redis.RedisError as exc:
        context.log.warning(f"cannot read worker heartbeats ({exc}); treating the fast lane as down")
        return False


@dg.sensor(
    name="standard_lane_sensor",
    jobs=list(AGENT_JOBS),
    # Under the sensor daemon's own 5 s loop: at exactly 5 the tick is often not yet due and waits
    # a second loop (measured: 10 s between ticks).
    minimum_interval_seconds=4,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches queued standard-lane requests (and fast-lane ones when no worker is alive).",
)
def standard_lane_sensor(
    context: dg.SensorEvaluationContext,
    store: RequestStoreResource,
    fast_lane: FastLaneResource,
    policy: WorkflowPolicyResource,
) -> dg.SensorResult:
    requests = store.get_store()
    cursors = load_cursor(context.cursor)
    now = datetime.now(UTC)
    run_requests, cursors["standard"] = scan_lane(
        context, requests, policy, Lane.STANDARD, cursors["standard"], now
    )
    if not workers_alive(context, fast_lane):
        fallback, cursors["fast"] = scan_lane(
            context,
            requests,
            policy,
            Lane.FAST,
            cursors["fast"],
            now,
            min_age=timedelta(seconds=policy.fast_lane_fallback_seconds),
        )
        if fallback:
            context.log.warning(
                f"no live fast-lane worker: launching {len(fallback)} fast-lane request(s) here"
            )
        run_requests += fallback
    return dg.SensorResult(run_requests=run_requests, cursor=dump_cursor(cursors))
