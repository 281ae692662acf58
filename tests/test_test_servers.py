"""The suite runs where no PostgreSQL or Redis answers: it starts embedded ones and leaves none behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis
import sqlalchemy as sa

from eas_pipelines.embedded import free_port
from tests.support.servers import ServerUnavailable, session_postgres, session_redis

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def closed_defaults() -> dict[str, str]:
    """An environment whose default server addresses are ports nobody listens on."""
    env = {k: v for k, v in os.environ.items() if k not in ("EAS_TEST_POSTGRES_URL", "EAS_TEST_REDIS_URL")}
    env["EAS_TEST_DEFAULT_POSTGRES_URL"] = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/postgres"
    env["EAS_TEST_DEFAULT_REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/15"
    return env


def processes_under(folder: Path) -> list[str]:
    """Live processes whose command line names ``folder`` (an embedded server of that folder)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(str(folder) in arg for arg in process.info["cmdline"] or ()):
                found.append(f"{process.pid}: {process.info['cmdline']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_without_a_server_redis_falls_back_to_an_embedded_one(tmp_path: Path) -> None:
    with session_redis(closed_defaults(), tmp_path) as server:
        assert server.source == "embedded"
        assert server.url.endswith("/15")
        client = redis.Redis.from_url(server.url)
        assert client.set("eas:test:fallback", "1") and client.get("eas:test:fallback") == b"1"
        client.close()
    assert processes_under(tmp_path) == []


def test_without_a_server_postgres_falls_back_to_an_embedded_one(tmp_path: Path) -> None:
    with session_postgres(closed_defaults(), tmp_path) as server:
        assert server.source == "embedded"
        engine = sa.create_engine(server.url, poolclass=sa.NullPool)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        engine.dispose()
    assert processes_under(tmp_path) == []


def test_a_configured_server_that_does_not_answer_fails_with_the_variable_named(tmp_path: Path) -> None:
    env = closed_defaults()
    env["EAS_TEST_REDIS_URL"] = env["EAS_TEST_DEFAULT_REDIS_URL"]
    env["EAS_TEST_POSTGRES_URL"] = env["EAS_TEST_DEFAULT_POSTGRES_URL"]
    with pytest.raises(ServerUnavailable, match="EAS_TEST_REDIS_URL"), session_redis(env, tmp_path):
        pass
    with pytest.raises(ServerUnavailable, match="EAS_TEST_POSTGRES_URL"), session_postgres(env, tmp_path):
        pass
    assert not (tmp_path / "postgres").exists()  # a configured server is never replaced by an embedded one


def test_database_and_redis_tests_pass_on_a_machine_without_servers(tmp_path: Path) -> None:
    """A real test session (store and conversation-context tests) with the default ports closed."""
    basetemp = tmp_path / "session"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={basetemp}",
            "tests/eas_pipelines/store/test_repository.py::test_pending_classification_stale_running_and_counts",
            "tests/nlp_service/context/test_context_store.py",
        ],
        cwd=PROJECT_ROOT,
        env=closed_defaults(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout and "error" not in result.stdout
    servers_dirs = [p for p in basetemp.glob("embedded_servers*") if not p.is_symlink()]
    assert len(servers_dirs) == 1
    assert (servers_dirs[0] / "postgres" / "PG_VERSION").exists()  # the embedded PostgreSQL served it
    assert (servers_dirs[0] / "redis").is_dir()  # and the embedded Redis
    assert processes_under(basetemp) == []
