"""The vendors' local emulators as a child of ``eas up``: the connectors' default systems.

``eas up`` starts ``python -m eas_sandbox`` (a separate package that product code never imports)
on a database of its own on the same PostgreSQL, waits until it has written the settings that point
each connector at it, and hands those to every other child, except where the environment already
configures a connector: a real system that is configured always wins over its emulator.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

from eas_pipelines.settings import EASSettings

SANDBOX_DATABASE = "eas_sandbox"


class SandboxDidNotStart(RuntimeError):
    """The emulators exited or stayed silent; the message names their log."""


def sandbox_dir(settings: EASSettings) -> Path:
    return settings.data_dir / "sandbox"


def sandbox_command(settings: EASSettings, database_url: str) -> list[str]:
    """The emulators' command line: their own database on ``database_url``'s server, fixed ports."""
    url = make_url(database_url).set(drivername="postgresql+psycopg2", database=SANDBOX_DATABASE)
    folder = sandbox_dir(settings)
    return [
        sys.executable,
        "-m",
        "eas_sandbox",
        "--database-url",
        url.render_as_string(hide_password=False),
        "--data-dir",
        str(folder),
        "--port",
        str(settings.sandbox_port),
        "--mtls-port",
        str(settings.sandbox_mtls_port),
        "--smtp-port",
        str(settings.sandbox_smtp_port),
        "--env-file",
        str(env_file(settings)),
    ]


def env_file(settings: EASSettings) -> Path:
    return sandbox_dir(settings) / "connectors.json"


def wait_for_settings(
    path: Path, *, alive: Callable[[], bool], log_path: Path, timeout_s: float = 60.0
) -> dict[str, str]:
    """The connector settings the emulators wrote to ``path`` once ready (remove it before starting them)."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if not alive():
            raise SandboxDidNotStart(f"the vendors' emulators exited while starting; see {log_path}")
        if time.monotonic() > deadline:
            raise SandboxDidNotStart(
                f"the vendors' emulators did not start within {timeout_s:.0f} s; see {log_path}"
            )
        time.sleep(0.1)
    return json.loads(path.read_text())


def unconfigured(settings: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The emulator settings whose variable the environment leaves unset (configured systems win)."""
    return {name: value for name, value in settings.items() if not environ.get(name, "").strip()}
