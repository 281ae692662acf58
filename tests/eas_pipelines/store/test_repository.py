"""RequestStore: intake, the state machine under locks, history, audit and queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from eas_pipelines.store import (
    TRANSITIONS,
    IllegalTransition,
    Lane,
    Priority,
    RequestNotFound,
    RequestRecord,
    RequestStore,
    StaleTransition,
    Status,
)

from .helpers import ROUTING, drive, new_request, race

S = Status

LEGAL_EDGES = [(src, dst) for src, targets in TRANSITIONS.items() for dst in sorted(targets)]
ILLEGAL_EDGES = [(src, dst) for src in Status for dst in Status if dst not in TRANSITIONS[src]]


# ----------------------------------------------------------------------------------------- submit


def test_submit_stores_a_received_request(request_store: RequestStore) -> None:
    record, created = request_store.submit("crm", "key-1", "Grant Dana read access to the finance share")
    assert created
    assert record.status is S.RECEIVED
    assert uuid.UUID(record.id)
    assert (record.client_id, record.idempotency_key) == ("crm", "key-1")
    assert record.text == "Grant Dana read access to the finance share"
    assert record.run_ids == () and record.attempts == 0
    assert record.created_at == record.updated_at and record.created_at.tzinfo is not None
    assert request_store.get(record.id) == record

    [transition] = request_store.history(record.id)
    assert (transition.from_status, transition.to_status, transition.actor) == (
        None,
        S.RECEIVED,
        "client:crm",
    )
    [entry] = request_store.audit_trail(record.id)
    assert entry.action == "request.received" and entry.actor == "client:crm"
    assert entry.detail == {"client_id": "crm", "idempotency_key": "key-1"}
    assert "text" not in entry.detail


def test_submit_is_idempotent_per_client_and_key(request_store: RequestStore) -> None:
    first, created = request_store.submit("crm", "key-1", "I need PTO from March 3 to 7")
    again, created_again = request_store.submit("crm", "key-1", "something else")
    assert created and not created_again
    assert again == first  # the stored text wins
    other_client, created_other = request_store.submit("hr", "key-1", "I need PTO from March 3 to 7")
    assert created_other and other_client.id != first.id
    assert len(request_store.history(first.id)) == 1


def test_concurrent_submits_of_one_key_make_one_request(request_store: RequestStore) -> None:
    results = race(8, lambda i: request_store.submit("crm", "same-key", f"attempt {i}"))
    assert all(isinstance(r, tuple) for r in results), results
    ids = {record.id for record, _ in results}
    assert len(ids) == 1
    assert sum(created for _, created in results) == 1
    [request_id] = ids
    assert len(request_store.list(client_id="crm")) == 1
    assert len(request_store.history(request_id)) == 1
    assert [e.action for e in request_store.audit_trail(request_id)] == ["request.received"]


def test_get_unknown_request(request_store: RequestStore) -> None:
    with pytest.raises(RequestNotFound, match="nope"):
        request_store.get("nope")
    with pytest.raises(RequestNotFound):
        request_store.history("nope")
    with pytest.raises(RequestNotFound):
        request_store.transition("nope", S.CANCELLED, actor="test")


# ----------------------------------------------------------------------------------------- transitions


@pytest.mark.parametrize(("source", "target"), LEGAL_EDGES, ids=[f"{s}->{t}" for s, t in LEGAL_EDGES])
def test_every_legal_transition(request_store: RequestStore, source: Status, target: Status) -> None:
    record = new_request(request_store)
    drive(request_store, record.id, source)
    before = len(request_store.history(record.id))

    after = request_store.transition(record.id, target, actor="tester", reason="because", expected=source)

    assert after.status is target
    history = request_store.history(record.id)
    assert len(history) == before + 1
    last = history[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        source,
        target,
        "tester",
        "because",
    )
    assert last.at == after.updated_at
    entry = request_store.audit_trail(record.id)[-1]
    assert entry.action == f"request.{target}"
    assert entry.detail["from"] == source and entry.detail["to"] == target and entry.at == last.at


@pytest.mark.parametrize("source", list(Status))
def test_illegal_transitions_are_refused_and_change_nothing(
    request_store: RequestStore, source: Status
) -> None:
    record = drive(request_store, new_request(request_store).id, source)
    history = request_store.history(record.id)
    trail = request_store.audit_trail(record.id)
    targets = [dst for src, dst in ILLEGAL_EDGES if src is source]
    assert source in targets  # no status moves to itself

    for target in targets:
        with pytest.raises(IllegalTransition) as caught:
            request_store.transition(record.id, target, actor="tester", intent="changed")
        assert not isinstance(caught.value, StaleTransition)
        assert record.id in str(caught.value) and f"{source} -> {target}" in str(caught.value)

    assert request_store.get(record.id) == record
    assert request_store.history(record.id) == history
    assert request_store.audit_trail(record.id) == trail


def test_expected_is_a_compare_and_set(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.RUNNING)
    done = request_store.transition(record.id, S.SUCCEEDED, actor="worker-a", expected=S.RUNNING)
    assert done.status is S.SUCCEEDED and done.finished_at is not None

    # A second worker that also held the request cannot complete it again, nor fail it.
    for target in (S.SUCCEEDED, S.FAILED):
        with pytest.raises(StaleTransition, match="expected status running but it is succeeded"):
            request_store.transition(record.id, target, actor="worker-b", expected=S.RUNNING)
    assert request_store.get(record.id) == done
    assert [t.to_status for t in request_store.history(record.id)].count(S.SUCCEEDED) == 1

    # A set of expected statuses, and a stale check that wins over the legality check.
    other = drive(request_store, new_request(request_store).id, S.CLASSIFIED)
    with pytest.raises(StaleTransition):
        request_store.transition(other.id, S.CANCELLED, actor="t", expected={S.QUEUED, S.RUNNING})
    cancelled = request_store.transition(other.id, S.CANCELLED, actor="t", expected={S.CLASSIFIED, S.QUEUED})
    assert cancelled.status is S.CANCELLED


def test_only_one_of_eight_workers_starts_a_queued_request(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.QUEUED)

    results = race(
        8,
        lambda i: request_store.transition(
            record.id, S.RUNNING, actor=f"worker-{i}", expected=S.QUEUED, attempt=True, run_id=f"run-{i}"
        ),
    )

    winners = [r for r in results if isinstance(r, RequestRecord)]
    losers = [r for r in results if isinstance(r, StaleTransition)]
    assert len(winners) == 1 and len(losers) == 7, results
    final = request_store.get(record.id)
    assert final.status is S.RUNNING and final.attempts == 1 and len(final.run_ids) == 1
    assert final == winners[0]
    assert [t.to_status for t in request_store.history(record.id)].count(S.RUNNING) == 1
    assert [e.action for e in request_store.audit_trail(record.id)].count("request.running") == 1


def test_classify_routes_and_is_applied_once(request_store: RequestStore) -> None:
    record = new_request(request_store)
    entities = [{"type": "invoice_id", "text": "INV-1042", "start": 16, "end": 24}]
    classified = request_store.classify(
        record.id,
        intent="invoice.process",
        confidence=0.93,
        entities=entities,
        agent="finance",
        workflow="process_invoice",
        priority=Priority.P0,
        lane="fast",
        model_version="intent-v3",
        needs_review=False,
    )
    assert classified.status is S.CLASSIFIED
    assert (classified.intent, classified.confidence, classified.entities) == (
        "invoice.process",
        0.93,
        entities,
    )
    assert (classified.agent, classified.workflow) == ("finance", "process_invoice")
    assert classified.priority is Priority.P0 and classified.lane is Lane.FAST
    assert classified.nlp_model_version == "intent-v3"
    assert classified.classified_at == classified.updated_at

    entry = request_store.audit_trail(record.id)[-1]
    assert entry.actor == "nlp"
    assert "entities" in entry.detail["fields"] and "entities" not in entry.detail["changes"]
    assert entry.detail["changes"]["intent"] == "invoice.process"

    # The reconciler's late answer does not classify it a second time.
    with pytest.raises(StaleTransition):
        request_store.classify(
            record.id,
            intent="other",
            confidence=0.2,
            entities=[],
            agent=None,
            workflow=None,
            priority=None,
            lane=None,
            model_version="intent-v3",
            needs_review=True,
        )


def test_low_confidence_goes_to_review(request_store: RequestStore) -> None:
    record = new_request(request_store, "what's the weather")
    reviewed = request_store.classify(
        record.id,
        intent="out_of_scope",
        confidence=0.31,
        entities=None,
        agent=None,
        workflow=None,
        priority=None,
        lane=None,
        model_version="v1",
        needs_review=True,
    )
    assert reviewed.status is S.NEEDS_REVIEW and reviewed.entities is None
    # A request cannot be queued before it has a lane and a priority: it would be on no lane.
    with pytest.raises(ValueError, match="lane and a priority"):
        request_store.transition(record.id, S.QUEUED, actor="reviewer")
    queued = request_store.transition(
        record.id, S.QUEUED, actor="reviewer", agent="it", lane=Lane.STANDARD, priority=2
    )
    assert queued.status is S.QUEUED and queued.priority is Priority.P2 and queued.queued_at is not None


def test_fields_timestamps_run_ids_and_attempts(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.QUEUED)
    assert record.queued_at is not None and record.started_at is None

    running = request_store.transition(record.id, S.RUNNING, actor="w1", run_id="run-a", attempt=True)
    assert (
        running.started_at == running.updated_at and running.run_ids == ("run-a",) and running.attempts == 1
    )

    # A reclaim: back to queued, then started again by another worker with another run.
    requeued = request_store.transition(record.id, S.QUEUED, actor="reaper", last_error="worker died")
    assert requeued.queued_at > record.queued_at and requeued.last_error == "worker died"
    again = request_store.transition(record.id, S.RUNNING, actor="w2", run_id="run-b", attempt=True)
    assert (
        again.run_ids == ("run-a", "run-b") and again.attempts == 2 and again.started_at > running.started_at
    )

    failed = request_store.transition(record.id, S.FAILED, actor="w2", last_error="x" * 20_000)
    assert failed.finished_at is not None and len(failed.last_error or "") < 17_000
    assert failed.last_error is not None and failed.last_error.endswith("[truncated]")

    # A manual retry after failure: not finished any more; the same run id is not appended twice.
    retried = request_store.transition(record.id, S.QUEUED, actor="operator", last_error=None)
    assert retried.finished_at is None and retried.last_error is None
    third = request_store.transition(record.id, S.RUNNING, actor="w3", run_id="run-b", attempt=True)
    assert third.run_ids == ("run-a", "run-b") and third.attempts == 3

    entry = request_store.audit_trail(record.id)[-1]
    assert entry.detail["changes"] == {"run_id": "run-b", "attempts": 3}
    assert entry.detail["fields"] == ["attempts", "run_ids"]


def test_transition_validates_fields_before_touching_the_database(request_store: RequestStore) -> None:
    record = new_request(request_store)
    with pytest.raises(TypeError, match="unexpected field"):
        request_store.transition(record.id, S.CLASSIFIED, actor="t", colour="blue")
    with pytest.raises(ValueError, match="confidence"):
        request_store.transition(record.id, S.CLASSIFIED, actor="t", confidence=1.5)
    with pytest.raises(ValueError):
        request_store.transition(record.id, S.CLASSIFIED, actor="t", lane="slow")
    with pytest.raises(ValueError):
        request_store.transition(record.id, S.CLASSIFIED, actor="t", priority=7)
    assert request_store.get(record.id).status is S.RECEIVED


def test_history_and_audit_follow_every_step(request_store: RequestStore) -> None:
    record = new_request(request_store)
    drive(request_store, record.id, S.SUCCEEDED)
    expected_path = [S.RECEIVED, S.CLASSIFIED, S.QUEUED, S.RUNNING, S.SUCCEEDED]
    history = request_store.history(record.id)
    assert [t.to_status for t in history] == expected_path
    assert [t.from_status for t in history] == [None, *expected_path[:-1]]
    assert [t.at for t in history] == sorted(t.at for t in history)
    trail = request_store.audit_trail(record.id)
    assert [e.action for e in trail] == [f"request.{s}" for s in expected_path]

    extra = request_store.audit(record.id, "gateway", "request.viewed", {"by": "dana"})
    assert extra.action == "request.viewed" and extra.detail == {"by": "dana"} and extra.at is not None
    assert request_store.audit_trail(record.id)[-1] == extra
    unattached = request_store.audit(None, "gateway", "auth.denied", {"client": "unknown"})
    assert unattached.request_id is None


def test_audit_outlives_a_deleted_request(request_store: RequestStore) -> None:
    record = drive(request_store, new_request(request_store).id, S.CANCELLED)
    with request_store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM requests WHERE id = :id"), {"id": record.id})
    assert [e.action for e in request_store.audit_trail(record.id)] == [
        "request.received",
        "request.cancelled",
    ]


# ----------------------------------------------------------------------------------------- queries


def test_list_filters_and_keyset_pagination(request_store: RequestStore) -> None:
    records = [new_request(request_store) for _ in range(7)]
    drive(request_store, records[1].id, S.QUEUED)
    drive(request_store, records[4].id, S.QUEUED)
    drive(request_store, records[5].id, S.CANCELLED)
    request_store.transition(records[6].id, S.CLASSIFIED, actor="t", agent="hr")

    everything = request_store.list()
    assert [r.id for r in everything] == [r.id for r in reversed(records)]  # newest first

    pages: list[list[str]] = []
    before: str | None = None
    while True:
        page = request_store.list(limit=3, before=before)
        if not page:
            break
        pages.append([r.id for r in page])
        before = page[-1].id
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == [r.id for r in everything]

    assert [r.id for r in request_store.list(status=S.QUEUED)] == [records[4].id, records[1].id]
    assert {r.id for r in request_store.list(status={S.QUEUED, S.CANCELLED})} == {
        records[1].id,
        records[4].id,
        records[5].id,
    }
    assert [r.id for r in request_store.list(agent="hr")] == [records[6].id]
    assert [r.id for r in request_store.list(status="queued", agent="finance", limit=1)] == [records[4].id]
    assert [r.id for r in request_store.list(client_id=records[2].client_id)] == [records[2].id]
    with pytest.raises(RequestNotFound):
        request_store.list(before="missing")
    with pytest.raises(ValueError):
        request_store.list(limit=0)


def test_queued_for_lane_is_a_cursor_in_queue_order(request_store: RequestStore) -> None:
    fast, standard = [], []
    for i in range(5):
        record = new_request(request_store)
        lane = Lane.STANDARD if i % 2 == 0 else Lane.FAST
        request_store.transition(record.id, S.CLASSIFIED, actor="t", **{**ROUTING, "lane": lane})
        request_store.transition(record.id, S.QUEUED, actor="t")
        (standard if lane is Lane.STANDARD else fast).append(record.id)

    first = request_store.queued_for_lane(Lane.STANDARD, limit=2)
    assert [r.id for r in first] == standard[:2]
    assert all(r.cursor is not None for r in first)
    rest = request_store.queued_for_lane("standard", after=first[-1].cursor, limit=10)
    assert [r.id for r in rest] == standard[2:]
    assert request_store.queued_for_lane(Lane.STANDARD, after=rest[-1].cursor) == []
    assert [r.id for r in request_store.queued_for_lane(Lane.FAST)] == fast

    # Started requests leave the lane; a re-queued one comes back after the cursor.
    request_store.transition(standard[0], S.RUNNING, actor="t")
    assert standard[0] not in [r.id for r in request_store.queued_for_lane(Lane.STANDARD)]
    request_store.transition(standard[0], S.QUEUED, actor="reaper")
    assert [r.id for r in request_store.queued_for_lane(Lane.STANDARD, after=rest[-1].cursor)] == [
        standard[0]
    ]

    cursor_at = rest[-1].queued_at
    assert cursor_at is not None
    with pytest.raises(ValueError, match="timezone-aware"):
        request_store.queued_for_lane(Lane.STANDARD, after=(cursor_at.replace(tzinfo=None), ""))


def test_queued_for_lane_orders_ties_by_id(request_store: RequestStore) -> None:
    ids = []
    for _ in range(4):
        record = drive(request_store, new_request(request_store).id, S.CLASSIFIED)
        ids.append(record.id)
    same = datetime(2030, 1, 1, tzinfo=UTC)
    with request_store.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE requests SET status = 'queued', queued_at = :at WHERE id = ANY(:ids)"),
            {"at": same, "ids": ids},
        )
    page1 = request_store.queued_for_lane(Lane.FAST, limit=2)
    page2 = request_store.queued_for_lane(Lane.FAST, after=page1[-1].cursor, limit=2)
    assert [r.id for r in page1 + page2] == sorted(ids)


def test_pending_classification_stale_running_and_counts(request_store: RequestStore) -> None:
    received = new_request(request_store)
    running = drive(request_store, new_request(request_store).id, S.RUNNING)
    queued = drive(request_store, new_request(request_store).id, S.QUEUED)

    assert [r.id for r in request_store.pending_classification(older_than=timedelta(0))] == [received.id]
    assert request_store.pending_classification(older_than=timedelta(hours=1)) == []
    assert [r.id for r in request_store.stale_running(timedelta(0))] == [running.id]
    assert request_store.stale_running(timedelta(hours=1)) == []
    due = request_store.seconds_until_stale(timedelta(hours=1))  # stale in an hour, less its age
    assert due is not None and 3500 < due <= 3600
    assert request_store.seconds_until_stale(timedelta(0)) is None  # no running request is younger

    counts = request_store.count_by_status()
    assert set(counts) == set(Status)
    assert counts[S.RECEIVED] == 1 and counts[S.RUNNING] == 1 and counts[S.QUEUED] == 1
    assert sum(counts.values()) == 3
    assert queued.id not in {r.id for r in request_store.stale_running(timedelta(0))}
