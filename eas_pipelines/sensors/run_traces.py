"""The ``eas.run`` spans of runs no EAS process watched from start to end: the standard lane's.

A fast-lane worker wraps each run it executes in its ``eas.run <job>`` span. A standard-lane run
(and a fast-lane request the standard lane took over) runs in a process Dagster's run launcher
starts (a subprocess, a Kubernetes Job): its steps trace there, as children of the run span whose
id derives from the run id (``observability.spans.run_span_id``), but nothing in that process
spans the whole run. This sensor records that span once the run has finished, from the start and
end times Dagster stored, so that each request's trace shows its run with the steps inside.

Runs without an ``eas/traceparent`` tag (tracing was off when the request came in) and runs a
worker executed (``eas/worker``) are skipped; so is everything while no exporter is configured.
The cursor is the last run update seen (epoch seconds): each finished run is recorded once.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from eas_pipelines.observability import spans, tracing
from eas_pipelines.runs import TAG_AGENT, TAG_ATTEMPT, TAG_LANE, TAG_REQUEST_ID, TAG_TRACEPARENT, TAG_WORKER

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
PAGE = 200
FIRST_LOOKBACK = timedelta(minutes=10)
"""How far back a sensor without a cursor (first start, or after a reset) looks for finished runs."""


def _aware(moment: datetime) -> datetime:
    """A storage timestamp in UTC (SQLite run storage hands back naive UTC datetimes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def record_finished_runs(
    instance: dg.DagsterInstance, after: datetime, *, limit: int = PAGE
) -> tuple[int, datetime]:
    """Record the run spans of standard-lane runs finished (last updated) after ``after``.

    Returns how many were recorded and the new cursor (the last update seen, or ``after``).
    """
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED, updated_after=after),
        limit=limit,
        order_by="update_timestamp",
        ascending=True,
    )
    recorded = 0
    cursor = _aware(after)
    for record in records:
        cursor = max(cursor, _aware(record.update_timestamp))
        run = record.dagster_run
        traceparent = run.tags.get(TAG_TRACEPARENT)
        if not traceparent or TAG_WORKER in run.tags:
            continue
        started = (
            datetime.fromtimestamp(record.start_time, UTC) if record.start_time else record.create_timestamp
        )
        ended = datetime.fromtimestamp(record.end_time, UTC) if record.end_time else record.update_timestamp
        started, ended = _aware(started), _aware(ended)
        spans.record_run_span(
            run.job_name,
            run_id=run.run_id,
            trace_context={tracing.TRACEPARENT: traceparent},
            start_time=started,
            end_time=ended,
            success=run.status is dg.DagsterRunStatus.SUCCESS,
            attributes={
                spans.ATTR_REQUEST_ID: run.tags.get(TAG_REQUEST_ID),
                spans.ATTR_AGENT: run.tags.get(TAG_AGENT),
                spans.ATTR_LANE: run.tags.get(TAG_LANE),
                spans.ATTR_ATTEMPT: run.tags.get(TAG_ATTEMPT),
                "eas.run_status": run.status.value,
            },
        )
        recorded += 1
    return recorded, cursor


@dg.sensor(
    name="run_trace_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records the trace span of each finished standard-lane run (when tracing exports).",
)
def run_trace_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    now = datetime.now(UTC)
    after = datetime.fromisoformat(context.cursor) if context.cursor else now - FIRST_LOOKBACK
    if not tracing.exporting():
        # Nothing would export the spans: move on, so that enabling tracing later does not replay.
        return dg.SensorResult(
            skip_reason="tracing exports nothing (no OTEL_* exporter)", cursor=now.isoformat()
        )
    recorded, cursor = record_finished_runs(context.instance, after)
    return dg.SensorResult(skip_reason=f"recorded {recorded} run span(s)", cursor=cursor.isoformat())
