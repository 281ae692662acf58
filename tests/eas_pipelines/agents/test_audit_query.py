"""``audit_query`` end to end: "who approved INV-...?" and "what happened to request ...?" answered
from the audit log (read back from the e-mail emulator), a question naming nothing refused, and the
answer's rules as plain functions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from eas_pipelines.agents.audit.query import asks_about_decisions, audit_query, describe_entry
from eas_pipelines.store import AuditEntry, RequestStore, Status
from tests.eas_pipelines.agents.test_approvals_by_sentence import awaiting_invoice, person, say
from tests.eas_pipelines.dagster_support import run_workflow
from tests.eas_pipelines.notifications_support import received


def approved_invoice(store: RequestStore) -> tuple[str, str, str]:
    """An invoice request approved by a finance manager: (request id, invoice id, approver)."""
    target, invoice_id = awaiting_invoice(store)
    dana = person("dana")
    store.grant_role(dana, "finance_manager", "test")
    store.decide(target, "approved", f"client:{dana}", "within budget", principal=dana)
    return target, invoice_id, dana


def test_who_approved_an_invoice(store, eas_resources, dagster_instance, sandbox_session, redis_url):
    target, invoice_id, dana = approved_invoice(store)
    auditor = person("auditor")
    question = say(store, auditor, f"who approved {invoice_id}", "audit.query", ("invoice_id", invoice_id))

    result = run_workflow(audit_query, question.id, dagster_instance, eas_resources, store)

    assert result.success and store.get(question.id).status is Status.SUCCEEDED
    completed = [e for e in store.audit_trail(question.id) if e.action == "workflow.completed"][-1]
    assert completed.detail["summary"] == f"{invoice_id}: decided by client:{dana}"
    (mail,) = received(sandbox_session, redis_url, auditor, request_id=question.id)
    assert f"Request {target}:" in mail.text
    assert f"approved by client:{dana} (holds role finance_manager)" in mail.text
    assert "within budget" in mail.text


def test_what_happened_to_a_request_tells_the_whole_story(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    target, _, dana = approved_invoice(store)
    auditor = person("auditor")
    text = f"show every action on {target.upper()}"
    question = say(store, auditor, text, "audit.query", ("request_id", target.upper()))

    assert run_workflow(audit_query, question.id, dagster_instance, eas_resources, store).success

    answer = [e for e in store.audit_trail(question.id) if e.action == "workflow.completed"][-1].detail[
        "answer"
    ]
    story = "\n".join(answer)
    for fact in ("new -> received", "queued -> running", "approval asked of finance_manager", "approved by"):
        assert fact in story
    assert story.index("approval asked of") < story.index(f"approved by client:{dana}")


def test_a_question_naming_nothing_known_is_refused(store, eas_resources, dagster_instance):
    vague = say(store, person("auditor"), "who approved it", "audit.query")
    assert run_workflow(audit_query, vague.id, dagster_instance, eas_resources, store).success
    assert "names no request id, invoice, PO or ticket" in store.get(vague.id).last_error

    unknown = f"INV-{uuid.uuid4().hex[:6].upper()}"
    nothing = say(store, person("auditor"), f"who approved {unknown}", "audit.query", ("invoice_id", unknown))
    assert run_workflow(audit_query, nothing.id, dagster_instance, eas_resources, store).success
    assert store.get(nothing.id).last_error == f"the audit log has nothing about {unknown}"


def test_question_kinds_and_entry_lines() -> None:
    assert asks_about_decisions("who approved INV-1042?")
    assert asks_about_decisions("which user rejected REQ-1")
    assert not asks_about_decisions("what happened to request 3f1c")
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    decided = AuditEntry(
        1,
        at,
        "r",
        "client:frank",
        "approval.decided",
        {"decision": "approved", "stage": 2, "basis": "delegate of dana (holds role cfo)", "reason": None},
    )
    assert describe_entry(decided) == (
        "2026-12-06 12:00:00 UTC: approved level 2 by client:frank (delegate of dana (holds role cfo))"
    )
    assert describe_entry(AuditEntry(2, at, "r", "finance", "invoice.extracted", {})) is None
