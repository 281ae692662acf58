"""``eas submit``'s conversation options refuse bad input before calling the gateway (exit 2, naming it).

No gateway runs here: ``--gateway`` points at a closed port, so an answer other than the refusal
would be a "not reachable" error. The end-to-end use is in
tests/eas_pipelines/gateway/test_conversation_cli.py.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from eas_pipelines.cli.main import app
from tests.eas_pipelines.gateway.servers import free_port

runner = CliRunner()


def submit(*options: str):
    closed = f"http://127.0.0.1:{free_port()}"
    return runner.invoke(app, ["submit", "same dates for Bob", "--no-follow", "--gateway", closed, *options])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--conversation", "chat 42"), "--conversation: conversation_id may only contain"),
        (("--conversation", "x" * 129), "--conversation: conversation_id must be at most 128"),
        (("--conversation", "chat-1", "--new-conversation"), "exclude each other"),
    ],
)
def test_a_bad_conversation_option_is_refused_by_name(options: tuple[str, ...], message: str) -> None:
    result = submit(*options)

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "not reachable" not in result.output


def test_a_good_conversation_id_goes_on_to_the_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("EAS_JWT_SECRET", "cli-tests-secret-0123456789abcdef0123")
    monkeypatch.setenv("EAS_DATA_DIR", str(tmp_path))

    result = submit("--conversation", "chat-42")

    assert result.exit_code == 2
    assert "not reachable" in result.output  # it passed the checks and tried the (closed) gateway
