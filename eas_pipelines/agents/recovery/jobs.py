"""Recovery agent: ``recovery_retry_request`` and ``recovery_rollback``.

retry: find the failed request (by id, else the requester's latest failed one) -> check who asks,
its status, whether it was rolled back and how often it was retried by hand -> ``failed -> queued``
(actor ``recovery``; back on the Redis queue when its lane is fast, the standard-lane sensor picks
up the others) -> notify. The retried request runs its own job again, from the top: its steps are
keyed by request id, so what its failed run already did is not done twice.

rollback (P0): find the request (by id, else the requester's latest one with something to undo)
-> check who asks and that it has stopped (succeeded or failed) -> run the compensations of its
completed steps, newest first (:mod:`eas_pipelines.agents.saga`), each audited on that request ->
notify the requester and, when somebody else submitted it, them too. A compensation the vendor
refuses ends the rollback ``failed`` naming it (what was undone stays undone; asking again retries
only what is left). The rolled-back request keeps its status (``succeeded`` is terminal): its audit
trail says what was undone.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg

# The workflows whose steps declare compensations: imported so that their compensations are
# registered before the ops that run them name their resources.
import eas_pipelines.agents.customer_service.jobs  # noqa: F401
import eas_pipelines.agents.finance.jobs  # noqa: F401
import eas_pipelines.agents.hr.jobs  # noqa: F401
import eas_pipelines.agents.hr.lifecycle  # noqa: F401
from eas_pipelines.agents.common import (
    Step,
    WorkItem,
    WorkResult,
    _step_outputs,
    notify_all,
    workflow_job,
    workflow_step,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.recovery.targets import (
    AGENT,
    ROLLBACKABLE,
    find_target,
    manual_retries,
    permission_problem,
    retry_problem,
    rollback_problem,
)
from eas_pipelines.agents.saga import (
    compensation_resource_keys,
    completed_steps,
    run_compensations,
    was_compensated,
)
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.store import Lane, RequestRecord, StaleTransition, Status

RETRY_JOB = "recovery_retry_request"
ROLLBACK_JOB = "recovery_rollback"
SAGA_RESOURCE_KEYS = frozenset({"store", "notifications", *compensation_resource_keys()})
"""What an op that runs sagas requires: the store, notifications and every compensation's connector."""


@dataclass(frozen=True)
class Target:
    """The request a recovery request acts on, as the workflow carries it from op to op."""

    item: WorkItem
    request_id: str
    client_id: str
    intent: str
    status: str
    steps: tuple[str, ...] = ()
    """Its completed steps not yet undone, newest first (rollback)."""
    undone: tuple[dict[str, str], ...] = field(default_factory=tuple)
    attempt: int = 0
    last_error: str | None = None

    def with_(self, **changes: Any) -> "Target":
        return replace(self, **changes)


def _target(item: WorkItem, record: RequestRecord, steps: tuple[str, ...] = ()) -> Target:
    return Target(
        item=item,
        request_id=record.id,
        client_id=record.client_id,
        intent=record.intent or "",
        status=str(record.status),
        steps=steps,
        attempt=record.attempts,
        last_error=record.last_error,
    )


# --- retry ---------------------------------------------------------------------------------------


@workflow_step(Target)
def find_failed_request(
    item: WorkItem, *, store: RequestStoreResource, policy: WorkflowPolicyResource
) -> Step:
    """The failed request to retry, if the requester may retry it and it has retries left."""
    requests = store.get_store()
    found = find_target(requests, item, lambda record: record.status is Status.FAILED)
    if isinstance(found, str):
        return Step.refused(found)
    retries = manual_retries(requests, found.id)
    problem = permission_problem(requests, item.requester, found) or retry_problem(
        found, retries, policy.max_attempts, was_compensated(requests, found.id)
    )
    if problem:
        return Step.refused(problem, target=found.id)
    return Step.passed(
        _target(item, found),
        "recovery.retry_target",
        target=found.id,
        intent=found.intent,
        last_error=found.last_error,
        manual_retries=retries,
    )


@workflow_step(Target)
def requeue_request(target: Target, *, store: RequestStoreResource, fast_lane: FastLaneResource) -> Step:
    """``failed -> queued`` (compare-and-set), audited on the retried request, and its lane told."""
    requests = store.get_store()
    item = target.item
    reason = f"retried by {item.requester} (request {item.request_id})"
    try:
        record = requests.transition(
            target.request_id,
            Status.QUEUED,
            actor=AGENT,
            reason=reason,
            expected=Status.FAILED,
            last_error=None,  # a retry asked for now: the standard lane holds back only the rule's retries
        )
        requests.audit(
            target.request_id,
            AGENT,
            "retry.requested",
            {
                "by": item.requester,
                "via": item.request_id,
                "run_id": item.run_id,
                "previous_error": target.last_error,
            },
        )
    except StaleTransition as exc:
        # This op retried after its transition committed (then it is ours), or somebody else moved it.
        history = requests.history(target.request_id)
        if not any(step.actor == AGENT and step.reason == reason for step in history):
            return Step.refused(f"request {target.request_id} changed meanwhile: it is {exc.from_status}")
        record = requests.get(target.request_id)
    if record.status is Status.QUEUED and record.lane is Lane.FAST:
        # One entry per (request, attempt): an op retry enqueues nothing twice. A Redis error fails
        # the op, whose retry finds its own transition above and enqueues again.
        fast_lane.enqueue(record.id, int(record.effective_priority), record.attempts)
    lane = record.lane.value if record.lane else None
    return Step.passed(
        target.with_(status=str(record.status), attempt=record.attempts + 1),
        "recovery.requeued",
        target=record.id,
        lane=lane,
        attempt=record.attempts + 1,
    )


@workflow_step(WorkResult, optional=False)
def notify_retry(target: Target, *, notifications: NotificationsResource) -> Step:
    """Tell the requester (and the retried request's submitter, when another) that it runs again."""
    item = target.item
    summary = f"queued request {target.request_id} ({target.intent}) again, attempt {target.attempt}"
    recipients = notify_all(
        notifications,
        item,
        list(dict.fromkeys([item.requester, target.client_id])),
        f"Request {target.request_id} retried",
        f"Request {target.request_id} ({target.intent}) is queued again (attempt {target.attempt}), "
        f"as asked in request {item.request_id}.",
        key="retried",
        detail={"target": target.request_id},
    )
    detail = {"target": target.request_id, "attempt": target.attempt}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


recovery_retry_request = workflow_job(
    name=RETRY_JOB,
    agent=AGENT,
    description="Retry a failed request: check who asks and its retries, queue it again, notify.",
    steps=(find_failed_request, requeue_request, notify_retry),
)


# --- rollback ------------------------------------------------------------------------------------


@workflow_step(Target)
def find_rollback_target(item: WorkItem, *, store: RequestStoreResource) -> Step:
    """The request to roll back: it has stopped, the requester may undo it and something is left to undo."""
    requests = store.get_store()

    def fits(record: RequestRecord) -> bool:
        return record.status in ROLLBACKABLE and bool(completed_steps(requests, record.id))

    found = find_target(requests, item, fits)
    if isinstance(found, str):
        return Step.refused(found)
    steps = tuple(done.step for done in completed_steps(requests, found.id))
    problem = permission_problem(requests, item.requester, found) or rollback_problem(
        found, len(steps), was_compensated(requests, found.id)
    )
    if problem:
        return Step.refused(problem, target=found.id)
    target = _target(item, found, steps)
    return Step.passed(
        target, "recovery.rollback_target", target=found.id, status=target.status, steps=list(steps)
    )


@dg.op(
    name="undo_completed_steps",
    description="Run the compensations of the target's completed steps, newest first, each audited.",
    ins={"subject": dg.In(Target)},
    out=dg.Out(Target, is_required=False),
    required_resource_keys=SAGA_RESOURCE_KEYS,
)
def undo_completed_steps(context: dg.OpExecutionContext, subject: Target) -> Iterator[dg.Output]:
    """The saga (:func:`~eas_pipelines.agents.saga.run_compensations`) as a workflow step.

    Built by hand rather than with ``workflow_step``: its resources are those of every registered
    compensation, known only once the agents are imported. A retry of the op (an outage mid-way)
    skips what is already undone.
    """
    item = subject.item
    requests = context.resources.store.get_store()
    reason = f"rolled back by {item.requester} (request {item.request_id})"
    report = run_compensations(
        requests, subject.request_id, context.resources, actor=AGENT, reason=reason, run_id=item.run_id
    )
    undone = [o.as_dict() for o in report.outcomes]
    requests.audit(
        subject.request_id,
        AGENT,
        "rollback.completed" if report.complete else "rollback.incomplete",
        {"by": item.requester, "via": item.request_id, "run_id": item.run_id, "outcomes": undone},
    )
    if report.complete:
        outcome: Step = Step.passed(
            subject.with_(undone=tuple(undone)),
            "recovery.rolled_back",
            target=subject.request_id,
            outcomes=undone,
        )
    else:
        outcome = Step.refused(
            f"rollback of request {subject.request_id} is incomplete: {report.summary()}",
            target=subject.request_id,
            outcomes=undone,
        )
    yield from _step_outputs(context, subject, outcome)


@workflow_step(WorkResult, optional=False)
def notify_rollback(target: Target, *, notifications: NotificationsResource) -> Step:
    """Tell the requester (and the rolled-back request's submitter, when another) what was undone."""
    item = target.item
    undone = [u["note"] for u in target.undone if u["status"] == "compensated"]
    summary = f"rolled back request {target.request_id} ({target.intent}): {len(undone)} change(s) undone"
    lines = "\n".join(f"- {note}" for note in undone) or "- nothing needed undoing"
    recipients = notify_all(
        notifications,
        item,
        list(dict.fromkeys([item.requester, target.client_id])),
        f"Request {target.request_id} rolled back",
        f"Request {target.request_id} ({target.intent}) was rolled back, as asked in request "
        f"{item.request_id}:\n{lines}",
        key="rolled_back",
        detail={"target": target.request_id},
    )
    detail = {"target": target.request_id, "undone": undone}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


recovery_rollback = workflow_job(
    name=ROLLBACK_JOB,
    agent=AGENT,
    description="Roll a request back: run its steps' compensations newest first (saga), audited, notify.",
    steps=(find_rollback_target, undo_completed_steps, notify_rollback),
)
