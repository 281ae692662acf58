"""The daily digest of P3 alerts: one Slack post listing what was raised since the last digest.

P3 findings (a slow connector, no warm worker alive) are worth knowing but not worth a message each:
:func:`.alerts.dispatch_alert` keeps them in Redis (:mod:`.pending`), and this job, on
:data:`monitoring_digest_schedule` (every day at 08:00 UTC), posts them together to the alert
channel and then forgets exactly the ones it posted. The post's idempotency key is derived from the
alerts it lists, so a retried op posts once; an empty digest posts nothing.
"""

import hashlib
import time

import dagster as dg

from eas_pipelines.agents.common import RETRY_POLICY
from eas_pipelines.agents.monitoring.pending import PendingAlert
from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.runs import TAG_AGENT

DIGEST_JOB = "monitoring_alert_digest"


def digest_text(alerts: list[PendingAlert]) -> str:
    """One line per alert, oldest first: when (UTC), what, where."""
    lines = []
    for alert in alerts:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(alert.raised_at))
        lines.append(f"- {when} UTC {alert.summary} ({alert.source})")
    return "\n".join(lines)


def digest_key(alerts: list[PendingAlert]) -> str:
    """The post's idempotency key: the same alerts raised at the same times give the same key (a
    retried op posts once); the same problem raised again another day is a new post."""
    raised = "\n".join(sorted(f"{a.raised_at!r} {a.member}" for a in alerts))
    return "monitoring:digest:" + hashlib.sha256(raised.encode()).hexdigest()[:32]


@dg.op(out=dg.Out(int))
def post_alert_digest(
    context: dg.OpExecutionContext, monitoring: MonitoringResource, notifications: NotificationsResource
) -> int:
    """Post the P3 alerts raised so far to the alert channel, then forget them; how many were posted."""
    digest = monitoring.digest()
    due = digest.due(time.time())
    if not due:
        context.log.info("no P3 alert since the last digest")
        return 0
    notifications.send(
        monitoring.alert_channel,
        f"Daily digest: {len(due)} low-severity (P3) alert{'s' if len(due) != 1 else ''}",
        digest_text(due),
        request_id=None,
        idempotency_key=digest_key(due),
        detail={"alerts": len(due)},
    )
    digest.remove(due)
    context.add_output_metadata({"alerts": len(due), "channel": monitoring.alert_channel})
    return len(due)


@dg.job(
    name=DIGEST_JOB,
    description="Post the day's P3 alerts to the alert channel as one digest.",
    tags={TAG_AGENT: "monitoring"},
    op_retry_policy=RETRY_POLICY,
)
def monitoring_alert_digest() -> None:
    post_alert_digest()


monitoring_digest_schedule = dg.ScheduleDefinition(
    name="monitoring_daily_digest",
    job=monitoring_alert_digest,
    cron_schedule="0 8 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 08:00 UTC: the P3 alerts raised since the last digest, in one Slack post.",
)
