"""resolve_services: configured URLs pass through, unset ones start embedded servers, stop_all cleans up."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from eas_pipelines.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    EmbeddedServiceError,
    free_port,
    resolve_services,
)
from eas_pipelines.embedded._common import pid_alive
from eas_pipelines.settings import EASSettings


def settings_for(data_dir: Path, **values: object) -> EASSettings:
    return EASSettings(
        data_dir=data_dir,
        embedded_postgres_port=free_port(),
        embedded_redis_port=free_port(),
        **values,
    )


def test_configured_urls_start_nothing(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path / "unused",
        database_url="postgres://u:p@db.example:5432/eas",
        redis_url="redis://cache:6379/2",
    )
    with resolve_services(settings) as services:
        assert services.database_url == "postgresql+psycopg2://u:p@db.example:5432/eas"
        assert services.redis_url == "redis://cache:6379/2"
        assert services.started == [] and services.reused == []
    assert not (tmp_path / "unused").exists()


def test_unset_urls_start_embedded_servers_and_stop_all_stops_them(pg_dir: Path) -> None:
    services = resolve_services(settings_for(pg_dir))
    try:
        assert [type(server) for server in services.started] == [EmbeddedPostgres, EmbeddedRedis]
        engine = create_engine(services.database_url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_database()")).scalar() == "eas"
        engine.dispose()
        assert redis.Redis.from_url(services.redis_url).ping()
        assert services.env() == {
            "EAS_DATABASE_URL": services.database_url,
            "EAS_REDIS_URL": services.redis_url,
        }
        pids = [server.pid for server in services.started]  # type: ignore[attr-defined]
    finally:
        services.stop_all()
    assert services.started == []
    assert all(pid is not None and not pid_alive(pid) for pid in pids)


def test_only_the_missing_one_is_started(pg_dir: Path) -> None:
    with resolve_services(settings_for(pg_dir, database_url="postgresql://db.example/eas")) as services:
        assert [type(server) for server in services.started] == [EmbeddedRedis]
        assert services.database_url == "postgresql+psycopg2://db.example/eas"
        assert redis.Redis.from_url(services.redis_url).ping()


def test_failure_of_a_later_server_stops_the_earlier_ones(pg_dir: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        settings = settings_for(pg_dir).model_copy(update={"embedded_redis_port": blocker.getsockname()[1]})
        with pytest.raises(EmbeddedServiceError, match="EAS_EMBEDDED_REDIS_PORT"):
            resolve_services(settings)
    assert EmbeddedPostgres(pg_dir, 0).pid is None, "the PostgreSQL started first was stopped"
