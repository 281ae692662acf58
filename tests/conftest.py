"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
import sqlalchemy as sa

from tests.support.servers import ServerUnavailable, TestServer, session_postgres, session_redis

if TYPE_CHECKING:
    from eas_pipelines.store import RequestStore


@pytest.fixture(scope="session")
def test_servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's embedded servers keep their data, when it has to start them."""
    return tmp_path_factory.mktemp("embedded_servers")


@pytest.fixture(scope="session")
def redis_server(test_servers_dir: Path) -> Iterator[TestServer]:
    """The Redis of this session: configured, the machine's, or embedded (see tests/support/servers.py)."""
    try:
        with session_redis(os.environ, test_servers_dir) as server:
            yield server
    except ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def redis_url(redis_server: TestServer) -> str:
    """Where the Redis server used by the tests is; set ``EAS_TEST_REDIS_URL`` to move it."""
    return redis_server.url


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the session's real Redis server (a missing server fails, never skips, the tests)."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def redis_key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"eas:test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory):
    """A 2-layer BERT with the real MiniLM tokenizer (see tests/support/tiny_model.py)."""
    from tests.support.tiny_model import make_tiny_encoder

    return make_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir):
    """A complete model directory (weights, tokenizer, labels, ONNX) trained for a few seconds."""
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train
    from tests.support.tiny_model import tiny_dataset

    out = tmp_path_factory.mktemp("tiny_model")
    config = TrainConfig(encoder=str(tiny_encoder_dir), epochs=8, head_lr=5e-3, encoder_lr=5e-3, patience=8)
    return train(tiny_dataset(), out, config)


# PostgreSQL ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server(test_servers_dir: Path) -> Iterator[TestServer]:
    """The PostgreSQL of this session: configured, the machine's, or embedded (tests/support/servers.py)."""
    try:
        with session_postgres(os.environ, test_servers_dir) as server:
            yield server
    except ServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_admin_url(postgres_server: TestServer) -> str:
    """A database on the test server that may create and drop others; ``EAS_TEST_POSTGRES_URL`` moves it.

    The store is only tested against a real PostgreSQL: a missing server fails, never skips, the tests.
    """
    return postgres_server.url


@pytest.fixture(scope="session")
def postgres_database_factory(postgres_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty databases ``eas_test_<hex>``; all are dropped when the session ends."""
    admin = sa.create_engine(postgres_admin_url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create() -> str:
        name = f"eas_test_{uuid.uuid4().hex}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with admin.connect() as connection:
        for name in created:
            # Connections left open (a pool not disposed, a test that failed mid-way) would block DROP.
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_database_factory: Callable[[], str]) -> str:
    """A fresh, empty database of this test session (dropped at its end)."""
    return postgres_database_factory()


@pytest.fixture(scope="session")
def migrated_database_url(postgres_url: str) -> str:
    """:func:`postgres_url` migrated to head once for the session."""
    from eas_pipelines.store import migrate

    migrate.upgrade(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
def store_engine(migrated_database_url: str) -> Iterator[sa.Engine]:
    """One engine on the migrated database for the session, disposed before the database is dropped."""
    from eas_pipelines.store.db import make_engine

    engine = make_engine(migrated_database_url, pool_size=10, max_overflow=10, application_name="eas-tests")
    yield engine
    engine.dispose()


@pytest.fixture
def request_store(store_engine: sa.Engine) -> RequestStore:
    """A :class:`RequestStore` on empty request tables.

    ``audit_log`` is not emptied: its trigger refuses TRUNCATE as it refuses DELETE, so tests read the
    audit log per request id (fresh uuids) and never count the whole table.
    """
    from eas_pipelines.store import RequestStore

    with store_engine.begin() as connection:
        connection.execute(
            sa.text("TRUNCATE requests, request_transitions, approvals RESTART IDENTITY CASCADE")
        )
    return RequestStore(store_engine)


@pytest.fixture(scope="session")
def sandbox_session(postgres_database_factory: Callable[[], str], tmp_path_factory: pytest.TempPathFactory):
    """The vendors' emulators (``eas_sandbox``), on a database of their own, for the whole session.

    While it lives, the environment holds the emulators' connector settings (``EAS_SLACK_URL``...).
    """
    from eas_sandbox.server import Sandbox
    from tests.support.sandbox import SandboxControl

    with Sandbox(postgres_database_factory(), tmp_path_factory.mktemp("sandbox")) as running:
        settings = running.env()
        saved = {name: os.environ.get(name) for name in settings}
        # The connectors read their settings when a run builds its resources (dg.EnvVar), in this
        # process or in a worker it starts: for the session, they point at these emulators.
        os.environ.update(settings)
        try:
            yield SandboxControl(running)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def sandbox(sandbox_session):
    """The emulators, reset for this test (records, faults and call log)."""
    sandbox_session.reset()
    return sandbox_session


@pytest.fixture
def breaker_prefix(redis_key_prefix: str) -> str:
    """A circuit-breaker namespace of this test's own, so one test's outage never opens another's."""
    return f"{redis_key_prefix}circuit"
