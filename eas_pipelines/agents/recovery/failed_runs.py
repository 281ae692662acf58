"""The failure path of a saga: a request whose run failed for good has its completed steps undone.

The failure sensor (:mod:`eas_pipelines.sensors.failures`) applies the recovery rule to a failed
run; once the request is ``failed`` for good (its attempts used up, by the sensor or by the
fast-lane worker that saw the failure first) and the failed run was its latest, it asks
:func:`saga_run_request` for a run of :data:`recovery_saga_compensation`, which runs the
compensations of the request's completed steps, newest first, each audited on the request. One run
per failed run (its run key), and the job itself runs each compensation once, so a sensor tick
repeated or a run retried undoes nothing twice. A request retried by hand before the run starts is
left alone (it is ``queued`` again, not failed).
"""

import dagster as dg

from eas_pipelines.agents.common import RETRY_POLICY
from eas_pipelines.agents.recovery.jobs import SAGA_RESOURCE_KEYS
from eas_pipelines.agents.recovery.targets import AGENT
from eas_pipelines.agents.saga import completed_steps, run_compensations
from eas_pipelines.runs import TAG_AGENT
from eas_pipelines.store import RequestNotFound, RequestStore, Status

SAGA_JOB = "recovery_saga_compensation"
SAGA_OP = "compensate_failed_request"
TAG_SAGA_OF = "eas/saga_of"
"""Tag of a compensation run: the request it undoes (not ``eas/request_id``: the run does not own
the request, and its failure must not be read as the request's)."""


class SagaConfig(dg.Config):
    """Which failed request to compensate, and why it failed (for the audit and the requester)."""

    request_id: str
    reason: str = "its run failed"


@dg.op(
    name=SAGA_OP,
    description="Undo the completed steps of a request that failed for good, newest first.",
    required_resource_keys=SAGA_RESOURCE_KEYS,
)
def compensate_failed_request(context: dg.OpExecutionContext, config: SagaConfig) -> None:
    requests = context.resources.store.get_store()
    record = requests.get(config.request_id)
    if record.status is not Status.FAILED:
        context.log.info(f"request {record.id} is {record.status}, not failed: nothing undone")
        return
    reason = f"request failed: {config.reason}"
    report = run_compensations(
        requests, record.id, context.resources, actor=AGENT, reason=reason, run_id=context.run_id
    )
    if not report.outcomes:
        return
    outcomes = [o.as_dict() for o in report.outcomes]
    requests.audit(
        record.id,
        AGENT,
        "saga.completed" if report.complete else "saga.incomplete",
        {"run_id": context.run_id, "reason": config.reason, "outcomes": outcomes},
    )
    undone = "\n".join(f"- {o.note}" for o in report.of("compensated")) or "- nothing needed undoing"
    context.resources.notifications.send(
        record.client_id,
        f"Request {record.id} failed: its changes were undone",
        f'Your request "{record.text}" failed ({config.reason}). What it had changed was undone:\n'
        f"{undone}" + ("" if report.complete else f"\nNot undone: {report.summary()}."),
        request_id=record.id,
        idempotency_key=f"{record.id}:notify:saga:{context.run_id}",
        detail={"outcomes": outcomes},
    )
    context.log.info(f"request {record.id}: {report.summary()}")


@dg.job(
    name=SAGA_JOB,
    description="Compensate a failed request's completed steps (launched by the failure sensor).",
    tags={TAG_AGENT: AGENT},
    op_retry_policy=RETRY_POLICY,
)
def recovery_saga_compensation() -> None:
    compensate_failed_request()


def saga_run_request(store: RequestStore, request_id: str, run_id: str) -> dg.RunRequest | None:
    """A run of :data:`recovery_saga_compensation` for the request of failed run ``run_id``, when
    the request has failed for good after that run and has completed steps to undo; else None."""
    try:
        record = store.get(request_id)
    except RequestNotFound:
        return None
    if record.status is not Status.FAILED or (record.run_ids and record.run_ids[-1] != run_id):
        return None
    if not completed_steps(store, request_id):
        return None
    config = SagaConfig(request_id=request_id, reason=record.last_error or "its run failed")
    return dg.RunRequest(
        run_key=f"saga:{request_id}:{run_id}",
        job_name=SAGA_JOB,
        run_config={"ops": {SAGA_OP: {"config": config.model_dump()}}},
        tags={TAG_SAGA_OF: request_id, TAG_AGENT: AGENT},
    )
