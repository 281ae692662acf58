"""``eas submit --conversation ID`` against a real gateway on a real socket (and the real NLP service).

The CLI signs its own token with the local key: here the gateway tests' secret, given to the CLI the
way a user's environment gives it (``EAS_JWT_SECRET``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from eas_pipelines.cli.main import app
from tests.eas_pipelines.gateway.conftest import SECRET
from tests.eas_pipelines.gateway.servers import ServerThread
from tests.eas_pipelines.gateway.test_conversation import FIRST, FOLLOW_UP, start_context_nlp  # noqa: F401

runner = CliRunner()


@pytest.fixture
def gateway_url(
    build_gateway_app: Callable[..., FastAPI],
    start_context_nlp: Callable[..., ServerThread],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str]:
    monkeypatch.setenv("EAS_JWT_SECRET", SECRET)
    monkeypatch.setenv("EAS_DATA_DIR", str(tmp_path / "cli"))
    with ServerThread(build_gateway_app([start_context_nlp().url])) as server:
        yield server.url


def eas_submit(url: str, text: str, *options: str) -> dict[str, Any]:
    result = runner.invoke(app, ["submit", text, "--no-follow", "--json", "--gateway", url, *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_submit_with_conversation_continues_it(gateway_url: str) -> None:
    first = eas_submit(gateway_url, FIRST, "--new-conversation")
    conversation_id = first["conversation_id"]
    assert conversation_id

    second = eas_submit(gateway_url, FOLLOW_UP, "--conversation", conversation_id)

    assert second["conversation_id"] == conversation_id
    assert second["intent"] == "hr.leave_request"
    assert [e["text"] for e in second["entities"] if e["type"] == "employee"] == ["Bob"]
    (dates,) = [e for e in second["entities"] if e["type"] == "date_range"]
    assert dates["inherited"] is True
    assert dates["value"] == next(e["value"] for e in first["entities"] if e["type"] == "date_range")


def test_the_table_marks_inherited_entities(gateway_url: str) -> None:
    eas_submit(gateway_url, FIRST, "--conversation", "cli-table")

    result = runner.invoke(
        app, ["submit", FOLLOW_UP, "--no-follow", "--gateway", gateway_url, "--conversation", "cli-table"]
    )

    assert result.exit_code == 0, result.output
    assert "cli-table" in result.stdout
    assert "(from the conversation)" in result.stdout
