"""``learning_classification_feedback``: "that should have been a leave request" as a correction.

The request the feedback is about is the one its ``request_id`` entity names, else the requester's
latest other request (feedback usually follows the answer it is about). A user may correct only
their own requests: correcting other people's is a reviewer's job (``eas review``, ``/v1/review``).
The correction is stored like a reviewer's (source ``feedback``), so the next retraining learns
from it (:mod:`.training`); the request itself is not re-run: if it is still in review, a reviewer
sees the user's correction in its audit trail and can reclassify it.
"""

from __future__ import annotations

from dataclasses import dataclass

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.learning.phrases import corrected_intent
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import CorrectionStore, RequestRecord, RequestStore

FEEDBACK_JOB = "learning_classification_feedback"
FEEDBACK_INTENT = "learning.classification_feedback"
RECENT = 20


@dataclass(frozen=True)
class Feedback:
    """The request a piece of feedback corrects, and the intent it should have had."""

    item: WorkItem
    request_id: str
    model_intent: str | None
    corrected_intent: str


def target_request(store: RequestStore, item: WorkItem) -> RequestRecord | None:
    """The request named by a ``request_id`` entity, else the requester's latest other request."""
    for value in item.values("request_id"):
        found = store.find_request(str(value))
        if found is not None:
            return found
    if item.values("request_id"):
        return None
    for record in store.list(client_id=item.client_id, limit=RECENT):
        if record.id != item.request_id and record.intent != FEEDBACK_INTENT:
            return record
    return None


@workflow_step(Feedback)
def find_corrected_request(item: WorkItem, *, store: RequestStoreResource) -> Step:
    """Find the request the feedback is about and the intent the feedback names."""
    record = target_request(store.get_store(), item)
    if record is None:
        named = ", ".join(map(str, item.values("request_id")))
        return Step.refused(
            f"no request {named} to correct" if named else "you have no earlier request to correct"
        )
    if record.client_id != item.client_id:
        return Step.refused(
            f"request {record.id} is not yours: a reviewer corrects other people's requests (eas review)"
        )
    intent = corrected_intent(item.text)
    if intent is None:
        return Step.refused(
            "the feedback does not say what the request should have been "
            '(e.g. "that should have been a leave request")'
        )
    if intent not in ROUTES:
        return Step.refused(f"{intent} is not an intent EAS routes")
    return Step.passed(
        Feedback(item, record.id, record.intent, intent),
        "learning.feedback_read",
        corrected_request=record.id,
        model_intent=record.intent,
        corrected_intent=intent,
    )


@workflow_step(WorkResult, optional=False)
def record_correction(
    feedback: Feedback, *, store: RequestStoreResource, notifications: NotificationsResource
) -> Step:
    """Store the correction for retraining and tell the requester it was recorded."""
    item = feedback.item
    correction, _ = CorrectionStore(store.get_store()).record(
        feedback.request_id,
        corrected_intent=feedback.corrected_intent,
        reviewer=item.requester,
        source="feedback",
    )
    said, meant = feedback.model_intent, feedback.corrected_intent
    change = f"{meant} confirmed" if said == meant else f"{said} corrected to {meant}"
    summary = f"request {feedback.request_id}: {change}"
    notifications.send(
        item.requester,
        "Thanks: your correction was recorded",
        f"{summary}. The model learns it at its next retraining.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:recorded"),
        detail={"correction_id": correction.id},
    )
    return Step.passed(
        WorkResult(item, summary, {"correction_id": correction.id, "corrected_request": feedback.request_id}),
        "learning.correction_recorded",
        correction_id=correction.id,
    )


learning_classification_feedback = workflow_job(
    name=FEEDBACK_JOB,
    agent="learning",
    description="Record a user's correction of how one of their requests was classified.",
    steps=(find_corrected_request, record_correction),
)
