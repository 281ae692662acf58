"""Corrections in the store: the table matches its model, a correction outlives its request, the
training view keeps the newest per request, and a reclassification is a compare-and-set."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from eas_pipelines.store import CorrectionStore, Reclassification, RequestStore, StaleTransition, Status
from eas_pipelines.store.models import Base


def received(store: RequestStore, text: str = "pto friday") -> str:
    record, _ = store.submit("client-a", uuid.uuid4().hex, text)
    return record.id


def in_review(store: RequestStore, intent: str = "hr.leave_balance") -> str:
    request_id = received(store)
    store.classify(
        request_id,
        intent=intent,
        confidence=0.4,
        entities=[],
        agent=None,
        workflow=None,
        priority=None,
        lane=None,
        model_version="m1",
        needs_review=True,
    )
    return request_id


def test_the_model_matches_migration_0005(migrated_database_url: str) -> None:
    engine = sa.create_engine(migrated_database_url, poolclass=sa.NullPool)

    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) == "classification_corrections"

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": ours}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_reclassify_moves_the_request_with_the_correction(request_store: RequestStore) -> None:
    request_id = in_review(request_store)
    corrections = CorrectionStore(request_store)

    correction, record = corrections.record(
        request_id,
        corrected_intent="hr.leave_request",
        reviewer="client:rev",
        corrected_entities=[{"type": "date", "text": "friday", "start": 4, "end": 10}],
        reclassify=Reclassification("hr", "hr_leave_request", 1, "fast"),
    )

    assert record.status is Status.CLASSIFIED
    assert (record.intent, record.workflow, record.lane) == ("hr.leave_request", "hr_leave_request", "fast")
    assert correction.model_intent == "hr.leave_balance" and correction.text == "pto friday"
    with pytest.raises(StaleTransition):
        corrections.record(
            request_id,
            corrected_intent="hr.onboarding",
            reviewer="client:rev",
            reclassify=Reclassification("hr", "hr_onboarding", 1, "fast"),
        )
    assert [c.id for c in corrections.list(request_id=request_id)] == [correction.id]


def test_the_training_view_keeps_the_newest_and_outlives_the_request(
    request_store: RequestStore, store_engine: sa.Engine
) -> None:
    corrections = CorrectionStore(request_store)
    request_id = received(request_store)
    corrections.record(request_id, corrected_intent="hr.leave_balance", reviewer="a")
    newest, _ = corrections.record(request_id, corrected_intent="hr.leave_request", reviewer="b")

    with store_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM requests WHERE id = :id"), {"id": request_id})

    kept = [c for c in corrections.latest() if c.text == "pto friday" and c.reviewer in {"a", "b"}]
    assert {c.corrected_intent for c in kept} == {"hr.leave_balance", "hr.leave_request"}
    assert all(c.request_id is None for c in kept)
    assert newest.id in {c.id for c in kept}


def test_bad_input_is_refused(request_store: RequestStore) -> None:
    corrections = CorrectionStore(request_store)
    request_id = received(request_store)
    with pytest.raises(ValueError, match="corrected_intent"):
        corrections.record(request_id, corrected_intent="", reviewer="a")
    with pytest.raises(ValueError, match=r"corrected_entities\[0\] has no type"):
        corrections.record(
            request_id, corrected_intent="x.y", reviewer="a", corrected_entities=[{"text": "t"}]
        )
