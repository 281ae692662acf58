"""The reconciler: finishes intake for requests that intake could not finish at once.

Three cases, each safe to run from several gateways (or a Dagster schedule) at the same time:

- ``received`` for longer than ``older_than``: no NLP replica answered. Classified again; the store
  moves a request out of ``received`` once (compare-and-set), so two reconcilers, or a reconciler
  racing the gateway call that stored the request, cannot both route it.
- ``classified`` but not ``queued`` for longer than ``older_than``: the process died between the
  two commits. Queued now.
- ``queued`` on the fast lane, never started, for longer than ``requeue_after``: the enqueue may
  have failed (Redis down at that moment). Enqueued again; the queue drops a second enqueue of the
  same (request, attempt), so a request that is on its stream already is not delivered twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis

from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.gateway.nlp_client import NLPClient
from eas_pipelines.gateway.triage import Triage
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX
from eas_pipelines.observability.spans import ATTR_REQUEST_ID, continued_trace
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import Lane, RequestStore, Status

logger = logging.getLogger(__name__)

ACTOR = "reconciler"
DEFAULT_OLDER_THAN = timedelta(seconds=5)
DEFAULT_REQUEUE_AFTER = timedelta(seconds=30)


@dataclass
class ReconcileReport:
    """What one pass did, by request id."""

    classified: list[str] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    nlp_unavailable: bool = False

    @property
    def changed(self) -> int:
        return len(self.classified) + len(self.needs_review) + len(self.queued) + len(self.requeued)


def reconcile_pending(
    store: RequestStore,
    nlp_client: NLPClient,
    redis_client: redis.Redis,
    settings: EASSettings,
    *,
    queue_prefix: str = DEFAULT_PREFIX,
    metrics: GatewayMetrics | None = None,
    limit: int = 100,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    requeue_after: timedelta = DEFAULT_REQUEUE_AFTER,
) -> ReconcileReport:
    """One pass over requests stuck in intake, for callers outside the gateway (a Dagster schedule).

    Routing follows ``settings`` (min_confidence, approval threshold, fast-lane fallback) exactly
    as the gateway does.
    """
    triage = Triage.build(
        store,
        nlp_client,
        redis_client,
        settings,
        metrics=metrics or GatewayMetrics(),
        queue_prefix=queue_prefix,
    )
    return reconcile(triage, limit=limit, older_than=older_than, requeue_after=requeue_after)


def reconcile(
    triage: Triage,
    *,
    limit: int = 100,
    older_than: timedelta = DEFAULT_OLDER_THAN,
    requeue_after: timedelta = DEFAULT_REQUEUE_AFTER,
) -> ReconcileReport:
    """One pass with the gateway's own :class:`Triage` (its NLP client, lanes and metrics).

    A pass stops classifying at the first request no replica answered: the rest would only wait
    for the same timeouts, and the next pass tries again.
    """
    store = triage.store
    report = ReconcileReport()
    for record in store.pending_classification(limit=limit, older_than=older_than):
        if report.nlp_unavailable:
            report.still_pending.append(record.id)
            continue
        # Classified late, but in the request's own trace (the context stored at intake).
        with continued_trace("eas.reconcile", record.trace_context, **{ATTR_REQUEST_ID: record.id}):
            outcome = triage.classify(record, actor=ACTOR)
        status = outcome.record.status
        if status is Status.RECEIVED:
            report.nlp_unavailable = True
            report.still_pending.append(record.id)
        elif status is Status.NEEDS_REVIEW:
            report.needs_review.append(record.id)
        else:
            report.classified.append(record.id)
        triage.metrics.reconciled.labels(
            status.value if status is not Status.RECEIVED else "still_pending"
        ).inc()

    now = datetime.now(UTC)
    for record in store.list(status=Status.CLASSIFIED, limit=limit):
        if record.updated_at < now - older_than:
            queued = triage.queue_classified(record, actor=ACTOR)
            if queued.status is Status.QUEUED:
                report.queued.append(record.id)
                triage.metrics.reconciled.labels("queued").inc()

    if triage.lanes.workers_alive():  # without workers the standard-lane sensor takes fast-lane work
        for record in store.queued_for_lane(Lane.FAST, limit=limit):
            if record.attempts or record.queued_at is None or record.queued_at >= now - requeue_after:
                continue
            queue = triage.queue.get()
            if queue.client.exists(queue.dedup_key(record.id, 0)):
                continue  # on its stream already (or taken by a worker): nothing was lost
            if triage.enqueue_fast(record):
                report.requeued.append(record.id)
    if report.changed:
        logger.info(
            "reconciled %d request(s)",
            report.changed,
            extra={
                "classified": len(report.classified),
                "needs_review": len(report.needs_review),
                "queued": len(report.queued),
                "requeued": len(report.requeued),
                "still_pending": len(report.still_pending),
            },
        )
    return report
