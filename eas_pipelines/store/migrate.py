"""Run the request store's Alembic migrations from code: ``eas db upgrade`` and process start-up.

There is no ``alembic.ini``: :func:`make_config` points Alembic at the ``migrations`` folder next to this
module, so migrations run the same from any working directory and from an installed package.
:func:`upgrade` serialises concurrent callers (a gateway and several workers starting together) on a
PostgreSQL advisory lock held for the migration's transaction, so only one of them migrates and the
others find the schema already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select

from eas_pipelines.store.db import make_engine, normalize_database_url

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

VERSION_TABLE = "eas_alembic_version"
"""Not Alembic's default ``alembic_version``: Dagster's PostgreSQL storage uses that one."""

# Arbitrary but fixed 64-bit key for pg_advisory_xact_lock ("EASMIGR" in ASCII).
_MIGRATION_LOCK_KEY = 0x4541534D49475200


def make_config(database_url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic config for the store's migrations, built in code.

    The URL travels in ``config.attributes`` rather than as the ``sqlalchemy.url`` option, because
    options go through ConfigParser interpolation and a percent-encoded password would break it.
    Useful by hand too, e.g. ``command.revision(make_config(url), message="...", autogenerate=True)``
    to draft a migration (which is then reviewed and edited: revisions are committed hand-checked).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if database_url is not None:
        config.attributes["database_url"] = normalize_database_url(database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision shipped with this code."""
    script = ScriptDirectory.from_config(make_config())
    revision = script.get_current_head()
    if revision is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return revision


def _current_on(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def current(database_url: str) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            return _current_on(connection)
    finally:
        engine.dispose()


def is_up_to_date(database_url: str) -> bool:
    """Whether the database is at :func:`head`: a readiness check for processes that do not migrate."""
    return current(database_url) == head()


def _run_locked(database_url: str, action: str, revision: str) -> str | None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        # One transaction: the advisory lock, every migration step and the version stamp commit together
        # (PostgreSQL has transactional DDL), and the lock is released at commit.
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
            config = make_config(database_url, connection=connection)
            getattr(command, action)(config, revision)
            return _current_on(connection)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> str | None:
    """Migrate the database up to ``revision`` (default: head) and return the revision it is now at."""
    return _run_locked(database_url, "upgrade", revision)


def downgrade(database_url: str, revision: str) -> str | None:
    """Migrate down to ``revision`` (``"base"`` drops everything, audit log included: for tests and dev)."""
    return _run_locked(database_url, "downgrade", revision)
