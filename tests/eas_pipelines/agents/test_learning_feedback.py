"""``learning_classification_feedback`` end to end ("that should have been a leave request" ->
a stored correction, the requester told by e-mail), its refusals, and its rules as plain functions."""

from __future__ import annotations

import pytest

from eas_pipelines.agents.learning.dataset import build_training_set, limit_per_intent, utterance_of
from eas_pipelines.agents.learning.evaluation import not_worse
from eas_pipelines.agents.learning.feedback import FEEDBACK_INTENT, learning_classification_feedback
from eas_pipelines.agents.learning.phrases import corrected_intent
from eas_pipelines.store import CorrectionStore, RequestStore, Status
from nlp_service.data.schema import Dataset, Utterance
from tests.eas_pipelines.agents.test_approvals_by_sentence import person, say
from tests.eas_pipelines.dagster_support import entity, queued_request, run_workflow
from tests.eas_pipelines.notifications_support import received

LEAVE_TEXT = "I need Friday off for my kid's school play"


def misread_leave(store: RequestStore, who: str) -> str:
    """A leave request the model read as a leave-balance question."""
    return queued_request(store, LEAVE_TEXT, "hr.leave_balance", [], client_id=who).id


def test_feedback_records_a_correction_of_the_requesters_last_request(
    store, eas_resources, dagster_instance, sandbox_session, redis_url
):
    alice = person("alice")
    target = misread_leave(store, alice)
    feedback = say(store, alice, "no, that should have been a leave request", FEEDBACK_INTENT)

    result = run_workflow(
        learning_classification_feedback, feedback.id, dagster_instance, eas_resources, store
    )

    assert result.success and store.get(feedback.id).status is Status.SUCCEEDED
    [correction] = CorrectionStore(store).list(request_id=target)
    assert (correction.model_intent, correction.corrected_intent) == ("hr.leave_balance", "hr.leave_request")
    assert (correction.text, correction.source, correction.reviewer) == (LEAVE_TEXT, "feedback", alice)
    assert "classification.corrected" in [e.action for e in store.audit_trail(target)]
    (mail,) = received(sandbox_session, redis_url, alice, request_id=feedback.id)
    assert "hr.leave_balance corrected to hr.leave_request" in mail.text


def test_feedback_on_a_named_request_of_someone_else_is_refused(
    store, eas_resources, dagster_instance, sandbox_session
):
    target = misread_leave(store, person("bob"))
    mallory = person("mallory")
    text = f"reclassify {target.upper()} as a leave request"
    feedback = say(store, mallory, text, FEEDBACK_INTENT, ("request_id", target.upper()))

    result = run_workflow(
        learning_classification_feedback, feedback.id, dagster_instance, eas_resources, store
    )

    failed = store.get(feedback.id)
    assert result.success and failed.status is Status.FAILED
    assert "is not yours" in (failed.last_error or "")
    assert CorrectionStore(store).list(request_id=target) == []


def test_feedback_that_names_no_intent_is_refused(store, eas_resources, dagster_instance, sandbox_session):
    carol = person("carol")
    target = misread_leave(store, carol)
    feedback = say(store, carol, "you misunderstood me", FEEDBACK_INTENT)

    run_workflow(learning_classification_feedback, feedback.id, dagster_instance, eas_resources, store)

    assert store.get(feedback.id).status is Status.FAILED
    assert "should have been" in (store.get(feedback.id).last_error or "")
    assert CorrectionStore(store).list(request_id=target) == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("that should have been a leave request", "hr.leave_request"),
        ("I asked for a payroll question, not a leave request", "hr.payroll_question"),
        ("you classified it as a leave request but it was an expense claim", "finance.expense_submit"),
        ("this wasn't a leave request, it's a payroll question", "hr.payroll_question"),
        ("(why did you) think that was a leave request", None),
        ("wrong intent", None),
    ],
)
def test_the_corrected_intent_is_the_last_one_not_named_as_wrong(text: str, intent: str | None) -> None:
    assert corrected_intent(text) == intent


def test_a_correction_becomes_a_bio_tagged_example() -> None:
    text = "book vacation for Maria Lopez next week"
    entities = [entity(text, "employee", "Maria Lopez"), {"type": "date_range", "text": "next week"}]

    example = utterance_of(text, "hr.leave_request", entities)

    assert example.words == ("book", "vacation", "for", "Maria", "Lopez", "next", "week")
    assert example.tags == ("O", "O", "O", "B-employee", "I-employee", "B-date_range", "I-date_range")


def test_corrections_join_train_only_and_unknown_intents_are_skipped() -> None:
    shipped = Dataset(
        "x",
        {
            split: [Utterance(("hi",), ("O",), "oos"), Utterance(("pay",), ("O",), "hr.payroll_question")] * 2
            for split in ("train", "dev", "test")
        },
        oos_label="oos",
    )
    corrections = [("pto friday", "hr.leave_request", []), ("x", "not.an.intent", [])]

    dataset, added = build_training_set(shipped, corrections, copies=2, per_intent_limit=1)

    assert [u.intent for u in added] == ["hr.leave_request"]
    assert [u.intent for u in dataset.split("train")] == [
        "oos",
        "hr.payroll_question",
        *["hr.leave_request"] * 2,
    ]
    assert dataset.split("test") == limit_per_intent(shipped.split("test"), 1)


def test_promotion_needs_every_metric_not_worse() -> None:
    assert not_worse(
        {"intent_accuracy": 0.9, "slot_f1": 0.8}, {"intent_accuracy": 0.9, "slot_f1": 0.7}
    ).promote
    worse = not_worse({"intent_accuracy": 0.89, "slot_f1": 0.8}, {"intent_accuracy": 0.9, "slot_f1": 0.7})
    assert not worse.promote and "intent_accuracy: 0.8900 vs 0.9000 (worse)" in worse.reasons
    assert not_worse({"intent_accuracy": 0.89}, {"intent_accuracy": 0.9}, tolerance=0.02).promote
    assert not not_worse({}, {}).promote
