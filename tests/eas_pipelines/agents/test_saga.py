"""The saga: compensable steps recorded as they complete, compensations run newest first, once each,
audited; and the failure path (a run that fails for good has its completed steps undone).

The failure path runs end to end: a ticket run opens its ServiceNow incident, then fails on Slack
(down) until its attempts are used up; the failure sensor settles the request ``failed`` and asks
for the saga run, which cancels the incident (read back through the connector's client).
"""

from __future__ import annotations

import uuid

import dagster as dg

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.hr.lifecycle import hr_onboarding, work_email
from eas_pipelines.agents.recovery.failed_runs import (
    SAGA_JOB,
    recovery_saga_compensation,
    saga_run_request,
)
from eas_pipelines.agents.saga import (
    COMPENSATED,
    COMPENSATION_FAILED,
    RECORDED,
    SKIPPED,
    CompletedStep,
    compensation,
    completed_steps,
    record_completed,
    registered,
    run_compensations,
)
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.servicenow import INCIDENT_CANCELED
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.runs import run_config_for, run_tags_for
from eas_pipelines.sensors import request_failure_sensor
from eas_pipelines.store import RequestStore, Status
from eas_sandbox.faults import Fault
from tests.eas_pipelines.agents.test_customer_service_tickets import ticket_of
from tests.eas_pipelines.agents.test_hr_lifecycle import fresh_name
from tests.eas_pipelines.dagster_support import entity, make_resources, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

UNDONE: list[str] = []
"""What the test compensations below undid, in order (they touch no vendor)."""


@compensation
def undo_first(done: CompletedStep) -> str | None:
    UNDONE.append(f"first:{done.detail['n']}")
    return f"undid first {done.detail['n']}"


@compensation
def undo_second(done: CompletedStep) -> str | None:
    UNDONE.append("second")
    return None  # nothing of this request's to undo


@compensation
def undo_refused(done: CompletedStep) -> str | None:
    raise VendorRejected("vendor: already archived", status=409)


def running_request(store: RequestStore) -> str:
    record = queued_request(store, "open a ticket: printer on fire", "customer_service.ticket_create", [])
    store.transition(
        record.id, Status.RUNNING, actor="test", expected=Status.QUEUED, run_id="r1", attempt=True
    )
    return record.id


def record(store: RequestStore, request_id: str, step: str, undo, n: int = 0) -> None:
    record_completed(
        store,
        request_id,
        "test",
        step=step,
        compensate=undo,
        action=f"{step}.done",
        detail={"n": n},
        run_id="r1",
    )


def test_compensations_run_newest_first_once_each_and_are_audited(store):
    request_id = running_request(store)
    UNDONE.clear()
    record(store, request_id, "one", undo_first, n=1)
    record(store, request_id, "two", undo_second)
    record(store, request_id, "one", undo_first, n=2)  # a re-run repeated step one: its latest record counts

    assert [s.step for s in completed_steps(store, request_id)] == ["one", "two"]
    report = run_compensations(store, request_id, {}, actor="recovery", reason="test", run_id="r2")

    assert UNDONE == ["first:2", "second"]
    assert [(o.step, o.status) for o in report.outcomes] == [("one", "compensated"), ("two", "skipped")]
    assert report.complete
    actions = [e.action for e in store.audit_trail(request_id) if e.action.startswith("saga.")]
    assert actions == [RECORDED, RECORDED, RECORDED, COMPENSATED, SKIPPED]
    # Settled steps are never run again: a second pass has nothing to do.
    again = run_compensations(store, request_id, {}, actor="recovery", reason="test", run_id="r3")
    assert again.outcomes == () and UNDONE == ["first:2", "second"]


def test_a_refused_compensation_is_reported_and_the_earlier_steps_still_undone(store):
    request_id = running_request(store)
    UNDONE.clear()
    record(store, request_id, "first", undo_first, n=7)
    record(store, request_id, "archive", undo_refused)

    report = run_compensations(store, request_id, {}, actor="recovery", reason="test", run_id="r2")

    assert [(o.step, o.status) for o in report.outcomes] == [("archive", "failed"), ("first", "compensated")]
    assert not report.complete and "already archived" in report.summary()
    (failed,) = [e for e in store.audit_trail(request_id) if e.action == COMPENSATION_FAILED]
    assert failed.detail["step"] == "archive" and "already archived" in failed.detail["error"]
    # The failed one stays pending: a later rollback tries it again.
    assert [s.step for s in completed_steps(store, request_id)] == ["archive"]


def test_a_compensation_this_code_location_does_not_know_fails_cleanly(store):
    request_id = running_request(store)
    store.audit(request_id, "test", RECORDED, {"step": "gone", "compensation": "nowhere.undo", "detail": {}})
    (outcome,) = run_compensations(store, request_id, {}, actor="recovery", reason="t", run_id=None).outcomes
    assert outcome.status == "failed" and "nowhere.undo" in outcome.note


def test_workflow_step_records_a_compensable_step_only_when_it_passes(store, eas_resources, dagster_instance):
    @workflow_step(WorkItem, compensate=undo_first)
    def saga_test_step(item: WorkItem) -> Step:
        """A compensable step: passes unless the text says "refuse"."""
        if "refuse" in item.text:
            return Step.refused("told to refuse")
        return Step.passed(item, "test.done", n=5)

    @workflow_step(WorkResult, optional=False)
    def saga_test_finish(item: WorkItem) -> Step:
        """The last step."""
        return Step.passed(WorkResult(item, "done"))

    job = workflow_job(
        name="customer_service_ticket_routing",  # a routed job name: start_request finds the agent
        agent="customer_service",
        description="saga test",
        steps=(saga_test_step, saga_test_finish),
    )
    passed = queued_request(store, "open a ticket", "customer_service.ticket_create", [])
    refused = queued_request(store, "refuse this ticket", "customer_service.ticket_create", [])

    assert run_workflow(job, passed.id, dagster_instance, eas_resources, store).success
    assert run_workflow(job, refused.id, dagster_instance, eas_resources, store).success

    (done,) = completed_steps(store, passed.id)
    assert (done.step, done.action, done.detail, done.compensation) == (
        "saga_test_step",
        "test.done",
        {"n": 5},
        f"{__name__}.undo_first",
    )
    assert completed_steps(store, refused.id) == []
    assert store.get(refused.id).status is Status.FAILED


def test_the_existing_agents_declare_their_compensations():
    names = set(registered())
    for name in (
        "eas_pipelines.agents.finance.jobs.reverse_posted_invoice",
        "eas_pipelines.agents.customer_service.jobs.cancel_opened_ticket",
        "eas_pipelines.agents.hr.jobs.cancel_booked_leave",
    ):
        assert name in names


def test_a_run_that_fails_for_good_has_its_completed_steps_undone(
    store,
    migrated_database_url,
    redis_url,
    redis_key_prefix,
    dagster_instance,
    sandbox_session,
    servicenow,
):
    resources = make_resources(
        migrated_database_url, redis_url, redis_key_prefix, WorkflowPolicyResource(max_attempts=1)
    )
    text = f"open a ticket: the invoice portal shows a blank page ({uuid.uuid4().hex[:6]})"
    record = queued_request(store, text, "customer_service.ticket_create", [], lane="standard")

    faults = sandbox_session.sandbox.faults
    faults.add(Fault(kind="error", vendor="slack", rate=1.0))
    try:
        failed_run = run_workflow(
            customer_service_ticket_routing, record.id, dagster_instance, resources, store
        )
    finally:
        faults.clear()
    assert not failed_run.success
    (incident,) = ticket_of(servicenow, record.id)  # opened before the notification step failed
    assert incident.state != INCIDENT_CANCELED

    context = dg.build_run_status_sensor_context(
        sensor_name="request_failure_sensor",
        dagster_event=failed_run.get_run_failure_event(),
        dagster_instance=dagster_instance,
        dagster_run=dagster_instance.get_run_by_id(failed_run.run_id),
        resources={key: resources[key] for key in ("store", "fast_lane", "policy")},
    ).for_run_failure()
    saga = request_failure_sensor(context)

    assert store.get(record.id).status is Status.FAILED  # max attempts 1: failed for good
    assert isinstance(saga, dg.RunRequest) and saga.job_name == SAGA_JOB
    assert saga.run_key == f"saga:{record.id}:{failed_run.run_id}"
    compensated = recovery_saga_compensation.execute_in_process(
        run_config=saga.run_config, instance=dagster_instance, resources=resources, tags=saga.tags
    )

    assert compensated.success
    (cancelled,) = ticket_of(servicenow, record.id)
    assert cancelled.state == INCIDENT_CANCELED
    assert record.id in cancelled.field("close_notes")
    trail = store.audit_trail(record.id)
    (undone,) = [e for e in trail if e.action == COMPENSATED]
    assert undone.detail["step"] == "open_ticket" and incident.number in undone.detail["undone"]
    assert "saga.completed" in [e.action for e in trail]
    # Nothing left: the same failure seen again asks for no second saga.
    assert saga_run_request(store, record.id, failed_run.run_id) is None


# -- the saga of a refusal: a later step refused, the earlier steps undone in the same run -----------


@workflow_step(WorkItem, compensate=undo_first)
def refusal_saga_book(item: WorkItem) -> Step:
    """A compensable step (its detail is what undo_first reads)."""
    return Step.passed(item, "test.booked", n=9)


@workflow_step(WorkResult, optional=False)
def refusal_saga_confirm(item: WorkItem) -> Step:
    """The vendor refuses ("refuse" in the text: a 409; "credentials": a 401, EAS's own problem)."""
    if "credentials" in item.text:
        raise VendorRejected("vendor: invalid API key", status=401)
    if "refuse" in item.text:
        raise VendorRejected("vendor: the slot is already taken", status=409)
    return Step.passed(WorkResult(item, "confirmed"))


refusal_saga_job = workflow_job(
    name="customer_service_ticket_status",  # a routed job name: start_request finds the agent
    agent="customer_service",
    description="refusal saga test",
    steps=(refusal_saga_book, refusal_saga_confirm),
)


def test_a_vendor_refusal_fails_the_request_and_undoes_the_earlier_steps_in_the_same_run(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    UNDONE.clear()
    refused = queued_request(store, "please refuse this booking", "customer_service.ticket_status", [])

    result = run_workflow(refusal_saga_job, refused.id, dagster_instance, eas_resources, store)

    assert result.success  # a business refusal is not a run failure: nothing to retry
    failed = store.get(refused.id)
    assert (failed.status, failed.last_error) == (Status.FAILED, "vendor: the slot is already taken")
    assert UNDONE == ["first:9"]
    trail = store.audit_trail(refused.id)
    (undone,) = [e for e in trail if e.action == COMPENSATED]
    assert undone.detail["step"] == "refusal_saga_book" and undone.detail["run_id"] == result.run_id
    assert "refused: vendor: the slot is already taken" in undone.detail["reason"]
    (saga,) = [e for e in trail if e.action == "saga.completed"]
    assert (
        saga.detail["trigger"] == "refusal" and saga.detail["reason"] == "vendor: the slot is already taken"
    )
    told = [m.text for m in received(sandbox_session, redis_url, refused.client_id, request_id=refused.id)]
    assert any("its changes were undone" in t or "was undone" in t for t in told)
    assert completed_steps(store, refused.id) == []  # settled: a rollback finds nothing left


def test_the_refusal_saga_leaves_a_request_that_succeeded_or_whose_credentials_failed_alone(
    store, eas_resources, dagster_instance
):
    UNDONE.clear()
    ok = queued_request(store, "book it", "customer_service.ticket_status", [])
    done = run_workflow(refusal_saga_job, ok.id, dagster_instance, eas_resources, store)
    assert done.success
    skipped = {e.step_key for e in done.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert skipped == {"customer_service_ticket_status_undo_on_refusal"}  # nothing refused: not even run
    assert store.get(ok.id).status is Status.SUCCEEDED
    # Completed by the last step's own op, once: there is no complete_request op in the job.
    assert "complete_request" not in {e.step_key for e in done.all_events}
    assert [e.action for e in store.audit_trail(ok.id)].count("workflow.completed") == 1
    assert UNDONE == [] and [s.step for s in completed_steps(store, ok.id)] == ["refusal_saga_book"]

    # A 401 is EAS's own misconfiguration: the run fails (retried, then the failure sensor), no refusal.
    broken = queued_request(store, "bad credentials", "customer_service.ticket_status", [])
    result = refusal_saga_job.execute_in_process(
        run_config=run_config_for(broken.id),
        instance=dagster_instance,
        resources=eas_resources,
        tags=run_tags_for(store.get(broken.id)),
        raise_on_error=False,
    )
    assert not result.success
    assert store.get(broken.id).status is Status.RUNNING and UNDONE == []


def test_onboarding_refused_by_jira_has_the_new_hires_accounts_revoked(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    keys = ("salesforce", "servicenow", "jira", "slack_scim")
    name = fresh_name()
    text = f"new hire {name} starts 2027-03-01 in sales"
    ents = [
        entity(text, "employee", name),
        entity(text, "date", "2027-03-01", "2027-03-01"),
        entity(text, "department", "sales"),
    ]
    record = queued_request(store, text, "hr.onboarding", ents)
    records = sandbox_session.sandbox.records
    records.put("jira", "archived_project", "OPS", {"key": "OPS"})  # a Jira admin archived OPS
    try:
        result = run_workflow(hr_onboarding, record.id, dagster_instance, eas_resources, store)
    finally:
        records.delete("jira", "archived_project", "OPS")

    assert result.success
    failed = store.get(record.id)
    assert failed.status is Status.FAILED
    assert failed.last_error.startswith("Jira refused the equipment request")
    assert "valid project is required" in failed.last_error
    email = work_email(name)
    with dg.build_resources({key: eas_resources[key] for key in keys}) as built:
        assert not built.salesforce.client().user_by_email(email).is_active
        jira = built.jira.client()
        assert jira.user_groups(jira.user_by_email(email).account_id) == []
        assert not built.slack_scim.client().user_by_email(email).active
    trail = store.audit_trail(record.id)
    granted = {e.detail["system"] for e in trail if e.action == "access.granted"}
    assert granted == {"salesforce", "jira", "slack"}
    (undone,) = [e for e in trail if e.action == COMPENSATED]
    assert undone.detail["step"] == "provision_accounts" and name in undone.detail["undone"]
    assert "salesforce revoked" in undone.detail["undone"] and "slack revoked" in undone.detail["undone"]
    assert "onboarding.orientation_scheduled" not in [e.action for e in trail]
