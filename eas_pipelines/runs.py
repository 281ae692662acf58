"""The run protocol: how a queued request becomes a Dagster run, whoever starts it.

Two launchers start runs of the agents' jobs, the standard-lane sensor (a ``RunRequest`` for the
run queue) and a fast-lane worker (``execute_in_process``), and three readers find those runs again
by their tags: the failure sensor, the stranded-request pass and the workers' take-over of a dead
worker's request. They must agree on the run config, the tags, the run key, and what becomes of a
request that no job can run (:func:`fail_unroutable`). That agreement lives here, below lanes/,
agents/, sensors/ and workers/, so that each of them imports it without importing the others.
Which job runs a request is the routing table's answer (:func:`eas_pipelines.routing.job_for`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from eas_pipelines.store import IllegalTransition, Priority, RequestRecord, RequestStore, Status

START_OP = "start_request"
"""The first op of every workflow: the only op with config (the request id)."""

TAG_REQUEST_ID = "eas/request_id"
TAG_AGENT = "eas/agent"
TAG_PRIORITY = "eas/priority"
TAG_LANE = "eas/lane"
TAG_ATTEMPT = "eas/attempt"
TAG_DUPLICATE = "eas/duplicate_delivery"
"""Set by the workflow's first op on a run that lost the claim: the failure sensor leaves it alone."""
TAG_WORKER = "eas/worker"
"""The fast-lane worker that runs a run in-process (who owns it while it is unfinished)."""
DAGSTER_PRIORITY_TAG = "dagster/priority"
TAG_TRACEPARENT = "eas/traceparent"
"""The request's W3C ``traceparent`` (stored at intake): a run process continues the request's trace
from it (``eas_pipelines.observability.spans.RUN_TAG`` names the same tag)."""
K8S_CONFIG_TAG = "dagster-k8s/config"
"""Read by dagster_k8s's ``K8sRunLauncher``: the run pod's container resources and labels."""
K8S_AGENT_LABEL = "eas/agent"
"""Label of a run pod naming its agent: resource use per agent (the Cost dashboard)."""

FAST_LANE = "fast"
"""``eas/lane`` of a run a fast-lane worker started."""
FALLBACK_LANE = "fast-fallback"
"""``eas/lane`` of a fast-lane request the standard-lane sensor launched because no worker was alive."""

# QueuedRunCoordinator launches higher dagster/priority first: P0 must get the largest number.
DAGSTER_PRIORITY: dict[Priority, int] = {Priority.P0: 10, Priority.P1: 5, Priority.P2: 0}


def now_utc() -> datetime:
    """The current time, timezone-aware in UTC: what deadlines and "today" are computed from."""
    return datetime.now(UTC)


def run_config_for(request_id: str) -> dict[str, Any]:
    """The run config of any agent workflow for ``request_id``.

    Shape: ``{"ops": {"start_request": {"config": {"request_id": "<id>"}}}}``.
    """
    return {"ops": {START_OP: {"config": {"request_id": request_id}}}}


def k8s_config_tag(agent: str, resources: Mapping[str, Any]) -> dict[str, str]:
    """The ``dagster-k8s/config`` tag giving ``agent``'s runs their pod resources; ``{}`` for none.

    ``resources`` is ``EAS_K8S_AGENT_RESOURCES`` (agent -> requests/limits, checked by
    :mod:`eas_pipelines.k8s_resources`). An agent it does not name gets no tag, so its runs take the
    run launcher's default resources; outside Kubernetes the tag is ignored.
    """
    spec = resources.get(agent)
    if not spec:
        return {}
    config = {
        "container_config": {"resources": {name: dict(values) for name, values in spec.items()}},
        "pod_template_spec_metadata": {"labels": {K8S_AGENT_LABEL: agent}},
    }
    return {K8S_CONFIG_TAG: json.dumps(config, sort_keys=True)}


def run_tags_for(
    record: RequestRecord, *, lane: str | None = None, k8s_resources: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Tags every run of a request carries: find it in the UI, order it in Dagster's queue.

    With ``k8s_resources`` (the standard lane's, see :func:`k8s_config_tag`) the agent's pod resources
    are added for the Kubernetes run launcher.
    """
    priority = record.effective_priority
    agent = record.agent or "unknown"
    return {
        TAG_REQUEST_ID: record.id,
        TAG_AGENT: agent,
        TAG_PRIORITY: priority.name,
        TAG_LANE: lane or (record.lane.value if record.lane is not None else "standard"),
        TAG_ATTEMPT: str(record.attempts + 1),
        DAGSTER_PRIORITY_TAG: str(DAGSTER_PRIORITY[priority]),
        **k8s_config_tag(agent, k8s_resources or {}),
        **traceparent_tag(record),
    }


def traceparent_tag(record: RequestRecord) -> dict[str, str]:
    """``{eas/traceparent: ...}`` for a request stored with a trace context; ``{}`` without one."""
    traceparent = (record.trace_context or {}).get("traceparent")
    return {TAG_TRACEPARENT: traceparent} if isinstance(traceparent, str) and traceparent else {}


def run_key_for(record: RequestRecord) -> str:
    """One run key per (request, attempt): a retry is a new run, a repeated tick is not."""
    return f"{record.id}:{record.attempts}"


def fail_unroutable(store: RequestStore, record: RequestRecord, *, actor: str) -> tuple[RequestRecord, str]:
    """End a queued request that no loaded job can run ``failed``; the request as it is now, and why.

    A compare-and-set from ``queued``: a request picked up or cancelled meanwhile is left as it is
    (and returned as it is now). Failing it, rather than skipping it, keeps it from blocking its
    lane's cursor and tells its requester (``eas status``) why nothing happened.
    """
    reason = f"no workflow for intent {record.intent!r} (workflow {record.workflow!r})"
    try:
        updated = store.transition(
            record.id,
            Status.FAILED,
            actor=actor,
            reason=reason,
            expected=Status.QUEUED,
            last_error=reason,
        )
    except IllegalTransition:  # StaleTransition included: it moved on meanwhile
        updated = store.get(record.id)
    return updated, reason
