"""``eas-nlp serve`` as a real process: uvicorn with uvloop and httptools on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from nlp_service.cli import app
from nlp_service.server import logs, tracing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_over_http_and_stops_on_sigint(tiny_model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "EAS_NLP_TRAIN_DEFAULT_IF_MISSING": "false", "EAS_NLP_BATCH_WAIT_MS": "0"}
    command = [sys.executable, "-m", "nlp_service.cli", "serve", "--model", str(tiny_model_dir)]
    command += ["--port", str(port), "--threads", "1"]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert ready is not None and ready.status_code == 200, log.read_text()
        parsed = httpx.post(f"{base}/v1/parse", json={"text": "book vacation for Bob next week"}, timeout=10)
        assert parsed.status_code == 200
        assert parsed.json()["model_version"] == ready.json()["model_version"]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log.read_text()
    assert f"http://127.0.0.1:{port}" in text
    assert server.returncode == 0, text


def test_serve_sets_the_thread_switch_interval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """EAS_NLP_GIL_SWITCH_MS reaches the interpreter before the server starts (process-wide, so the
    command sets it, not the app)."""
    seen: dict[str, float] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(interval=sys.getswitchinterval()))
    monkeypatch.setattr(logs, "configure_logging", lambda level: None)
    monkeypatch.setattr(tracing, "setup_tracing", lambda: None)
    monkeypatch.setenv("EAS_NLP_GIL_SWITCH_MS", "2.5")
    monkeypatch.setenv("EAS_NLP_TRAIN_DEFAULT_IF_MISSING", "false")
    before = sys.getswitchinterval()
    try:
        result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path)])
    finally:
        sys.setswitchinterval(before)
    assert result.exit_code == 0, result.output
    assert seen["interval"] == pytest.approx(0.0025)


def test_a_switch_interval_of_zero_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EAS_NLP_GIL_SWITCH_MS", "0")
    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path)])
    assert result.exit_code != 0
    assert "EAS_NLP_GIL_SWITCH_MS" in result.output
