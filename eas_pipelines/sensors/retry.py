"""Request-level retries: when a re-queued request may run again.

Op retries (``RETRY_POLICY``) absorb blips inside a run. When a run fails anyway, the recovery
rule (:mod:`eas_pipelines.recovery`, shared with the fast-lane workers) puts the request back in
``queued`` (actor :data:`RECOVERY_ACTOR`) until it has failed ``max_attempts`` runs. The retry
count comes from the request's own history, so runs that only paused for an approval do not use
up retries, and the backoff (``retry_backoff_seconds`` doubling per retry, no jitter so that it
can be recomputed) is derived the same way by the failure sensor (fast lane: a delayed enqueue)
and by the standard-lane sensor (which holds a retried request back until it is due).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eas_pipelines.recovery import RECOVERY_ACTOR, retries_so_far
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.store import RequestRecord, RequestStore

__all__ = ["RECOVERY_ACTOR", "retries_so_far", "retry_not_before"]


def retry_not_before(
    store: RequestStore, record: RequestRecord, policy: WorkflowPolicyResource
) -> datetime | None:
    """When a re-queued request may run again; ``None`` for work that is not a retry.

    Only requests carrying ``last_error`` (set by the failure sensor, cleared when an approval
    resumes a request) are retries, so the history is read for those alone.
    """
    if record.last_error is None or record.queued_at is None:
        return None
    retries = retries_so_far(store, record.id)
    if retries == 0:
        return None
    return record.queued_at + timedelta(seconds=policy.retry_delay_s(retries))
