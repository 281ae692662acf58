"""Sagas: the compensating actions of workflow steps, recorded as they complete and run in reverse.

A workflow step that changes a business system (an invoice posted in SAP, an incident opened in
ServiceNow, leave booked in BambooHR) may declare a *compensation*: a plain function that undoes
that change through the same connector (``workflow_step(..., compensate=undo_fn)``). Why a saga and
not a transaction: the systems are separate vendors, none takes part in a distributed commit, so the
only way back is a forward action that each vendor offers (cancel, reverse, close).

The pieces, all in the audit log so that the trail reads as what happened:

- When a compensable step passes, its op writes :data:`RECORDED` on the request: the step, the
  compensation's registered name and the step's audit detail (what the compensation needs: the SAP
  document, the incident number, the time-off request id). Written before the step's output is
  handed on, so that nothing downstream can have happened without it.
- :func:`run_compensations` runs the compensations of a request's recorded steps, newest first,
  each exactly once: a step with a :data:`COMPENSATED` or :data:`SKIPPED` entry is not run again (a
  rollback retried after an outage resumes where it stopped). A vendor's refusal is recorded as
  :data:`COMPENSATION_FAILED` and the saga goes on with the earlier steps (a later rollback tries
  the failed ones again); an outage propagates, for the op's retries.
- A compensation returns what it did (audited), or ``None`` when there is nothing of this request's
  to undo (an escalation of a ticket somebody else opened), recorded as skipped.

Who runs them:

- a workflow whose later step is refused (a business refusal: the vendor's :class:`VendorRejected`
  answer, a policy check): the request ends ``failed`` with the refusal as its reason, and the same
  run undoes what its earlier steps did. :func:`workflow_job <eas_pipelines.agents.common.workflow_job>`
  adds :func:`refusal_saga_op` to every job with a compensable step: it runs after a step refused the
  request (and is skipped otherwise), and acts only when this run failed the request
  (:func:`compensate_refusal`);
- the recovery agent's ``recovery_rollback`` job ("roll back request X");
- its ``recovery_saga_compensation`` job, which the failure sensor launches for a request whose run
  failed for good (:func:`eas_pipelines.agents.recovery.failed_runs.saga_run_request`), and so also
  for the compensations a refusal saga could not finish (a vendor down while undoing: its op fails
  after its retries, and with it the run).

Kept free of :mod:`eas_pipelines.agents.common` (which imports this module) so that the skeleton
only registers and records here; the request a workflow carries is read by its attributes.
"""

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.store import RequestNotFound, RequestStore, Status

RECORDED = "saga.step_completed"
"""Audit action: a compensable step completed; its detail holds what the compensation needs."""
COMPENSATED = "saga.compensated"
"""Audit action: a step's compensation ran and undid it."""
SKIPPED = "saga.compensation_skipped"
"""Audit action: a step's compensation found nothing of this request's to undo."""
COMPENSATION_FAILED = "saga.compensation_failed"
"""Audit action: the vendor refused a compensation (a later rollback tries it again)."""
SETTLED = frozenset({COMPENSATED, SKIPPED})
"""Actions after which a step's compensation is never run again."""
TAG_COMPENSATION = "eas/compensation"
"""Op tag of a compensable workflow step: its compensation's registered name (the UI shows it)."""


@dataclass(frozen=True)
class CompletedStep:
    """A compensable step that completed, as its :data:`RECORDED` audit entry says."""

    request_id: str
    step: str
    compensation: str
    action: str | None
    detail: dict[str, Any]
    run_id: str | None = None
    agent: str = ""
    entry_id: int = 0

    def key(self, what: str = "undo") -> str:
        """Idempotency key of the compensation's side effect ("<request id>:<what>:<step>")."""
        return f"{self.request_id}:{what}:{self.step}"


@dataclass(frozen=True)
class Compensation:
    """A registered compensating action: ``fn(done: CompletedStep, *, <resource>: ...) -> str | None``."""

    name: str
    fn: Callable[..., str | None]
    resource_keys: tuple[str, ...]

    def __call__(self, done: CompletedStep, resources: Any) -> str | None:
        """Run it with the resources its keyword-only parameters name, taken from ``resources``."""
        return self.fn(done, **{key: _resource(resources, key) for key in self.resource_keys})


@dataclass(frozen=True)
class Outcome:
    """What one compensation did: ``compensated``, ``skipped`` or ``failed``, and the note audited."""

    step: str
    status: str
    note: str

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "status": self.status, "note": self.note}


@dataclass(frozen=True)
class SagaReport:
    """Every compensation a saga pass ran (newest step first)."""

    request_id: str
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    def of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def complete(self) -> bool:
        """No compensation was refused: everything recorded is undone (or had nothing to undo)."""
        return not self.of("failed")

    def summary(self) -> str:
        done, skipped, failed = self.of("compensated"), self.of("skipped"), self.of("failed")
        parts = [f"{len(done)} step(s) undone"]
        if skipped:
            parts.append(f"{len(skipped)} with nothing to undo")
        if failed:
            parts.append(f"{len(failed)} failed ({'; '.join(f'{o.step}: {o.note}' for o in failed)})")
        return ", ".join(parts)


_REGISTRY: dict[str, Compensation] = {}


def _resource(resources: Any, key: str) -> Any:
    return resources[key] if isinstance(resources, Mapping) else getattr(resources, key)


def compensation(fn: Callable[..., str | None]) -> Compensation:
    """Register ``fn`` as a compensation (named by module and qualified name) and return it.

    Its first parameter is the :class:`CompletedStep`; its keyword-only parameters name the
    resources it needs (as a workflow step's do). Registering the same function twice is harmless.
    """
    name = f"{fn.__module__}.{fn.__qualname__}"
    keys = tuple(
        p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    )
    found = _REGISTRY.get(name)
    if found is not None and found.fn is not fn:
        raise ValueError(f"two compensations are named {name}")
    registered = Compensation(name, fn, keys)
    _REGISTRY[name] = registered
    return registered


def as_compensation(value: Compensation | Callable[..., str | None]) -> Compensation:
    """A :class:`Compensation` for ``workflow_step(compensate=...)``: registered if it is a function."""
    return value if isinstance(value, Compensation) else compensation(value)


def registered() -> dict[str, Compensation]:
    """The compensations known to this process (those of the agents imported so far)."""
    return dict(_REGISTRY)


def compensation_resource_keys() -> frozenset[str]:
    """Every resource a registered compensation needs: what an op that runs sagas must require."""
    return frozenset(key for comp in _REGISTRY.values() for key in comp.resource_keys)


def record_completed(
    store: RequestStore,
    request_id: str,
    agent: str,
    *,
    step: str,
    compensate: Compensation,
    action: str | None,
    detail: Mapping[str, Any],
    run_id: str | None,
) -> None:
    """Write the :data:`RECORDED` entry of a compensable step that just completed."""
    store.audit(
        request_id,
        agent,
        RECORDED,
        {
            "run_id": run_id,
            "step": step,
            "compensation": compensate.name,
            "action": action,
            "detail": dict(detail),
        },
    )


def completed_steps(store: RequestStore, request_id: str) -> list[CompletedStep]:
    """The request's compensable steps whose compensation has not settled, newest first.

    A step recorded twice (a run resumed after an approval repeats an idempotent step) counts once,
    as its latest record.
    """
    trail = store.audit_trail(request_id)
    settled = {e.detail.get("step") for e in trail if e.action in SETTLED}
    latest: dict[str, CompletedStep] = {}
    for entry in trail:
        if entry.action != RECORDED or entry.detail.get("step") in settled:
            continue
        step = str(entry.detail.get("step"))
        latest.pop(step, None)  # keep insertion order = order of the latest records
        latest[step] = CompletedStep(
            request_id=request_id,
            step=step,
            compensation=str(entry.detail.get("compensation")),
            action=entry.detail.get("action"),
            detail=dict(entry.detail.get("detail") or {}),
            run_id=entry.detail.get("run_id"),
            agent=entry.actor,
            entry_id=entry.id,
        )
    return list(reversed(latest.values()))


def was_compensated(store: RequestStore, request_id: str) -> bool:
    """Whether a saga has undone any step of the request (a retry of it would act on a rolled-back state)."""
    return any(e.action == COMPENSATED for e in store.audit_trail(request_id))


def run_compensations(
    store: RequestStore, request_id: str, resources: Any, *, actor: str, reason: str, run_id: str | None
) -> SagaReport:
    """Run the compensations of ``request_id``'s completed steps in reverse order, each audited.

    ``resources`` holds (by key or attribute: a Dagster op's ``context.resources``) what the
    compensations name. See the module docstring for what is retried and what is recorded.
    """
    outcomes = []
    for done in completed_steps(store, request_id):
        comp = _REGISTRY.get(done.compensation)
        base = {"run_id": run_id, "step": done.step, "compensation": done.compensation, "reason": reason}
        if comp is None:
            note = f"no compensation {done.compensation} is loaded in this code location"
            store.audit(request_id, actor, COMPENSATION_FAILED, {**base, "error": note})
            outcomes.append(Outcome(done.step, "failed", note))
            continue
        try:
            note = comp(done, resources)
        except VendorRejected as exc:
            store.audit(request_id, actor, COMPENSATION_FAILED, {**base, "error": str(exc)})
            outcomes.append(Outcome(done.step, "failed", str(exc)))
            continue
        if note is None:
            store.audit(request_id, actor, SKIPPED, base)
            outcomes.append(Outcome(done.step, "skipped", "nothing of this request's to undo"))
        else:
            store.audit(request_id, actor, COMPENSATED, {**base, "undone": note})
            outcomes.append(Outcome(done.step, "compensated", note))
    return SagaReport(request_id, tuple(outcomes))


# --- the saga of a refused workflow -----------------------------------------------------------------


def step_compensations(steps: Iterable[dg.OpDefinition]) -> list[Compensation]:
    """The compensations the ``steps`` declare (their :data:`TAG_COMPENSATION` tag), in step order."""
    names = [step.tags.get(TAG_COMPENSATION) for step in steps]
    return [_REGISTRY[name] for name in names if name]


def compensate_refusal(
    store: RequestStore, item: Any, resources: Any, log: Any | None = None
) -> SagaReport | None:
    """Undo the completed steps of ``item``'s request when this run (``item.run_id``) failed it.

    ``item`` is the workflow's request (``request_id``, ``run_id``, ``agent``, ``client_id``, ``text``);
    ``resources`` holds ``notifications`` and what the compensations name. Nothing happens unless the
    request is ``failed`` by this run (its latest) and has compensable steps left: a request that
    succeeded, waits for an approval or was failed by another run is left as it is. The request keeps
    the refusal as its reason; the saga's outcome is audited on it and told to the requester. None
    when there was nothing to do.
    """
    try:
        record = store.get(item.request_id)
    except RequestNotFound:
        return None
    if record.status is not Status.FAILED or not record.run_ids or record.run_ids[-1] != item.run_id:
        return None
    if not completed_steps(store, record.id):
        return None
    refusal = record.last_error or "its workflow was refused"
    report = run_compensations(
        store, record.id, resources, actor=item.agent, reason=f"refused: {refusal}", run_id=item.run_id
    )
    outcomes = [o.as_dict() for o in report.outcomes]
    store.audit(
        record.id,
        item.agent,
        "saga.completed" if report.complete else "saga.incomplete",
        {"run_id": item.run_id, "reason": refusal, "trigger": "refusal", "outcomes": outcomes},
    )
    undone = "\n".join(f"- {o.note}" for o in report.of("compensated")) or "- nothing needed undoing"
    _resource(resources, "notifications").send(
        record.client_id,
        f"Request {record.id} refused: its changes were undone",
        f'Your request "{record.text}" was refused ({refusal}). What it had already changed was undone:\n'
        f"{undone}" + ("" if report.complete else f"\nNot undone: {report.summary()}."),
        request_id=record.id,
        idempotency_key=f"{record.id}:notify:saga:{item.run_id}",
        detail={"outcomes": outcomes},
    )
    if log is not None:
        log.info(f"request {record.id} refused ({refusal}): {report.summary()}")
    return report


def refusal_saga_op(job_name: str, compensations: Sequence[Compensation]) -> dg.OpDefinition:
    """The op a workflow job with compensable steps ends with (:func:`compensate_refusal`).

    Named after its job (its resources are that job's compensations'); it takes the request from
    ``start_request`` and, as a fan-in of ordering-only inputs, every step's ``refused`` output, which
    a step yields only when it refuses the request: the op runs after a refusal and is skipped in a run
    that refused nothing (a fan-in is skipped only when all of its inputs are), at the cost of one
    skipped step instead of a whole op in every run. A refusal skips the steps after it, so nothing is
    left to run when it undoes. A run that fails (an outage) abandons it: the failure sensor's saga job
    undoes that run's steps.
    """
    keys = {"store", "notifications", *(key for comp in compensations for key in comp.resource_keys)}

    @dg.op(
        name=f"{job_name}_undo_on_refusal",
        description="If a step refused the request, undo what the earlier steps did (saga), newest first.",
        ins={"item": dg.In(description="the request"), "after": dg.In(dg.Nothing)},
        required_resource_keys=keys,
    )
    def undo_on_refusal(context: dg.OpExecutionContext, item: Any) -> None:
        compensate_refusal(context.resources.store.get_store(), item, context.resources, context.log)

    return undo_on_refusal
