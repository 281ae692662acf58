"""Bulk fan-out: one request that carries many items (2,000 announcement recipients, 5,000 invoice
rows) runs them as Dagster dynamic outputs, in batches, each item's outcome isolated and reported.

Why a module of its own: every agent with a bulk request needs the same shape, and getting it right
once matters more than the item work itself. A fan-out job (:func:`fanout_job`) is

    start_request -> plan steps -> <prefix>_batches (DynamicOut) -> <prefix>_batch (mapped)
                  -> <prefix>_summary (collected) -> finish steps (the last completes the request)

- The plan steps are ordinary :func:`~eas_pipelines.agents.common.workflow_step` ops; the last one
  outputs a :class:`FanoutPlan` (the request, the items, what every item shares). A refusal there
  ends the request before anything is sent.
- ``<prefix>_batches`` splits the items into batches of at most ``batch_size`` (run config
  ``ops.<prefix>_batches.config.batch_size``, default :data:`DEFAULT_BATCH_SIZE`), one dynamic
  output each: a batch is the unit Dagster retries and shows in the UI, and at most ``batch_size``
  items are ever in flight at once (a batch runs its items in a thread pool of at most ``workers``).
- ``<prefix>_batch`` runs the agent's item function on each item. An item that fails never fails
  its neighbours: a refusal (:class:`ItemRefused`, or the vendor's :class:`VendorRejected`) is
  final and reported; any other error (a connector outage after its own retries, an open breaker)
  makes Dagster retry the batch (the job's retry policy); every side effect is keyed by request and
  item, so a retried batch repeats nothing already done. After the last retry, the items still
  failing are reported as failed, unless nothing in the batch worked and every failure was an
  outage: then the run fails (the connector is down; the failure sensor retries the request).
- ``<prefix>_summary`` counts what happened (``fanout.completed``: total, succeeded, failed and the
  failures) and hands a :class:`FanoutSummary` to the finish steps, the last of which returns the
  :class:`~eas_pipelines.agents.common.WorkResult` (default: :data:`report_fanout`, which tells the
  requester). The parent request succeeds with that per-item summary.
"""

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import dagster as dg
from pydantic import Field

from eas_pipelines.agents.common import (
    RETRY_POLICY,
    Step,
    WorkItem,
    WorkResult,
    audit,
    chain_steps,
    finish_steps,
    start_request,
    workflow_step,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import refusal_saga_op, step_compensations
from eas_pipelines.connectors.base import ConnectorResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.runs import TAG_AGENT, run_config_for

DEFAULT_BATCH_SIZE = 100
"""Items per batch (and so the most in flight at once) when the run config does not say."""
DEFAULT_WORKERS = 8
"""Threads a batch runs its items on: I/O-bound calls to vendors, most of the time waiting."""
MAX_REPORTED_FAILURES = 100
"""Failures listed by name in the audit and the requester's summary; the count is always complete."""

Outcome = Literal["done", "refused", "error"]


class ItemRefused(Exception):
    """An item function's business refusal of one item (unknown channel, no address...): final."""


class FanoutConfig(dg.Config):
    """How a fan-out request is cut up: run config of its ``<prefix>_batches`` op."""

    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, ge=1, le=10_000, description="items per batch (most in flight at once)"
    )
    workers: int = Field(default=DEFAULT_WORKERS, ge=1, le=100, description="threads per batch")


@dataclass(frozen=True)
class FanoutItem:
    """One item of a bulk request: ``key`` is unique in the request (its side effects are keyed by
    it), ``target`` what a person reads in the report ("#finance", "dana@example.com")."""

    key: str
    target: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FanoutPlan:
    """What a plan step hands to the fan-out: the request, its items and what they all share."""

    item: WorkItem
    noun: str  # what one item is, for the report ("recipient", "invoice")
    entries: tuple[FanoutItem, ...]
    shared: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FanoutBatch:
    """One batch, as one dynamic output carries it."""

    item: WorkItem
    noun: str
    index: int
    batches: int
    entries: tuple[FanoutItem, ...]
    shared: Mapping[str, Any]
    workers: int

    def key(self, entry: FanoutItem, step: str = "item") -> str:
        """Idempotency key of ``entry``'s side effect: "<request id>:<step>:<item key>"."""
        return self.item.key(f"{step}:{entry.key}")


@dataclass(frozen=True)
class ItemOutcome:
    key: str
    target: str
    outcome: Outcome
    detail: str  # the vendor's reference when done, else the reason

    @property
    def ok(self) -> bool:
        return self.outcome == "done"


@dataclass(frozen=True)
class BatchResult:
    item: WorkItem
    noun: str
    index: int
    outcomes: tuple[ItemOutcome, ...]
    shared: Mapping[str, Any]


@dataclass(frozen=True)
class FanoutSummary:
    """The parent request's per-item summary (what the finish steps report)."""

    item: WorkItem
    noun: str
    total: int
    succeeded: int
    failures: tuple[ItemOutcome, ...]
    shared: Mapping[str, Any]

    @property
    def failed(self) -> int:
        return len(self.failures)

    def line(self) -> str:
        """ "1,998 of 2,000 recipients done, 2 failed"."""
        return f"{self.succeeded:,} of {self.total:,} {self.noun}s done, {self.failed:,} failed"

    def failure_lines(self, limit: int = MAX_REPORTED_FAILURES) -> list[str]:
        lines = [f"{f.target}: {f.detail}" for f in self.failures[:limit]]
        if self.failed > limit:
            lines.append(f"... and {self.failed - limit:,} more")
        return lines


ItemFunction = Callable[..., str]
"""``fn(entry: FanoutItem, batch: FanoutBatch, *, <resource>: ...) -> reference``; raises
:class:`ItemRefused` / :class:`VendorRejected` to refuse the item, anything else for an outage."""


def batches_of(entries: Sequence[FanoutItem], size: int) -> list[tuple[FanoutItem, ...]]:
    """``entries`` cut into consecutive batches of at most ``size``, in order."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [tuple(entries[start : start + size]) for start in range(0, len(entries), size)]


def run_item(
    fn: ItemFunction, entry: FanoutItem, batch: FanoutBatch, resources: Mapping[str, Any]
) -> ItemOutcome:
    """One item's outcome; whatever it raises stays with it."""
    try:
        reference = fn(entry, batch, **resources)
    except (ItemRefused, VendorRejected) as exc:
        return ItemOutcome(entry.key, entry.target, "refused", str(exc))
    except Exception as exc:  # noqa: BLE001 - isolated per item: an outage, retried with the batch
        return ItemOutcome(entry.key, entry.target, "error", f"{type(exc).__name__}: {exc}")
    return ItemOutcome(entry.key, entry.target, "done", str(reference or ""))


def run_batch(fn: ItemFunction, batch: FanoutBatch, resources: Mapping[str, Any]) -> tuple[ItemOutcome, ...]:
    """Every item of ``batch`` through ``fn``, at most ``batch.workers`` at a time, in item order."""
    workers = max(1, min(batch.workers, len(batch.entries)))
    if workers == 1:
        return tuple(run_item(fn, entry, batch, resources) for entry in batch.entries)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
        return tuple(pool.map(lambda entry: run_item(fn, entry, batch, resources), batch.entries))


def summarize(results: Sequence[BatchResult]) -> FanoutSummary:
    """The parent's summary of every batch (batches in order)."""
    ordered = sorted(results, key=lambda result: result.index)
    first = ordered[0]
    outcomes = [outcome for result in ordered for outcome in result.outcomes]
    return FanoutSummary(
        item=first.item,
        noun=first.noun,
        total=len(outcomes),
        succeeded=sum(1 for outcome in outcomes if outcome.ok),
        failures=tuple(outcome for outcome in outcomes if not outcome.ok),
        shared=first.shared,
    )


def _failure_detail(failures: Sequence[ItemOutcome]) -> list[dict[str, str]]:
    return [{"target": f.target, "reason": f.detail} for f in failures[:MAX_REPORTED_FAILURES]]


def _split_op(prefix: str) -> dg.OpDefinition:
    @dg.op(
        name=f"{prefix}_batches",
        description="Cut the request's items into batches of at most batch_size, one dynamic output each.",
        ins={"plan": dg.In(FanoutPlan)},
        out=dg.DynamicOut(FanoutBatch),
        required_resource_keys={"store"},
    )
    def split(
        context: dg.OpExecutionContext, config: FanoutConfig, plan: FanoutPlan
    ) -> Iterator[dg.DynamicOutput]:
        store: RequestStoreResource = context.resources.store
        chunks = batches_of(plan.entries, config.batch_size)
        audit(
            store.get_store(),
            plan.item,
            "fanout.planned",
            items=len(plan.entries),
            batches=len(chunks),
            batch_size=config.batch_size,
            noun=plan.noun,
        )
        for index, chunk in enumerate(chunks):
            batch = FanoutBatch(
                plan.item, plan.noun, index, len(chunks), chunk, dict(plan.shared), config.workers
            )
            yield dg.DynamicOutput(batch, mapping_key=f"batch_{index:05d}")

    return split


def _batch_op(prefix: str, fn: ItemFunction) -> dg.OpDefinition:
    params = list(inspect.signature(fn).parameters.values())
    keys = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]

    @dg.op(
        name=f"{prefix}_batch",
        description=inspect.getdoc(fn),
        ins={"batch": dg.In(FanoutBatch)},
        out=dg.Out(BatchResult),
        required_resource_keys={"store", *keys},
    )
    def batch_op(context: dg.OpExecutionContext, batch: FanoutBatch) -> BatchResult:
        resources = {key: getattr(context.resources, key) for key in keys}
        for resource in resources.values():
            build = getattr(resource, "client", None)
            if isinstance(resource, ConnectorResource) and callable(build):
                build()  # the run's client, built once here rather than raced for by the threads
        outcomes = run_batch(fn, batch, resources)
        errors = [o for o in outcomes if o.outcome == "error"]
        label = f"batch {batch.index + 1}/{batch.batches} of request {batch.item.request_id}"
        if errors and context.retry_number < RETRY_POLICY.max_retries:
            # Raised, the job's retry policy runs the batch again (keyed: nothing done is repeated).
            raise RuntimeError(
                f"{label}: {len(errors)} item(s) failed transiently, first: {errors[0].detail}"
            )
        if errors and len(errors) == len(outcomes):
            raise dg.Failure(
                f"{label}: every item failed after {context.retry_number + 1} attempts "
                f"(the connector looks down): {errors[0].detail}",
                allow_retries=False,
            )
        failures = [o for o in outcomes if not o.ok]
        audit(
            context.resources.store.get_store(),
            batch.item,
            "fanout.batch",
            batch=batch.index,
            batches=batch.batches,
            items=len(outcomes),
            succeeded=len(outcomes) - len(failures),
            failed=len(failures),
            failures=_failure_detail(failures),
        )
        context.add_output_metadata(
            {"items": len(outcomes), "succeeded": len(outcomes) - len(failures), "failed": len(failures)}
        )
        return BatchResult(batch.item, batch.noun, batch.index, outcomes, batch.shared)

    return batch_op


def _summary_op(prefix: str) -> dg.OpDefinition:
    @dg.op(
        name=f"{prefix}_summary",
        description="Count every item's outcome and audit the per-item summary of the request.",
        ins={"results": dg.In(list[BatchResult])},
        out=dg.Out(FanoutSummary),
        required_resource_keys={"store"},
    )
    def summary_op(context: dg.OpExecutionContext, results: list[BatchResult]) -> FanoutSummary:
        summary = summarize(results)
        audit(
            context.resources.store.get_store(),
            summary.item,
            "fanout.completed",
            noun=summary.noun,
            total=summary.total,
            succeeded=summary.succeeded,
            failed=summary.failed,
            failures=_failure_detail(summary.failures),
        )
        context.add_output_metadata(
            {
                "total": summary.total,
                "succeeded": summary.succeeded,
                "failed": summary.failed,
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {line}" for line in summary.failure_lines()) or "none"
                ),
            }
        )
        return summary

    return summary_op


@workflow_step(WorkResult, optional=False)
def report_fanout(summary: FanoutSummary, *, notifications: NotificationsResource) -> Step:
    """Tell the requester how many items were done and which failed, and why."""
    item = summary.item
    failures = summary.failure_lines()
    body = (
        summary.line()
        + "."
        + ("\nFailed:\n" + "\n".join(f"- {line}" for line in failures) if failures else "")
    )
    notifications.send(
        item.requester,
        f"Request {item.request_id}: {summary.line()}",
        body,
        request_id=item.request_id,
        idempotency_key=item.key("notify:fanout"),
        detail={"total": summary.total, "failed": summary.failed},
    )
    result = WorkResult(
        item,
        summary.line(),
        {"total": summary.total, "succeeded": summary.succeeded, "failed": summary.failed},
    )
    return Step.passed(result, "fanout.reported", recipient=item.requester)


def fanout_job(
    *,
    name: str,
    agent: str,
    description: str,
    plan: Sequence[dg.OpDefinition],
    item: ItemFunction,
    finish: Sequence[dg.OpDefinition] = (report_fanout,),
    prefix: str | None = None,
) -> dg.JobDefinition:
    """A workflow job whose request fans out: ``plan`` steps (the last outputs a :class:`FanoutPlan`),
    ``item`` run on every item in batches, ``finish`` steps on the :class:`FanoutSummary` (the last
    outputs the :class:`WorkResult`). ``prefix`` names the fan-out ops (default: ``name``).

    As :func:`~eas_pipelines.agents.common.workflow_job`: compensable plan or finish steps make the job
    end with the refusal saga (:func:`~eas_pipelines.agents.saga.refusal_saga_op`)."""
    prefix = prefix or name
    split, batch_op, summary_op = _split_op(prefix), _batch_op(prefix, item), _summary_op(prefix)
    compensations = step_compensations([*plan, *finish])
    undo = refusal_saga_op(name, compensations) if compensations else None

    @dg.job(name=name, description=description, tags={TAG_AGENT: agent}, op_retry_policy=RETRY_POLICY)
    def workflow() -> None:
        work = start_request()
        refusals: list[Any] = []
        subject = chain_steps(plan, work, refusals)
        results = split(subject).map(batch_op)
        summary = summary_op(results.collect())
        finish_steps(chain_steps(finish[:-1], summary, refusals), finish[-1], refusals)
        if undo is not None:
            undo(work, after=refusals)

    return workflow


def fanout_run_config(job: dg.JobDefinition, request_id: str, **config: int) -> dict[str, Any]:
    """The run config of a fan-out job for ``request_id`` with its fan-out options (``batch_size``...)."""
    split = next(node.name for node in job.graph.node_defs if node.name.endswith("_batches"))
    run_config = run_config_for(request_id)
    run_config["ops"][split] = {"config": dict(config)}
    return run_config
