"""Agents' ``warm()``: what a process serving many runs (run server, warm worker) does once first."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import eas_pipelines.agents as agents
from eas_pipelines.agents import AGENTS, warm_agents


def test_warm_agents_runs_every_agents_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    fakes = tuple(types.SimpleNamespace(warm=lambda name=name: called.append(name)) for name in ("a", "b"))
    monkeypatch.setattr(agents, "AGENTS", (*fakes, types.SimpleNamespace()))  # the third has no warm()

    warm_agents()

    assert called == ["a", "b"]


def test_data_analysis_warm_loads_matplotlibs_fonts_in_a_fresh_process() -> None:
    """After warm(), the first report chart finds matplotlib's font cache loaded (the cost it moves)."""
    script = (
        "import matplotlib.font_manager as fm\n"
        "from eas_pipelines.agents.data_analysis import definitions\n"
        "assert not fm._get_font.cache_info().currsize\n"
        "definitions.warm()\n"
        "assert fm._get_font.cache_info().currsize > 0\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any(getattr(agent, "warm", None) for agent in AGENTS)
