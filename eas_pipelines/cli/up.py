"""``eas up``: every part of EAS on one machine, stopped together on Ctrl-C or SIGTERM.

Order matters: the servers (embedded PostgreSQL and Redis unless configured), then the
migrations, then the NLP service, gateway, Dagster (webserver + daemon via ``dagster dev``),
the metrics exporter and the warm worker pool (each worker with a ``/metrics`` port of its own),
each a child process with its own log under ``data_dir/logs``.
Children get the resolved URLs through the environment, so none of them starts servers of
its own, and ``DAGSTER_HOME`` points at an instance folder holding the project's
``dagster.yaml`` (storage in the same PostgreSQL).

A child that crashes is restarted (with backoff; ``eas up`` gives up and stops everything when
one keeps crashing, see :class:`~eas_pipelines.embedded.supervisor.RestartPolicy`). Nothing
outlives ``eas up``: before anything starts, it claims the data folder (refusing while another
``eas up`` runs on it, and stopping what a killed one left behind) and starts a watchdog that
stops every child and embedded server should ``eas up`` itself be killed (see
:mod:`eas_pipelines.embedded.leftovers` and :mod:`eas_pipelines.embedded.watchdog`).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from eas_pipelines.embedded.leftovers import TOKEN_VARIABLE, DataFolderClaim, DataFolderInUse
from eas_pipelines.embedded.sandbox import (
    SandboxDidNotStart,
    env_file,
    sandbox_command,
    unconfigured,
    wait_for_settings,
)
from eas_pipelines.embedded.services import ProcessGroup, RestartPolicy, resolve_services
from eas_pipelines.embedded.watchdog import Watchdog
from eas_pipelines.settings import EASSettings
from eas_pipelines.store.migrate import upgrade

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "Process invoice INV-1042 from Acme Corp for $12,400 due March 3"


def dagster_home(settings: EASSettings) -> Path:
    """The instance folder: the project's dagster.yaml copied in (Dagster reads it from DAGSTER_HOME)."""
    home = settings.data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def child_environment(settings: EASSettings, database_url: str, redis_url: str) -> dict[str, str]:
    url = make_url(database_url).set(drivername="postgresql+psycopg2")
    env = {
        "EAS_DATABASE_URL": database_url,
        "EAS_REDIS_URL": redis_url,
        "EAS_DAGSTER_PG_URL": url.render_as_string(hide_password=False),
        "EAS_NLP_REDIS_URL": redis_url,
        "EAS_NLP_PORT": str(settings.nlp_port),
        # The gateway accepts texts up to 2,000 characters; the NLP service must read them all.
        "EAS_NLP_MAX_TEXT_LENGTH": "2000",
        "EAS_DATA_DIR": str(settings.data_dir),
        "DAGSTER_HOME": str(dagster_home(settings)),
        "PYTHONUNBUFFERED": "1",
    }
    if "nlp_urls" not in settings.model_fields_set:
        # The gateway calls EAS_NLP_URLS, whose default names port 8081: with EAS_NLP_PORT moved,
        # it would call a server that is not there and leave every request unclassified.
        env["EAS_NLP_URLS"] = f"http://127.0.0.1:{settings.nlp_port}"
    return env


def run_up(
    settings: EASSettings,
    console: Console,
    *,
    workers: int | None = None,
    dagster: bool = True,
    restart: RestartPolicy | None = None,
) -> int:
    """Start everything; block until a stop signal or a child that keeps crashing. Returns the exit code."""
    workers = settings.worker_count if workers is None else workers
    console.print(f"[bold]EAS[/bold] data folder {settings.data_dir}")

    def echo(line: str) -> None:  # paths and names are not Rich markup
        console.print(line, markup=False)

    with contextlib.ExitStack() as stack:
        try:
            claim = stack.enter_context(DataFolderClaim(settings.data_dir, echo=echo))
        except DataFolderInUse as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            return 1
        # Started before any server, dismissed after all is stopped (it would stop all of it, were
        # eas up killed meanwhile); the claim's record goes after it.
        watchdog = stack.enter_context(Watchdog(settings.data_dir, settings.log_dir / "watchdog.log"))
        claim.record_watchdog(watchdog.pid)
        with resolve_services(settings) as services:
            console.print("database ready; running migrations")
            upgrade(services.database_url)
            env = child_environment(settings, services.database_url, services.redis_url)
            env[TOKEN_VARIABLE] = claim.token
            group = ProcessGroup(
                settings.log_dir, echo=echo, restart=restart, on_change=claim.record_children
            )
            with group, group.handling_stop_signals():
                if settings.sandbox:
                    try:
                        env.update(_start_sandbox(group, settings, services.database_url, env))
                    except SandboxDidNotStart as exc:
                        console.print(f"[red]error:[/red] {escape(str(exc))}")
                        return 1
                _start_children(group, settings, env, workers=workers, dagster=dagster)
                if not watchdog.running():
                    echo(
                        f"warning: the watchdog exited (see {settings.log_dir / 'watchdog.log'}); if eas up "
                        "is killed, the next eas up on this data folder stops what it leaves"
                    )
                console.print(
                    "\n[bold green]EAS is starting[/bold green] (the NLP model trains on first start; "
                    f"progress in {settings.log_dir / 'nlp.log'})\n"
                    f"  intake API     http://{settings.gateway_host}:{settings.gateway_port}/docs\n"
                    f"  NLP service    http://127.0.0.1:{settings.nlp_port}/readyz\n"
                    f"  Dagster UI     http://127.0.0.1:{settings.dagster_port}\n"
                    f"  metrics        http://{settings.metrics_host}:{settings.exporter_port}/metrics\n"
                    + (
                        f"  emulators      https://127.0.0.1:{settings.sandbox_port}/_sandbox/docs\n"
                        if settings.sandbox
                        else ""
                    )
                    + f"  try            eas submit {EXAMPLE!r}\n"
                    "Ctrl-C stops everything; a part that crashes is restarted."
                )
                return group.wait()


def _start_sandbox(
    group: ProcessGroup, settings: EASSettings, database_url: str, env: dict[str, str]
) -> dict[str, str]:
    """Start the vendors' emulators; the connector settings they serve that nothing configures."""
    settings_file = env_file(settings)
    settings_file.unlink(missing_ok=True)
    child = group.start("sandbox", sandbox_command(settings, database_url), env=env)
    served = wait_for_settings(
        settings_file, alive=lambda: child.process.poll() is None, log_path=child.log_path
    )
    return unconfigured(served)


def _start_children(
    group: ProcessGroup, settings: EASSettings, env: dict[str, str], *, workers: int, dagster: bool
) -> None:
    bin_dir = Path(sys.executable).parent
    env["EAS_NLP_MODEL_DIR"] = str(settings.data_dir / "models" / "nlp-default")
    group.start("nlp", [str(bin_dir / "eas-nlp"), "serve", "--port", str(settings.nlp_port)], env=env)
    group.start("gateway", [str(bin_dir / "eas"), "gateway"], env=env)
    if dagster:
        group.start(
            "dagster",
            [
                str(bin_dir / "dagster"),
                "dev",
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(settings.dagster_port),
            ],
            env=env,
            cwd=str(PROJECT_ROOT),
        )
        if settings.run_server_port:
            # Standard-lane runs fork from it (dagster.yaml's WarmRunLauncher) instead of each
            # importing the code location anew.
            group.start("run-server", [str(bin_dir / "eas"), "run-server"], env=env, cwd=str(PROJECT_ROOT))
    group.start("exporter", [str(bin_dir / "eas"), "exporter"], env=env)
    for index, port in enumerate(worker_metrics_ports(settings, workers)):
        worker_env = {**env, "EAS_WORKER_METRICS_PORT": str(port)}
        group.start(f"worker-{index + 1}", [str(bin_dir / "eas"), "worker"], env=worker_env)


def worker_metrics_ports(settings: EASSettings, count: int) -> list[int]:
    """A ``/metrics`` port for each of ``count`` workers on this machine: ``EAS_WORKER_METRICS_PORT``
    and the next ones, skipping the ports of the other parts (all 0, metrics off, when it is 0)."""
    if not settings.worker_metrics_port:
        return [0] * count
    taken = {
        settings.gateway_port,
        settings.nlp_port,
        settings.dagster_port,
        settings.exporter_port,
        settings.run_server_port,
        settings.sandbox_port,
        settings.sandbox_mtls_port,
        settings.sandbox_smtp_port,
        settings.embedded_postgres_port,
        settings.embedded_redis_port,
    }
    ports: list[int] = []
    candidate = settings.worker_metrics_port
    while len(ports) < count:
        if candidate > 65535:
            raise ValueError(
                f"EAS_WORKER_METRICS_PORT {settings.worker_metrics_port}: no port left for {count} workers"
            )
        if candidate not in taken:
            ports.append(candidate)
        candidate += 1
    return ports
