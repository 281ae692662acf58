"""The audit chain's asset and asset check: green on an intact log, red naming the row that was
tampered with, and red when the whole chain was recomputed after the head a previous run saw."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from eas_pipelines.agents.audit.chain import ASSET_KEY, audit_log_chain, audit_log_chain_intact
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.store import RequestStore, migrate


@pytest.fixture
def own_database(postgres_database_factory: Callable[[], str]) -> Iterator[tuple[str, RequestStore]]:
    """A database of the test's own (tampering must not break the session's chain)."""
    url = postgres_database_factory()
    migrate.upgrade(url)
    store = RequestStore.from_url(url)
    yield url, store
    store.close()


def _verify(url: str, instance: dg.DagsterInstance) -> tuple[dg.AssetCheckEvaluation, dict]:
    result = dg.materialize(
        [audit_log_chain, audit_log_chain_intact],
        resources={"store": RequestStoreResource(database_url=url)},
        instance=instance,
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    (materialization,) = result.asset_materializations_for_node("audit_log_chain")
    return evaluation, {k: v.value for k, v in materialization.metadata.items()}


def _tamper(store: RequestStore, statement: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        connection.execute(sa.text(statement))
        connection.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_intact_chain_passes_and_a_tampered_row_fails_the_check(own_database) -> None:
    url, store = own_database
    entries = [store.audit(f"req-{n}", "tester", "probe", {"n": n}) for n in range(5)]
    with dg.DagsterInstance.ephemeral() as instance:
        evaluation, metadata = _verify(url, instance)
        assert evaluation.passed and evaluation.asset_key == ASSET_KEY
        assert metadata["checked"] == 5 and metadata["head_seq"] == entries[-1].seq

        _tamper(store, f"UPDATE audit_log SET detail = '{{\"n\": 42}}' WHERE id = {entries[2].id}")

        evaluation, metadata = _verify(url, instance)
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert metadata["first_break_seq"] == entries[2].seq
        assert metadata["first_break_request_id"] == "req-2"
        assert f"first at seq {entries[2].seq}" in (evaluation.description or "")


def test_a_recomputed_chain_fails_against_the_head_seen_before(own_database) -> None:
    url, store = own_database
    for n in range(3):
        store.audit(None, "tester", "probe", {"n": n})
    with dg.DagsterInstance.ephemeral() as instance:
        assert _verify(url, instance)[0].passed
        # Rewrite row 2 and recompute every hash from there on: the walk alone sees a consistent chain.
        _tamper(
            store,
            """
            UPDATE audit_log SET detail = '{"n": 99}' WHERE seq = 2;
            UPDATE audit_log SET hash = eas_audit_entry_hash(
                prev_hash, seq, id, at, request_id, actor, action, detail) WHERE seq = 2;
            UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE seq = 3;
            UPDATE audit_log SET hash = eas_audit_entry_hash(
                prev_hash, seq, id, at, request_id, actor, action, detail) WHERE seq = 3;
            """,
        )
        assert store.verify_audit_chain().intact
        evaluation, metadata = _verify(url, instance)
        assert not evaluation.passed
        assert metadata["breaks"] == 0  # consistent from end to end...
        assert "the chain was rewritten" in evaluation.metadata["anchor_problem"].value  # ...but not the same
