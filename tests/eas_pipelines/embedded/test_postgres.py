"""The embedded PostgreSQL against the real binaries: start, query, stop, stale and live-owner servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import psutil
import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eas_pipelines.embedded import EmbeddedPostgres, EmbeddedServiceError, free_port
from eas_pipelines.embedded._common import OwnerRecord, pid_alive, port_in_use
from tests.eas_pipelines.embedded.conftest import Holder


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_starts_accepts_queries_and_stops(pg_dir: Path) -> None:
    port = free_port()
    server = EmbeddedPostgres(pg_dir, port)
    url = server.start()
    pid = server.pid
    try:
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg2"
        assert (parsed.host, parsed.port, parsed.database, parsed.username) == (
            "127.0.0.1",
            port,
            "eas",
            "eas",
        )
        assert query(url, "SELECT current_database(), 40 + 2") == [("eas", 42)]
        assert query(url, "SHOW listen_addresses") == [("127.0.0.1",)]
        assert query(url, "SHOW unix_socket_directories") == [("",)]
        assert server.owned and pid is not None and pid_alive(pid)
        assert server.start() == url and server.pid == pid  # a second start on a live handle is a no-op
        record = OwnerRecord.read(server.record_path)
        assert record is not None and (record.server_pid, record.owner_pid) == (pid, os.getpid())
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not port_in_use("127.0.0.1", port)
    assert not server.record_path.exists()
    assert not (pg_dir / "postgres" / "postmaster.pid").exists()
    server.stop()  # idempotent


def test_password_is_required_and_kept_private(pg_dir: Path) -> None:
    with EmbeddedPostgres(pg_dir, free_port()) as server:
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=server.port, user="eas", dbname="eas", password="wrong")
        assert (server.password_path.stat().st_mode & 0o777) == 0o600


def test_context_manager_and_restart_keep_data(pg_dir: Path) -> None:
    with EmbeddedPostgres(pg_dir, free_port()) as server:
        assert server.url is not None
        query(server.url, "CREATE TABLE IF NOT EXISTS kept (v int); INSERT INTO kept VALUES (7)")
        pid = server.pid
    assert pid is not None and not pid_alive(pid)
    with EmbeddedPostgres(pg_dir, free_port()) as server:  # another port, same data
        assert server.url is not None
        assert (7,) in query(server.url, "SELECT v FROM kept")
        query(server.url, "DROP TABLE kept")


def test_stale_server_of_forgotten_handle_is_replaced(pg_dir: Path) -> None:
    port = free_port()
    first = EmbeddedPostgres(pg_dir, port)
    first.start()
    stale_pid = first.pid
    del first  # the handle is gone, the server is not: what a killed parent leaves behind
    assert stale_pid is not None and pid_alive(stale_pid)

    second = EmbeddedPostgres(pg_dir, port)
    url = second.start()
    try:
        assert second.owned
        assert not pid_alive(stale_pid)
        assert second.pid != stale_pid
        assert query(url, "SELECT 1") == [(1,)]
    finally:
        second.stop()


def test_stale_server_of_killed_parent_is_replaced(pg_dir: Path, holders: list[Holder]) -> None:
    holder = Holder("postgres", pg_dir, free_port())
    holders.append(holder)
    holder.kill()  # SIGKILL: no stop(), no atexit
    assert pid_alive(holder.server_pid), "pg_ctl daemonises: the server outlives its parent"

    port = free_port()  # the new start may even ask for another port
    server = EmbeddedPostgres(pg_dir, port)
    url = server.start()
    try:
        assert not pid_alive(holder.server_pid)
        assert server.owned and make_url(url).port == port
        assert query(url, "SELECT 1") == [(1,)]
    finally:
        server.stop()


def test_server_of_live_owner_is_reused_and_left_running(pg_dir: Path, holders: list[Holder]) -> None:
    port = free_port()
    holder = Holder("postgres", pg_dir, port)
    holders.append(holder)

    guest = EmbeddedPostgres(pg_dir, port)
    url = guest.start()
    assert not guest.owned
    assert guest.pid == holder.server_pid
    assert query(url, "SELECT 1") == [(1,)]
    guest.stop()
    assert pid_alive(holder.server_pid), "a reused server belongs to its owner"


def test_port_taken_by_another_program_is_a_clear_error(pg_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(EmbeddedServiceError, match=f"127.0.0.1:{port} is already in use") as info:
            EmbeddedPostgres(pg_dir, port).start()
    assert "EAS_EMBEDDED_POSTGRES_PORT" in str(info.value)


def test_failed_start_shows_the_server_log(pg_dir: Path) -> None:
    auto_conf = pg_dir / "postgres" / "postgresql.auto.conf"
    original = auto_conf.read_text()
    auto_conf.write_text(original + "\nshared_buffers = 'lots'\n")
    try:
        with pytest.raises(EmbeddedServiceError, match="did not start") as info:
            EmbeddedPostgres(pg_dir, free_port(), start_timeout=20).start()
        message = str(info.value)
        assert "postgres.log" in message
        assert "shared_buffers" in message  # the server's own diagnosis, from the tail of its log
    finally:
        auto_conf.write_text(original)


def test_cluster_initialised_once_for_the_system_user(pg_dir: Path) -> None:
    """The session fixture's first start ran initdb; later starts reuse the cluster."""
    pgdata = pg_dir / "postgres"
    assert (pgdata / "PG_VERSION").read_text().strip() == "18"
    control_before = (pgdata / "global" / "pg_control").stat().st_ino
    with EmbeddedPostgres(pg_dir, free_port()) as server:
        assert server.url is not None and query(server.url, "SELECT current_user") == [("eas",)]
    assert (pgdata / "global" / "pg_control").stat().st_ino == control_before
    if os.geteuid() == 0:  # PostgreSQL refuses root: the cluster belongs to the system user
        import pwd

        assert pwd.getpwuid(pgdata.stat().st_uid).pw_name == "embedded_postgres"
        assert pg_dir.stat().st_mode & 0o001, "the system user must be able to traverse the data dir"


def test_pid_file_naming_another_postgres_is_never_acted_on(pg_dir: Path, fresh_data_dir: Path) -> None:
    """After a reboot postmaster.pid may name an unrelated ``postgres`` (say, the machine's own one)."""
    impostor_binary = fresh_data_dir / "postgres"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", impostor_binary)
    impostor = subprocess.Popen([str(impostor_binary), "60"])
    try:
        assert psutil.Process(impostor.pid).name() == "postgres"
        (pg_dir / "postgres" / "postmaster.pid").write_text(
            f"{impostor.pid}\n{pg_dir / 'postgres'}\n0\n5432\n"
        )
        with EmbeddedPostgres(pg_dir, free_port()) as server:
            assert server.owned and server.pid != impostor.pid
        assert impostor.poll() is None, "the unrelated process was left alone"
    finally:
        impostor.kill()
        impostor.wait()


def test_lost_password_file_is_a_clear_error_and_leaves_nothing_running(pg_dir: Path) -> None:
    server = EmbeddedPostgres(pg_dir, free_port())
    original = server.password_path.read_text()
    server.password_path.write_text("not-the-password\n")
    try:
        with pytest.raises(EmbeddedServiceError, match="rejects the password"):
            server.start()
        assert server.pid is None and not server.owned
    finally:
        server.password_path.write_text(original)
