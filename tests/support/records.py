"""A request record as the store would hold it once routed and queued, for tests of what reads one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from eas_pipelines.store import Lane, Priority, RequestRecord, Status


def queued_record(
    agent: str | None,
    *,
    workflow: str,
    text: str = "I need PTO from March 3 to 7",
    intent: str = "leave_request",
    priority: Priority = Priority.P1,
    nlp_model_version: str | None = None,
) -> RequestRecord:
    """A classified request queued on the standard lane for ``agent``'s ``workflow``."""
    now = datetime.now(UTC)
    return RequestRecord(
        id=str(uuid.uuid4()),
        client_id="test",
        idempotency_key=str(uuid.uuid4()),
        text=text,
        status=Status.QUEUED,
        intent=intent,
        confidence=0.9,
        entities=[],
        agent=agent,
        workflow=workflow,
        priority=priority,
        lane=Lane.STANDARD,
        run_ids=(),
        attempts=0,
        last_error=None,
        nlp_model_version=nlp_model_version,
        created_at=now,
        updated_at=now,
        classified_at=now,
        queued_at=now,
        started_at=None,
        finished_at=None,
    )
