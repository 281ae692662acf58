"""The PII engine builds without loading torch/transformers, and leaves both importable afterwards."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from eas_pipelines.pii.import_guard import without_deep_learning

SUBPROCESS_TIMEOUT_S = 300
"""Generous: the second check imports torch and transformers, seconds on a busy machine."""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_building_the_engine_loads_neither_torch_nor_transformers_and_still_masks() -> None:
    code = (
        "import sys\n"
        "from eas_pipelines.pii import mask\n"
        "from eas_pipelines.pii.engine import engines\n"
        "engines()\n"
        "print(mask('Mail jane.doe@example.com or call +1 212-555-0187 today'))\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    masked, loaded = _run(code).splitlines()
    assert masked == "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER> today"
    assert loaded == "[]"


def test_torch_and_transformers_import_normally_after_the_engine_is_built() -> None:
    code = (
        "from eas_pipelines.pii import mask\n"
        "assert mask('jane.doe@example.com') == '<EMAIL_ADDRESS>'\n"
        "import torch\n"
        "import transformers\n"
        "from transformers import BertConfig\n"
        "config = BertConfig(hidden_size=8, num_attention_heads=2)\n"
        "print(int(torch.tensor([2, 3]).sum()), config.hidden_size)\n"
    )
    assert _run(code) == "5 8"


@pytest.fixture()
def probe_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module no one has imported yet, removed from ``sys.modules`` again after the test."""
    name = "eas_import_guard_probe"
    (tmp_path / f"{name}.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    yield name
    sys.modules.pop(name, None)


def test_hidden_package_is_absent_inside_the_guard_and_importable_after(probe_module: str) -> None:
    with without_deep_learning((probe_module,)):
        with pytest.raises(ModuleNotFoundError) as refused:
            __import__(probe_module)
        assert refused.value.name == probe_module
        with pytest.raises(ModuleNotFoundError):
            __import__(f"{probe_module}.sub")
    assert probe_module not in sys.modules
    assert __import__(probe_module).VALUE == 42


def test_guard_hides_nothing_from_other_threads(probe_module: str) -> None:
    imported: list[int] = []

    def other_thread() -> None:
        imported.append(__import__(probe_module).VALUE)

    with without_deep_learning((probe_module,)):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert imported == [42]


def test_guard_leaves_an_already_loaded_package_alone(probe_module: str) -> None:
    loaded = __import__(probe_module)
    with without_deep_learning((probe_module,)):
        assert __import__(probe_module) is loaded


def test_guard_removes_its_finder_even_when_the_block_fails() -> None:
    before = list(sys.meta_path)
    with pytest.raises(RuntimeError), without_deep_learning():
        raise RuntimeError("build failed")
    assert sys.meta_path == before
