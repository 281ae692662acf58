"""``eas sandbox``: the vendors' local emulators alone (and the embedded PostgreSQL they keep state in).

For trying a connector by hand or pointing another EAS at them: it prints the settings that point
each connector at the emulators, then runs until Ctrl-C.
"""

from __future__ import annotations

import shlex

from rich.console import Console

from eas_pipelines.embedded.sandbox import (
    SandboxDidNotStart,
    env_file,
    sandbox_command,
    wait_for_settings,
)
from eas_pipelines.embedded.services import ProcessGroup, resolve_services
from eas_pipelines.settings import EASSettings


def run_sandbox(settings: EASSettings, console: Console) -> int:
    with resolve_services(settings) as services:
        group = ProcessGroup(settings.log_dir, echo=lambda line: console.print(line, markup=False))
        with group, group.handling_stop_signals():
            settings_file = env_file(settings)
            settings_file.unlink(missing_ok=True)
            child = group.start("sandbox", sandbox_command(settings, services.database_url))
            try:
                served = wait_for_settings(
                    settings_file, alive=lambda: child.process.poll() is None, log_path=child.log_path
                )
            except SandboxDidNotStart as exc:
                console.print(f"error: {exc}", markup=False)
                return 1
            console.print(f"emulators ready: https://127.0.0.1:{settings.sandbox_port}/_sandbox/docs")
            console.print("connector settings (export them to point another EAS here):", markup=False)
            for name, value in sorted(served.items()):
                console.print(f"export {name}={shlex.quote(value)}", markup=False)
            console.print("Ctrl-C stops them.")
            return group.wait()
