"""What every agent workflow shares: how its run claims, audits, pauses and finishes the request.

A workflow is a Dagster job whose first op is :func:`start_request` and whose last op is
:func:`complete_request`. Between them each agent's ops do the work, one audit entry per step
(actor = the agent's name). The request's life inside a run:

- ``start_request`` moves it ``queued -> running`` as a compare-and-set (``expected=queued``) and
  records the run id. A second delivery of the same request (at-least-once fast lane, a standard
  lane fallback racing a worker) loses that race and fails the run with :class:`dagster.Failure`
  before anything else happens; the run is tagged ``eas/duplicate_delivery`` so the failure
  sensor leaves the request alone.
- A business refusal (missing fields, duplicate invoice, no balance...) is not a run failure: the
  op moves the request to ``failed`` with the reason and yields no output, so the remaining ops
  are skipped and the run ends successfully. Run failures (a connector down after the op retries)
  are left to the failure sensor, which retries the request or fails it.
- An approval pauses the same way: the request goes to ``awaiting_approval`` and the run ends;
  once approved the request is queued again, the same job runs again from the top and the
  approval op finds the decision and lets the workflow continue. Every side effect is keyed by
  request id, so re-running the earlier steps repeats nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

import dagster as dg

from eas_pipelines.resources.connectors.notifications import NotificationResource
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.routing import ROUTES, Priority
from eas_pipelines.runs import START_OP, TAG_AGENT, TAG_DUPLICATE, now_utc
from eas_pipelines.store import (
    IllegalTransition,
    RequestNotFound,
    RequestStore,
    StaleTransition,
    Status,
)

RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=0.2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
"""Op retries for transient errors (a dropped connection, a connector blip): every op of a workflow
gets it from its job (:func:`workflow_job`), so that an op added later cannot forget it."""

AGENT_BY_JOB: dict[str, str] = {route.job: route.agent for route in ROUTES.values() if route.job}


def workflow_job(*, name: str, agent: str, description: str) -> Callable[..., dg.JobDefinition]:
    """The decorator of an agent's workflow job: :data:`RETRY_POLICY` for every op, the agent's tag.

    ``name`` is the job of the intents it serves in :mod:`eas_pipelines.routing`; the graph must
    start with :func:`start_request` and end with :func:`complete_request`.
    """
    return dg.job(name=name, description=description, tags={TAG_AGENT: agent}, op_retry_policy=RETRY_POLICY)


class RequestConfig(dg.Config):
    """The only run config a workflow takes: which request to work on (see ``runs.run_config_for``)."""

    request_id: str


@dataclass(frozen=True)
class WorkItem:
    """The request as the workflow's ops see it (a plain snapshot passed from op to op)."""

    request_id: str
    agent: str
    intent: str
    text: str
    client_id: str
    priority: int
    entities: tuple[dict[str, Any], ...]
    attempts: int
    run_id: str
    requested_on: date | None = None  # the day the request was made (UTC): notice periods count from it

    @property
    def requester(self) -> str:
        """Who asked: the API client that submitted the request."""
        return self.client_id

    def values(self, entity_type: str) -> list[Any]:
        """Normalised values of the entities of ``entity_type`` (``None`` values dropped)."""
        return [
            e.get("value")
            for e in self.entities
            if e.get("type") == entity_type and e.get("value") is not None
        ]

    def value(self, entity_type: str) -> Any:
        found = self.values(entity_type)
        return found[0] if found else None

    def texts(self, entity_type: str) -> list[str]:
        return [str(e.get("text")) for e in self.entities if e.get("type") == entity_type and e.get("text")]

    def key(self, step: str) -> str:
        """Idempotency key of one side effect of this request ("<request id>:<step>")."""
        return f"{self.request_id}:{step}"


@dataclass(frozen=True)
class WorkResult:
    """What a finished workflow says about itself: the audit summary of its last step."""

    item: WorkItem
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)


def _entities(raw: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, Iterable) or isinstance(raw, str | bytes | dict):
        return ()
    return tuple(dict(e) for e in raw if isinstance(e, dict))


def audit(store: RequestStore, item: WorkItem, action: str, **detail: Any) -> None:
    """One audit entry for a workflow step, by the agent, stamped with the run id."""
    store.audit(item.request_id, item.agent, action, {"run_id": item.run_id, **detail})


def fail_request(
    context: dg.OpExecutionContext, store: RequestStore, item: WorkItem, reason: str, **detail: Any
) -> None:
    """End the request ``failed`` for a business reason (the run itself succeeds; nothing retries).

    Idempotent: an op retried after the transition committed finds the request already failed.
    """
    try:
        store.transition(
            item.request_id,
            Status.FAILED,
            actor=item.agent,
            reason=reason,
            expected=Status.RUNNING,
            last_error=reason,
        )
    except StaleTransition as exc:
        if exc.from_status is not Status.FAILED:
            raise
    audit(store, item, "workflow.refused", reason=reason, **detail)
    context.log.warning(f"request {item.request_id} failed: {reason}")


def notify_failure(notifications: NotificationResource, item: WorkItem, reason: str) -> None:
    """Tell the requester why nothing was done (same key on retry: sent once)."""
    notifications.send(
        item.requester,
        f"Request {item.request_id} could not be completed",
        f'Your request "{item.text}" was not carried out: {reason}.',
        request_id=item.request_id,
        idempotency_key=item.key("notify:failure"),
        detail={"reason": reason},
    )


def refuse(
    context: dg.OpExecutionContext,
    store: RequestStoreResource,
    notifications: NotificationResource,
    item: WorkItem,
    reason: str,
    **detail: Any,
) -> None:
    """A business refusal: fail the request with ``reason`` and tell the requester why."""
    fail_request(context, store.get_store(), item, reason, **detail)
    notify_failure(notifications, item, reason)


def _mark_duplicate(context: dg.OpExecutionContext, detail: str) -> None:
    try:
        context.instance.add_run_tags(context.run_id, {TAG_DUPLICATE: "true"})
    except Exception:  # noqa: BLE001 - the tag is a hint for the failure sensor; the Failure is what counts
        context.log.warning(f"could not tag run {context.run_id} as a duplicate delivery: {detail}")


@dg.op(name=START_OP, out=dg.Out(WorkItem))
def start_request(
    context: dg.OpExecutionContext, config: RequestConfig, store: RequestStoreResource
) -> WorkItem:
    """Claim the request for this run: ``queued -> running`` as a compare-and-set.

    A lost compare-and-set means another run owns (or finished) the request: fail fast with no
    side effect. A retry of this op after its own transition committed (the reply was lost) finds
    its run id on the request and carries on.
    """
    requests = store.get_store()
    agent = AGENT_BY_JOB.get(context.job_name, context.job_name)
    try:
        record = requests.transition(
            config.request_id,
            Status.RUNNING,
            actor=agent,
            reason=f"run {context.run_id} started",
            expected=Status.QUEUED,
            run_id=context.run_id,
            attempt=True,
        )
    except RequestNotFound as exc:
        raise dg.Failure(f"request {config.request_id} does not exist", allow_retries=False) from exc
    except StaleTransition as exc:
        current = requests.get(config.request_id)
        if current.status is Status.RUNNING and context.run_id in current.run_ids:
            record = current
        else:
            message = (
                f"duplicate delivery: request {config.request_id} is {exc.from_status}, not queued "
                f"(runs so far: {', '.join(current.run_ids) or 'none'}); this run does nothing"
            )
            _mark_duplicate(context, message)
            raise dg.Failure(
                description=message,
                metadata={"request_id": config.request_id, "status": str(exc.from_status)},
                allow_retries=False,
            ) from exc
    if record.agent and record.agent != agent:
        context.log.warning(f"request {record.id} is routed to {record.agent}, running in {context.job_name}")
    item = WorkItem(
        request_id=record.id,
        agent=record.agent or agent,
        intent=record.intent or "",
        text=record.text,
        client_id=record.client_id,
        priority=int(record.priority if record.priority is not None else Priority.P1),
        entities=_entities(record.entities),
        attempts=record.attempts,
        run_id=context.run_id,
        requested_on=record.created_at.astimezone(UTC).date(),
    )
    context.add_output_metadata(
        {"request_id": item.request_id, "attempt": item.attempts, "intent": item.intent}
    )
    return item


@dg.op
def complete_request(context: dg.OpExecutionContext, result: WorkResult, store: RequestStoreResource) -> None:
    """Mark the request ``succeeded`` (compare-and-set from running, so it completes once)."""
    requests = store.get_store()
    item = result.item
    try:
        requests.transition(
            item.request_id,
            Status.SUCCEEDED,
            actor=item.agent,
            reason=result.summary,
            expected=Status.RUNNING,
        )
    except StaleTransition as exc:
        if exc.from_status is not Status.SUCCEEDED:
            raise dg.Failure(
                f"request {item.request_id} is {exc.from_status}; it was not completed by this run",
                allow_retries=False,
            ) from exc
        return  # this op retried after its transition committed
    audit(requests, item, "workflow.completed", summary=result.summary, **result.detail)
    context.log.info(f"request {item.request_id} succeeded: {result.summary}")


def approval_gate(
    context: dg.OpExecutionContext,
    store: RequestStore,
    notifications: NotificationResource,
    item: WorkItem,
    *,
    approver: str,
    reason: str,
    deadline_hours: float,
    recipient: str | None = None,
) -> bool:
    """Whether the workflow may go on past an approval it needs.

    True when this request's latest approval is ``approved`` (the run after the decision). Else
    asks ``approver`` (request -> ``awaiting_approval``, the run will end) and returns False. A
    retry after the approval was opened finds it pending and only re-sends the (idempotent)
    notification.
    """
    latest = next(iter(store.approvals(status=None, request_id=item.request_id, limit=1)), None)
    if latest is not None and latest.decision == "approved":
        audit(store, item, "approval.granted", approval_id=latest.id, approver=latest.decided_by)
        return True
    if latest is not None and latest.decision is None:
        approval = latest
    else:
        try:
            approval = store.request_approval(
                item.request_id,
                approver,
                now_utc() + timedelta(hours=deadline_hours),
                item.agent,
                reason=reason,
            )
        except IllegalTransition as exc:
            raise dg.Failure(f"cannot ask for approval: {exc}", allow_retries=False) from exc
    notifications.send(
        recipient or approver,
        f"Approval needed: request {item.request_id}",
        f'{reason}.\nRequest: "{item.text}"\nDecide by {approval.deadline:%Y-%m-%d %H:%M %Z} '
        f"(approval {approval.id}).",
        request_id=item.request_id,
        idempotency_key=item.key(f"notify:approval:{approval.id}"),
        detail={"approval_id": approval.id, "approver": approver},
    )
    context.log.info(f"request {item.request_id} awaits approval {approval.id} by {approver}")
    return False
