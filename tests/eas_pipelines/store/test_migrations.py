"""Migrations from an empty database, the schema they create, and the append-only audit log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from eas_pipelines.store import migrate
from eas_pipelines.store.models import Base

STORE_TABLES = {
    "requests",
    "request_transitions",
    "approvals",
    "audit_log",
    "approver_roles",
    "approval_delegations",
}
GOVERNANCE_TABLES = {"approver_roles", "approval_delegations"}
"""Added by revision 0004."""


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_reaches_head_from_any_cwd(
    postgres_database_factory: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_database_factory()
    monkeypatch.chdir(tmp_path)  # no alembic.ini, no migrations folder here: the config is built in code
    assert migrate.current(url) is None
    assert not migrate.is_up_to_date(url)

    assert migrate.upgrade(url) == migrate.head()
    assert migrate.current(url) == migrate.head()
    assert migrate.is_up_to_date(url)
    assert _tables(url) >= STORE_TABLES
    # Our own version table, so that Dagster's ``alembic_version`` in a shared database is left alone.
    assert migrate.VERSION_TABLE in _tables(url)
    assert "alembic_version" not in _tables(url)

    # Running it again is a no-op.
    assert migrate.upgrade(url) == migrate.head()


def test_first_revision_is_0001_and_downgrade_to_base_and_back(
    postgres_database_factory: Callable[[], str],
) -> None:
    url = postgres_database_factory()
    assert migrate.upgrade(url, "0001") == "0001"
    assert _tables(url) >= STORE_TABLES - GOVERNANCE_TABLES
    assert migrate.downgrade(url, "base") is None
    assert not (STORE_TABLES & _tables(url))
    assert migrate.upgrade(url) == migrate.head()


def test_concurrent_upgrades_serialise(postgres_database_factory: Callable[[], str]) -> None:
    url = postgres_database_factory()
    results: list[str | None] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate.upgrade(url))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == [migrate.head()] * 3


def test_models_match_the_migrated_schema(migrated_database_url: str) -> None:
    """The hand-written migration and the models describe the same tables, columns, indexes."""
    engine = sa.create_engine(migrated_database_url, poolclass=sa.NullPool)

    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in STORE_TABLES

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": ours}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_audit_log_is_append_only(store_engine: sa.Engine) -> None:
    with store_engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO audit_log (actor, action, detail) VALUES ('test', 'probe', '{}')")
        )
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE action = 'probe'",
        "DELETE FROM audit_log WHERE action = 'probe'",
        "UPDATE audit_log SET actor = 'mallory' WHERE false",  # refused even when it matches nothing
        "TRUNCATE audit_log",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"), store_engine.begin() as conn:
            conn.execute(sa.text(statement))
    with store_engine.connect() as connection:
        actors = connection.execute(sa.text("SELECT actor FROM audit_log WHERE action = 'probe'")).scalars()
        assert set(actors) == {"test"}


def test_the_sandbox_connector_tables_are_gone_at_head_and_come_back_seeded_on_downgrade(
    postgres_database_factory: Callable[[], str],
) -> None:
    url = postgres_database_factory()
    assert migrate.upgrade(url, "0003") == "0003"
    assert not {name for name in _tables(url) if name.startswith("sandbox_")}

    assert migrate.downgrade(url, "0002") == "0002"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            orders = conn.execute(sa.text("SELECT count(*) FROM sandbox_purchase_orders")).scalar_one()
    finally:
        engine.dispose()
    assert orders == 12
    assert migrate.upgrade(url, "0003") == "0003"
    assert "sandbox_purchase_orders" not in _tables(url)


def _columns(url: str, table: str) -> dict[str, dict[str, object]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return {column["name"]: column for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_head_is_0006_whose_conversation_column_takes_over_the_audit_entries(
    postgres_database_factory: Callable[[], str],
) -> None:
    """0006 adds ``requests.conversation_id`` (nullable, indexed) and fills it from the
    ``request.conversation`` audit entries the gateway wrote before (the first one wins)."""
    url = postgres_database_factory()
    assert migrate.upgrade(url, "0005") == "0005"
    assert "conversation_id" not in _columns(url, "requests")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as conn:
            for request_id in ("r-talk", "r-alone"):
                conn.execute(
                    sa.text(
                        "INSERT INTO requests (id, client_id, idempotency_key, text) "
                        "VALUES (:id, 'c', :id, 'same dates for Bob')"
                    ),
                    {"id": request_id},
                )
            for conversation in ("chat-1", "chat-later"):
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_log (request_id, actor, action, detail) "
                        "VALUES ('r-talk', 'client:c', 'request.conversation', "
                        "jsonb_build_object('conversation_id', CAST(:c AS text)))"
                    ),
                    {"c": conversation},
                )

        assert migrate.upgrade(url, "0006") == "0006"
        column = _columns(url, "requests")["conversation_id"]
        assert column["nullable"] is True and str(column["type"]) == "VARCHAR(128)"
        with engine.connect() as conn:
            stored = dict(conn.execute(sa.text("SELECT id, conversation_id FROM requests")).all())
            indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(conn).get_indexes("requests")}
        assert stored == {"r-talk": "chat-1", "r-alone": None}
        assert indexes["ix_requests_conversation_id"] == ["conversation_id"]
    finally:
        engine.dispose()

    assert migrate.downgrade(url, "0005") == "0005"
    assert "conversation_id" not in _columns(url, "requests")
    assert migrate.upgrade(url, "0006") == "0006"


def test_head_is_0007_whose_trace_context_column_is_nullable_jsonb(
    postgres_database_factory: Callable[[], str],
) -> None:
    """0007 adds ``requests.trace_context`` (the W3C carrier a request was submitted in): nullable,
    so that older requests keep working, and dropped again on downgrade."""
    assert migrate.head() == "0007"
    url = postgres_database_factory()
    assert migrate.upgrade(url, "0006") == "0006"
    assert "trace_context" not in _columns(url, "requests")
    assert migrate.upgrade(url) == "0007"
    column = _columns(url, "requests")["trace_context"]
    assert column["nullable"] is True and str(column["type"]) == "JSONB"
    assert migrate.downgrade(url, "0006") == "0006"
    assert "trace_context" not in _columns(url, "requests")
