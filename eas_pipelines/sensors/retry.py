"""Request-level retries: when a re-queued request may run again.

Op retries (``RETRY_POLICY``) absorb blips inside a run. When a run fails anyway, the recovery
rule (:mod:`eas_pipelines.recovery`, shared with the fast-lane workers and the stranded-request
pass) puts the request back in ``queued`` (actor :data:`RECOVERY_ACTOR`) until it has failed
``max_attempts`` runs. The retry count comes from the request's own history, so runs that only
paused for an approval do not use up retries, and the backoff is
:func:`eas_pipelines.recovery.backoff_delay` keyed by the request id: the same delay whichever
caller computes it, so the fast lane's delayed enqueue and the standard-lane sensor (which holds a
retried request back until it is due) agree.
"""

from __future__ import annotations

from datetime import datetime

from eas_pipelines.recovery import RECOVERY_ACTOR, retries_so_far, retry_due_at
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.store import RequestRecord, RequestStore

__all__ = ["RECOVERY_ACTOR", "retries_so_far", "retry_not_before"]


def retry_not_before(
    store: RequestStore, record: RequestRecord, policy: WorkflowPolicyResource
) -> datetime | None:
    """When a re-queued request may run again (``retry_backoff_seconds`` as the base); ``None`` for
    work that is not a retry."""
    return retry_due_at(store, record, base_s=policy.retry_backoff_seconds)
