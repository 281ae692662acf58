"""The audit log's hash chain: every row links to the one before, and a changed or removed row shows.

Tampering needs the append-only trigger out of the way first (as a database owner could do): the
tests that tamper do it on a database of their own, so the session's chain stays intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC

import pytest
import sqlalchemy as sa

from eas_pipelines.store import RequestStore, Status, migrate
from eas_pipelines.store.chain import GENESIS
from tests.eas_pipelines.store.helpers import drive, new_request, race


@pytest.fixture
def own_store(postgres_database_factory: Callable[[], str]) -> Iterator[RequestStore]:
    """A store on a database of its own, migrated to head."""
    url = postgres_database_factory()
    migrate.upgrade(url)
    store = RequestStore.from_url(url)
    yield store
    store.close()


def _tamper(store: RequestStore, statement: str, **params: object) -> None:
    """Change audit rows behind the store's back, as somebody with the table owner's rights could."""
    with store.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        connection.execute(sa.text(statement), params)
        connection.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_each_entry_holds_the_hash_of_the_one_before(own_store: RequestStore) -> None:
    first = own_store.audit(None, "tester", "probe.first", {"n": 1})
    second = own_store.audit("r-1", "tester", "probe.second", {"n": 2, "nested": {"b": 1, "a": [1, 2]}})
    assert (first.seq, second.seq) == (1, 2)
    with own_store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")).all()
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash == first.hash
    assert rows[1].hash == second.hash and len(second.hash) == 64
    report = own_store.verify_audit_chain()
    assert report.intact and report.checked == 2 and report.head_seq == 2 and report.head_hash == second.hash


def test_the_hash_is_sha256_of_the_documented_canonical_form(own_store: RequestStore) -> None:
    """Anyone can recompute a row's hash without the database: SHA-256 of the JSON array."""
    entry = own_store.audit(None, "tester", "probe", {"k": "v"})
    canonical = json.dumps(
        [
            entry.seq,
            entry.id,
            entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            None,
            "tester",
            "probe",
            {"k": "v"},
            GENESIS,
        ],
        separators=(", ", ": "),
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == entry.hash


def test_a_changed_row_breaks_the_chain_at_that_row(own_store: RequestStore) -> None:
    record = new_request(own_store)
    drive(own_store, record.id, Status.RUNNING)
    trail = own_store.audit_trail(record.id)
    victim = trail[1]
    assert own_store.verify_audit_chain().intact

    _tamper(own_store, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=victim.id)

    report = own_store.verify_audit_chain()
    assert not report.intact and report.breaks == 1
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.entry_id) == (victim.seq, victim.id)
    assert "content does not match its hash" in report.first_break.problem


def test_a_rehashed_row_is_caught_by_the_next_one(own_store: RequestStore) -> None:
    """Recomputing the changed row's hash moves the break to the next row, whose prev_hash no longer
    matches: the chain cannot be repaired without rewriting everything after the change."""
    for n in range(3):
        own_store.audit(None, "tester", "probe", {"n": n})
    _tamper(
        own_store,
        "UPDATE audit_log SET detail = '{\"n\": 99}', "
        "hash = eas_audit_entry_hash(prev_hash, seq, id, at, request_id, actor, action, '{\"n\": 99}') "
        "WHERE seq = 2",
    )
    report = own_store.verify_audit_chain()
    assert report.first_break is not None and report.first_break.seq == 3
    assert "prev_hash" in report.first_break.problem


def test_a_deleted_row_leaves_a_gap(own_store: RequestStore) -> None:
    for n in range(4):
        own_store.audit(None, "tester", "probe", {"n": n})
    _tamper(own_store, "DELETE FROM audit_log WHERE seq = 2")
    report = own_store.verify_audit_chain()
    assert report.first_break is not None and report.first_break.seq == 3
    assert "1 row(s) missing" in report.first_break.problem


def test_verification_resumes_from_a_checkpoint(own_store: RequestStore) -> None:
    for n in range(3):
        own_store.audit(None, "tester", "probe", {"n": n})
    head = own_store.verify_audit_chain()
    own_store.audit(None, "tester", "probe", {"n": 3})
    report = own_store.verify_audit_chain(after=(head.head_seq, head.head_hash))
    assert report.intact and report.checked == 1 and report.head_seq == 4
    wrong = own_store.verify_audit_chain(after=(head.head_seq, "f" * 64))
    assert not wrong.intact


def test_concurrent_writers_extend_one_linear_chain(own_store: RequestStore) -> None:
    results = race(8, lambda i: own_store.audit(None, f"writer-{i}", "probe", {"i": i}))
    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(r.seq for r in results) == list(range(1, 9))
    assert own_store.verify_audit_chain().intact


def test_upgrade_chains_the_rows_written_before_it(postgres_database_factory: Callable[[], str]) -> None:
    url = postgres_database_factory()
    migrate.upgrade(url, "0003")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            for n in range(3):
                connection.execute(
                    sa.text("INSERT INTO audit_log (actor, action, detail) VALUES ('old', 'probe', :d)"),
                    {"d": json.dumps({"n": n})},
                )
    finally:
        engine.dispose()
    migrate.upgrade(url)
    store = RequestStore.from_url(url)
    try:
        store.audit(None, "new", "probe", {})
        report = store.verify_audit_chain()
        assert report.intact and report.checked == 4
    finally:
        store.close()
