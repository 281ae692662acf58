"""``eas up``'s emulators child: its command line, waiting for its settings, configured systems winning."""

from __future__ import annotations

import json
import threading

import pytest

from eas_pipelines.embedded.sandbox import (
    SANDBOX_DATABASE,
    SandboxDidNotStart,
    sandbox_command,
    unconfigured,
    wait_for_settings,
)
from eas_pipelines.settings import EASSettings


def test_the_command_uses_its_own_database_and_the_configured_ports(tmp_path):
    settings = EASSettings(
        data_dir=tmp_path, sandbox_port=9443, sandbox_mtls_port=9444, sandbox_smtp_port=9025
    )
    command = sandbox_command(settings, "postgresql://eas:secret@db.internal:5432/eas")

    assert command[1:3] == ["-m", "eas_sandbox"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert (
        options["--database-url"] == f"postgresql+psycopg2://eas:secret@db.internal:5432/{SANDBOX_DATABASE}"
    )
    assert (options["--port"], options["--mtls-port"], options["--smtp-port"]) == ("9443", "9444", "9025")
    assert options["--env-file"].startswith(str(tmp_path))


def test_a_configured_system_wins_over_its_emulator():
    served = {
        "EAS_SLACK_URL": "https://127.0.0.1:8443/slack/api/",
        "EAS_JIRA_URL": "https://127.0.0.1:8443/jira",
    }
    environ = {"EAS_SLACK_URL": "https://slack.com/api/", "EAS_JIRA_URL": "  "}

    assert unconfigured(served, environ) == {"EAS_JIRA_URL": "https://127.0.0.1:8443/jira"}


def test_waiting_reads_the_settings_once_written(tmp_path):
    path = tmp_path / "connectors.json"
    writer = threading.Timer(0.2, lambda: path.write_text(json.dumps({"EAS_X": "1"})))
    writer.start()
    assert wait_for_settings(path, alive=lambda: True, log_path=tmp_path / "log", timeout_s=10) == {
        "EAS_X": "1"
    }


def test_waiting_stops_with_the_log_named_when_the_emulators_exit_or_stay_silent(tmp_path):
    path, log = tmp_path / "connectors.json", tmp_path / "sandbox.log"
    with pytest.raises(SandboxDidNotStart, match="exited while starting; see .*sandbox.log"):
        wait_for_settings(path, alive=lambda: False, log_path=log)
    with pytest.raises(SandboxDidNotStart, match="did not start within 0 s"):
        wait_for_settings(path, alive=lambda: True, log_path=log, timeout_s=0.2)
