"""Engines and sessions for the request store.

One :class:`~sqlalchemy.engine.Engine` per process, shared by every thread: engines and their pools
are thread-safe, sessions are not. :class:`~eas_pipelines.store.repository.RequestStore` opens one
short session per method (one transaction each), so most code never needs :func:`session_scope`;
it is here for scripts and migrations-adjacent code that want the same commit/rollback discipline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DRIVER_SCHEME = "postgresql+psycopg2"

# Schemes that mean "PostgreSQL, default driver". SQLAlchemy 2.1 no longer accepts ``postgres://``
# (Heroku, many PaaS and docker-compose examples still hand it out) and its default driver for
# ``postgresql://`` is not necessarily the psycopg2 that is installed.
_BARE_SCHEMES = ("postgres://", "postgresql://")


def normalize_database_url(url: str) -> str:
    """Return ``url`` with a ``postgres://`` or ``postgresql://`` scheme turned into ``postgresql+psycopg2://``.

    URLs that already name a driver (``postgresql+psycopg2://``, ``sqlite://``...) are returned unchanged,
    as is everything after the scheme (credentials, host, query string).
    """
    url = url.strip()
    for scheme in _BARE_SCHEMES:
        if url.startswith(scheme):
            return f"{DRIVER_SCHEME}://{url[len(scheme) :]}"
    return url


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    application_name: str = "eas",
    echo: bool = False,
) -> Engine:
    """Create the process's engine for ``url`` (normalized first).

    ``pool_pre_ping`` makes a connection dropped by a PostgreSQL restart or failover cost one retry
    instead of one failed request; ``pool_recycle`` keeps connections younger than typical proxy and
    load-balancer idle timeouts. The pool (5 + 10 overflow) fits a worker's handful of threads; a
    gateway with more threads should pass a larger one. ``application_name`` shows up in
    ``pg_stat_activity`` so an operator can tell which component holds a lock.
    """
    normalized = normalize_database_url(url)
    connect_args: dict[str, object] = {}
    if make_url(normalized).get_backend_name() == "postgresql":
        connect_args = {"application_name": application_name, "connect_timeout": 10}
    return create_engine(
        normalized,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        pool_timeout=30,
        connect_args=connect_args,
        echo=echo,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit (``expire_on_commit=False``).

    The store converts rows to frozen records before the session closes; keeping attributes loaded
    avoids a surprise lazy reload (a new transaction) while doing so.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back when it raises, always close."""
    factory = engine if isinstance(engine, sessionmaker) else make_sessionmaker(engine)
    with factory() as session, session.begin():
        yield session
