"""URL normalisation, engines and session_scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from eas_pipelines.store import make_engine, normalize_database_url, session_scope


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgresql://u@h/db?sslmode=require", "postgresql+psycopg2://u@h/db?sslmode=require"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("  postgres://h/db\n", "postgresql+psycopg2://h/db"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("postgresql://u:p%40ss@h/db", "postgresql+psycopg2://u:p%40ss@h/db"),
    ],
)
def test_normalize_database_url(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_make_engine_accepts_bare_postgres_scheme(postgres_url: str) -> None:
    bare = postgres_url.replace("postgresql+psycopg2://", "postgres://", 1)
    engine = make_engine(bare)
    try:
        assert engine.dialect.driver == "psycopg2"
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        with engine.connect() as connection:
            name = connection.execute(sa.text("SELECT current_setting('application_name')")).scalar()
        assert name == "eas"
    finally:
        engine.dispose()


def test_session_scope_commits_or_rolls_back(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS scope_probe (v int)"))
        with session_scope(engine) as session:
            session.execute(sa.text("INSERT INTO scope_probe VALUES (1)"))
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            session.execute(sa.text("INSERT INTO scope_probe VALUES (2)"))
            raise RuntimeError("boom")
        with engine.connect() as connection:
            values = connection.execute(sa.text("SELECT v FROM scope_probe ORDER BY v")).scalars().all()
        assert values == [1]
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS scope_probe"))
        engine.dispose()
