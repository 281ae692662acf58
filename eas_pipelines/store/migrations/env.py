"""Alembic environment of the request store, configured entirely in code (no alembic.ini).

:mod:`eas_pipelines.store.migrate` builds the :class:`alembic.config.Config` and usually hands over an
open connection in ``config.attributes["connection"]`` (inside a transaction that holds the migration
advisory lock); without one, the URL in ``config.attributes["database_url"]`` is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from eas_pipelines.store.db import make_engine
from eas_pipelines.store.migrate import VERSION_TABLE
from eas_pipelines.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        # Our own version table: Dagster's PostgreSQL storage keeps its revision in ``alembic_version``,
        # and the two must not overwrite each other when they share a database.
        version_table=VERSION_TABLE,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``--sql``) instead of running it."""
    _configure(url=config.attributes["database_url"], literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(config.attributes["database_url"], pool_size=1, max_overflow=0)
    try:
        with engine.begin() as conn:
            _run_on(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
