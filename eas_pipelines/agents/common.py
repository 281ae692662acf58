"""What every agent workflow shares: how its run claims, audits, pauses and finishes the request.

A workflow is a Dagster job built by :func:`workflow_job`: :func:`start_request`, the agent's steps
in order, the last of which also completes the request (:func:`settling_step`). Each step is a plain
function made an op by :func:`workflow_step`: it gets what the step before it handed on and the
resources it names, and returns what happened (a :class:`Step`: passed, refused, needs approval);
the op does the rest (the audit entry, the refusal, the approval gate), so that an agent writes only
its rules. One audit entry per step (actor = the agent's name). The request's life inside a run:

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

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any, TypeVar, get_type_hints

import dagster as dg

from eas_pipelines.agents.approvals.levels import SecondLevelPolicy, approval_levels
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import (
    TAG_COMPENSATION,
    Compensation,
    as_compensation,
    record_completed,
    refusal_saga_op,
    step_compensations,
)
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.observability import metrics
from eas_pipelines.observability.spans import step_span
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.routing import AGENT_OF_JOB
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

T = TypeVar("T")

AGENT_BY_JOB: dict[str, str] = AGENT_OF_JOB


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


def notify_failure(notifications: NotificationsResource, item: WorkItem, reason: str) -> None:
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
    notifications: NotificationsResource,
    item: WorkItem,
    reason: str,
    **detail: Any,
) -> None:
    """A business refusal: fail the request with ``reason`` and tell the requester why."""
    fail_request(context, store.get_store(), item, reason, **detail)
    notify_failure(notifications, item, reason)


def traced_step(context: dg.OpExecutionContext) -> AbstractContextManager[Any]:
    """The op's ``eas.step`` span, in its run's (so its request's) trace; see ``observability.spans``."""
    return step_span(
        context.op.name, run_id=context.run_id, job_name=context.job_name, run_tags=context.run.tags
    )


def traced_op(fn: Callable[..., T]) -> Callable[..., T]:
    """An op function (not a generator) that runs in its :func:`traced_step` span.

    ``functools.wraps`` keeps the signature Dagster reads (context, config, resources).
    """

    @functools.wraps(fn)
    def traced(context: dg.OpExecutionContext, *args: Any, **kwargs: Any) -> T:
        with traced_step(context):
            return fn(context, *args, **kwargs)

    return traced


def _mark_duplicate(context: dg.OpExecutionContext, detail: str) -> None:
    try:
        context.instance.add_run_tags(context.run_id, {TAG_DUPLICATE: "true"})
    except Exception:  # noqa: BLE001 - the tag is a hint for the failure sensor; the Failure is what counts
        context.log.warning(f"could not tag run {context.run_id} as a duplicate delivery: {detail}")


@dg.op(name=START_OP, out=dg.Out(WorkItem))
@traced_op
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
        priority=int(record.effective_priority),
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
@traced_op
def complete_request(context: dg.OpExecutionContext, result: WorkResult, store: RequestStoreResource) -> None:
    """Mark the request ``succeeded`` (compare-and-set from running, so it completes once)."""
    succeed(context, store.get_store(), result)


def succeed(context: dg.OpExecutionContext, requests: RequestStore, result: WorkResult) -> None:
    """``running -> succeeded`` with the result's summary, audited: by :func:`complete_request`, or by
    the step that finished the workflow early (:meth:`Step.completed`). Once: an op retried after its
    transition committed finds the request succeeded and does nothing more."""
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


def _second_level_policy(context: dg.OpExecutionContext) -> SecondLevelPolicy:
    """The second approval's threshold and role, from the run's policy resource
    (``EAS_APPROVAL_SECOND_THRESHOLD``, ``EAS_APPROVAL_SECOND_ROLE``)."""
    policy: WorkflowPolicyResource = context.resources.policy
    return SecondLevelPolicy(policy.approval_second_threshold, policy.approval_second_role)


def approval_gate(
    context: dg.OpExecutionContext,
    store: RequestStore,
    notifications: NotificationsResource,
    item: WorkItem,
    *,
    approver: str,
    reason: str,
    deadline_hours: float,
    recipient: str | None = None,
) -> bool:
    """Whether the workflow may go on past the approval(s) it needs.

    The levels come from :func:`~eas_pipelines.agents.approvals.levels.approval_levels`: ``approver``,
    then (an invoice above the second threshold) the second role. True once every level is
    ``approved`` (the run after the last decision). Else asks the first level not yet approved
    (request -> ``awaiting_approval``, the run will end) and returns False; its approval resumes the
    workflow, which comes back here and asks the next level. A retry after an approval was opened
    finds it pending and only re-sends the (idempotent) notification. Delegates in force of the
    approver are told too.
    """
    levels = approval_levels(item.intent, item.entities, approver, _second_level_policy(context))
    history = store.approvals(status=None, request_id=item.request_id, limit=20)  # newest first
    approved = {a.stage: a for a in history if a.decision == "approved"}
    if all(stage in approved for stage in range(1, len(levels) + 1)):
        final = approved[len(levels)]
        audit(
            store,
            item,
            "approval.granted",
            approval_id=final.id,
            approver=final.decided_by,
            levels=len(levels),
            approved_by=[approved[stage].decided_by for stage in range(1, len(levels) + 1)],
        )
        return True
    stage = next(stage for stage in range(1, len(levels) + 1) if stage not in approved)
    asked = levels[stage - 1]
    why = (
        reason
        if stage == 1
        else f"{reason}; approved by {approved[1].decided_by}, a second approval is needed"
    )
    pending = next((a for a in history if a.decision is None), None)
    if pending is not None:
        approval = pending
    else:
        try:
            approval = store.request_approval(
                item.request_id,
                asked,
                now_utc() + timedelta(hours=deadline_hours),
                item.agent,
                reason=why,
                stage=stage,
            )
        except IllegalTransition as exc:
            raise dg.Failure(f"cannot ask for approval: {exc}", allow_retries=False) from exc
    targets = [(recipient if stage == 1 and recipient else approval.approver)]
    targets += [d.delegate for d in store.delegations(delegator=approval.approver)]
    for target in dict.fromkeys(targets):
        notifications.send(
            target,
            f"Approval needed: request {item.request_id}",
            f'{why}.\nRequest: "{item.text}"\nDecide by {approval.deadline:%Y-%m-%d %H:%M %Z} '
            f"(approval {approval.id}, level {approval.stage} of {len(levels)}).",
            request_id=item.request_id,
            idempotency_key=item.key(
                f"notify:approval:{approval.id}" + ("" if target == targets[0] else f":{target}")
            ),
            detail={"approval_id": approval.id, "approver": approval.approver, "stage": approval.stage},
        )
    context.log.info(f"request {item.request_id} awaits approval {approval.id} by {approval.approver}")
    return False


class Step:
    """What a workflow step did: its function returns ``Step.passed(...)``, ``Step.refused(...)`` or
    ``Step.needs_approval(...)``, and its op (:func:`workflow_step`) acts on it."""

    @staticmethod
    def passed(value: Any, action: str | None = None, **detail: Any) -> "Passed":
        """Go on with ``value``, after an audit entry ``action`` with ``detail`` (None: no entry)."""
        return Passed(value, action, detail)

    @staticmethod
    def refused(reason: str, **detail: Any) -> "Refused":
        """A business refusal: the request ends ``failed`` with ``reason``; the requester is told."""
        return Refused(reason, detail)

    @staticmethod
    def needs_approval(
        *, approver: str, reason: str, deadline_hours: float, recipient: str | None = None
    ) -> "NeedsApproval":
        """Go on with the step's input only once ``approver`` has approved (:func:`approval_gate`)."""
        return NeedsApproval(approver, reason, deadline_hours, recipient)

    @staticmethod
    def completed(result: "WorkResult", action: str | None = None, **detail: Any) -> "Completed":
        """The workflow is done before its last step (an announcement scheduled for later, an
        offboarding deferred to the last day): after an audit entry ``action``, the request succeeds
        with ``result`` now and the remaining steps are skipped."""
        return Completed(result, action, detail)


@dataclass(frozen=True)
class Passed(Step):
    value: Any
    action: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused(Step):
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NeedsApproval(Step):
    approver: str
    reason: str
    deadline_hours: float
    recipient: str | None = None


@dataclass(frozen=True)
class Completed(Step):
    result: WorkResult
    action: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def item_of(subject: Any) -> WorkItem:
    """The request a step's input is about: the :class:`WorkItem` itself or the ``item`` it carries."""
    return subject if isinstance(subject, WorkItem) else subject.item


def _agent_of(subject: Any) -> str | None:
    """The agent a step's input belongs to, for its metrics (None when it carries no request)."""
    try:
        return item_of(subject).agent
    except AttributeError:
        return None


def notify_all(
    notifications: NotificationsResource,
    item: WorkItem,
    recipients: Sequence[str],
    title: str,
    body: str,
    *,
    key: str,
    detail: dict[str, Any] | None = None,
) -> list[str]:
    """Send one message to each recipient, once each (keyed ``notify:<key>:<recipient>``)."""
    for recipient in recipients:
        notifications.send(
            recipient,
            title,
            body,
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:{key}:{recipient}"),
            detail=detail,
        )
    return list(recipients)


def _step_outputs(
    context: dg.OpExecutionContext, subject: Any, outcome: Step, *, settles: bool = False
) -> Iterator[dg.Output]:
    """What a step's op does with its outcome: audit and hand on, refuse, or pass the approval gate;
    ``settles`` (a job's last step, :func:`settling_step`): a passed result also completes the request."""
    store: RequestStoreResource = context.resources.store
    notifications: NotificationsResource = context.resources.notifications
    item = item_of(subject)
    if isinstance(outcome, Refused):
        refuse(context, store, notifications, item, outcome.reason, **outcome.detail)
        yield dg.Output(None, output_name=REFUSED_OUTPUT)
    elif isinstance(outcome, NeedsApproval):
        gate = {"approver": outcome.approver, "reason": outcome.reason, "recipient": outcome.recipient}
        if approval_gate(
            context, store.get_store(), notifications, item, deadline_hours=outcome.deadline_hours, **gate
        ):
            yield dg.Output(subject)
    elif isinstance(outcome, Passed):
        if outcome.action is not None:
            audit(store.get_store(), item, outcome.action, **outcome.detail)
        if settles:
            succeed(context, store.get_store(), outcome.value)
        yield dg.Output(outcome.value)
    elif isinstance(outcome, Completed):
        if outcome.action is not None:
            audit(store.get_store(), item, outcome.action, **outcome.detail)
        succeed(context, store.get_store(), outcome.result)
    else:
        raise TypeError(f"a workflow step returned {outcome!r}, not a Step")


CREDENTIAL_FAILURES = frozenset({401, 403, 407})
"""Vendor answers that refuse EAS itself (credentials, a missing permission): a misconfiguration that
fails the run (retried, then the failure sensor), never a business refusal of the request."""


def _outcome(fn: Callable[..., Step], subject: Any, resources: dict[str, Any]) -> Step:
    """What a step's function did. A vendor's refusal it let through (:class:`VendorRejected`: the
    system answered and said no) is a business refusal of the request, final: retrying the op or the
    run would only be refused again."""
    try:
        return fn(subject, **resources)
    except VendorRejected as exc:
        if exc.status in CREDENTIAL_FAILURES:
            raise
        return Step.refused(str(exc), step=fn.__name__)


REFUSED_OUTPUT = "refused"
"""A workflow step's second output, yielded only when the step refused the request: what starts the
job's refusal saga (:func:`~eas_pipelines.agents.saga.refusal_saga_op`), which is skipped otherwise."""


def workflow_step(
    out: type,
    *,
    optional: bool = True,
    compensate: Compensation | Callable[..., str | None] | None = None,
) -> Callable[[Callable[..., Step]], dg.OpDefinition]:
    """Make a workflow step's op from a plain function ``fn(subject, *, <resource>: ...) -> Step``.

    The op (named as the function, described by its docstring) takes the previous step's output
    (typed as ``fn``'s first parameter), gives ``fn`` the resources its keyword-only parameters
    name, and outputs ``out``: the passed value, or nothing after a refusal, while an approval is
    pending or once the workflow completed early. ``optional=False`` (the last step, which hands on
    the result) says that the step goes on whenever it can; its output stays optional all the same,
    since any step may be refused (by the vendor too: :func:`_outcome`), and a required output left
    empty would fail the run after the request was already settled.
    ``store``, ``notifications`` and ``policy`` are always required: refusals and approvals use them.

    A refusal also yields the op's second output, :data:`REFUSED_OUTPUT` (nothing but a signal): the
    job's refusal saga depends on those outputs alone, so that it runs only in a run that refused.

    ``compensate`` (optional): the step's compensating action (:mod:`eas_pipelines.agents.saga`),
    a function ``undo(done: CompletedStep, *, <resource>: ...) -> str | None``. When the step passes,
    the op records it (with the step's audit detail) before handing its output on, so that a
    refusal later in the run, a rollback or a failed run can undo it, newest step first (the op is
    tagged with the compensation's name). Steps without one are unchanged.

    ``fn`` raising the vendor's :class:`VendorRejected` is a refusal of the request (see
    :func:`_outcome`); any other exception fails the op, which the job's retry policy retries.
    """
    undo = as_compensation(compensate) if compensate is not None else None

    def build(fn: Callable[..., Step], *, settles: bool = False) -> dg.OpDefinition:
        params = list(inspect.signature(fn).parameters.values())
        keys = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        in_type = get_type_hints(fn).get(params[0].name, Any)

        @dg.op(
            name=fn.__name__,
            description=inspect.getdoc(fn),
            ins={"subject": dg.In(in_type)},
            out={  # see the docstring: any step may end the workflow
                "result": dg.Out(out, is_required=False),
                REFUSED_OUTPUT: dg.Out(
                    dg.Nothing, is_required=False, description="yielded when this step refused the request"
                ),
            },
            required_resource_keys={"store", "notifications", "policy", *keys},
            tags={TAG_COMPENSATION: undo.name} if undo is not None else None,
        )
        def step(context: dg.OpExecutionContext, subject: Any) -> Iterator[dg.Output]:
            # eas_step_duration_seconds: the step, its saga record and its audit/refusal/approval.
            with metrics.timed_step(lambda: _agent_of(subject), fn.__name__), traced_step(context):
                outcome = _outcome(fn, subject, {key: getattr(context.resources, key) for key in keys})
                if undo is not None and isinstance(outcome, Passed):
                    item = item_of(subject)
                    record_completed(
                        context.resources.store.get_store(),
                        item.request_id,
                        item.agent,
                        step=fn.__name__,
                        compensate=undo,
                        action=outcome.action,
                        detail=outcome.detail,
                        run_id=item.run_id,
                    )
                yield from _step_outputs(context, subject, outcome, settles=settles)

        return step

    def register(fn: Callable[..., Step]) -> dg.OpDefinition:
        op = build(fn)
        if isinstance(out, type) and issubclass(out, WorkResult):
            _SETTLING_VARIANTS[op] = functools.cache(functools.partial(build, fn, settles=True))
        return op

    return register


_SETTLING_VARIANTS: dict[dg.OpDefinition, Callable[[], dg.OpDefinition]] = {}
"""A :class:`WorkResult` step's op -> (once) the same step whose op also completes the request."""


def settling_step(step: dg.OpDefinition) -> dg.OpDefinition | None:
    """``step`` as a job's last step: the same op, named the same, that also completes the request
    (``running -> succeeded``, as :func:`complete_request` does) once the step passes, so that the job
    needs no op of its own for it. None for a step that does not hand on the :class:`WorkResult` (a
    plain op, another output): its job ends with :func:`complete_request`.

    A retry of the op after the request completed finds it succeeded and completes nothing twice
    (:func:`succeed`); the step itself runs again, as any retried step does (its effects are keyed by
    the request)."""
    variant = _SETTLING_VARIANTS.get(step)
    return variant() if variant is not None else None


def chain_step(step: dg.OpDefinition, subject: Any, refusals: list[Any]) -> Any:
    """Inside a job's composition: call ``step`` on ``subject``, keep its ``refused`` output (a
    :func:`workflow_step` op's) in ``refusals``, and return what it hands on. A plain op in a workflow's
    steps (one output, never refusing) is called as it is."""
    if REFUSED_OUTPUT not in {out.name for out in step.output_defs}:
        return step(subject)
    handed_on, refused = step(subject)
    refusals.append(refused)
    return handed_on


def chain_steps(steps: Sequence[dg.OpDefinition], subject: Any, refusals: list[Any]) -> Any:
    """:func:`chain_step` over ``steps`` in order; what the last hands on."""
    for step in steps:
        subject = chain_step(step, subject, refusals)
    return subject


def finish_steps(subject: Any, last: dg.OpDefinition, refusals: list[Any]) -> None:
    """Inside a job's composition: the workflow's ``last`` step, then the request completed: by the
    step's own op where it hands on the :class:`WorkResult` (:func:`settling_step`: one op fewer per
    run), else by :func:`complete_request`."""
    settling = settling_step(last)
    if settling is not None:
        chain_step(settling, subject, refusals)
    else:
        complete_request(chain_step(last, subject, refusals))


def workflow_job(
    *, name: str, agent: str, description: str, steps: Sequence[dg.OpDefinition]
) -> dg.JobDefinition:
    """An agent's workflow job: :func:`start_request`, ``steps`` in order, the request completed by the
    last step's op (or by :func:`complete_request` where the last step is a plain op).

    Each step gets the output of the one before it (the first one the :class:`WorkItem`); the last
    one outputs the :class:`WorkResult` that completes the request. ``name`` is the job of the
    intents it serves in :mod:`eas_pipelines.routing`; every op gets :data:`RETRY_POLICY` from the
    job and the run is tagged with the agent.

    A job with compensable steps ends with :func:`~eas_pipelines.agents.saga.refusal_saga_op`: when
    a step refuses the request, what the earlier steps did is undone in the same run; when none does,
    the saga's op is skipped.
    """
    compensations = step_compensations(steps)
    undo = refusal_saga_op(name, compensations) if compensations else None

    @dg.job(name=name, description=description, tags={TAG_AGENT: agent}, op_retry_policy=RETRY_POLICY)
    def workflow() -> None:
        item = start_request()
        refusals: list[Any] = []
        finish_steps(chain_steps(steps[:-1], item, refusals), steps[-1], refusals)
        if undo is not None:
            undo(item, after=refusals)

    return workflow
