"""Which directory the model manager serves: EAS_NLP_GPU_MODEL_DIR on a CUDA GPU, EAS_NLP_MODEL_DIR else.

CUDA is pretended present or absent through ``backends.cuda_available``; the models themselves are
real tiny ones, loaded on ONNX Runtime (CPU), each copy with its own version so that the one served
can be told apart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from nlp_service.inference import backends
from nlp_service.inference.parser import NLUParser
from nlp_service.server.metrics import ServerMetrics
from nlp_service.server.model_manager import ModelManager
from tests.nlp_service.server.server_helpers import copy_model_with_version, make_settings


@pytest.fixture
def student_dir(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return copy_model_with_version(tiny_model_dir, tmp_path / "student", "cpu-student")


@pytest.fixture
def teacher_dir(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return copy_model_with_version(tiny_model_dir, tmp_path / "teacher", "gpu-teacher")


def pretend_cuda(monkeypatch: pytest.MonkeyPatch, present: bool) -> list[bool]:
    """``cuda_available`` answering ``present``; the list records each time it was asked."""
    asked: list[bool] = []

    def cuda_available() -> bool:
        asked.append(present)
        return present

    monkeypatch.setattr(backends, "cuda_available", cuda_available)
    return asked


class Loader:
    """Loads the real model on ONNX Runtime, recording each directory; ``hold`` keeps a load waiting."""

    def __init__(self) -> None:
        self.dirs: list[Path] = []
        self.hold = threading.Event()
        self.hold.set()

    def __call__(self, model_dir: Path) -> NLUParser:
        self.dirs.append(model_dir)
        assert self.hold.wait(30)
        return NLUParser.load(model_dir, "onnx", threads=1)


def never_train(model_dir: Path) -> Path:
    raise AssertionError(f"the default model must not be trained (into {model_dir})")


def held_manager(student_dir: Path, teacher_dir: Path) -> tuple[ModelManager, Loader]:
    """A manager over both directories whose loader waits until released (to read the loading reason)."""
    loader = Loader()
    loader.hold.clear()
    settings = make_settings(student_dir, gpu_model_dir=teacher_dir)
    return ModelManager(settings, ServerMetrics(), load_model=loader, train_default=never_train), loader


def start_and_load(manager: ModelManager, loader: Loader) -> str:
    """Start, note the reason shown while loading, then let the load finish."""
    manager.start()
    loading_reason = manager.reason
    loader.hold.set()
    assert manager.join(30)
    return loading_reason


def test_gpu_present_serves_gpu_model_dir_and_reload_keeps_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, student_dir: Path, teacher_dir: Path
) -> None:
    asked = pretend_cuda(monkeypatch, present=True)
    manager, loader = held_manager(student_dir, teacher_dir)
    with caplog.at_level(logging.INFO, logger="nlp_service.server.model_manager"):
        loading_reason = start_and_load(manager, loader)

    assert asked == [True]
    assert loading_reason == (
        f"loading model from {teacher_dir} "
        "(GPU present: serving EAS_NLP_GPU_MODEL_DIR instead of EAS_NLP_MODEL_DIR)"
    )
    assert f"GPU present: serving EAS_NLP_GPU_MODEL_DIR instead of EAS_NLP_MODEL_DIR: {teacher_dir}" in (
        caplog.messages
    )
    assert manager.parser is not None and manager.parser.model_version == "gpu-teacher"
    assert manager.model_dir == teacher_dir and manager.reason == ""

    # A reload without a path loads the chosen directory again, not EAS_NLP_MODEL_DIR.
    assert manager.reload() == teacher_dir
    assert manager.join(30)
    assert loader.dirs == [teacher_dir, teacher_dir]
    assert manager.parser.model_version == "gpu-teacher" and manager.last_reload_error is None


def test_no_gpu_serves_model_dir(
    monkeypatch: pytest.MonkeyPatch, student_dir: Path, teacher_dir: Path
) -> None:
    asked = pretend_cuda(monkeypatch, present=False)
    manager, loader = held_manager(student_dir, teacher_dir)
    loading_reason = start_and_load(manager, loader)

    assert asked == [False]
    assert loading_reason == (
        f"loading model from {student_dir} "
        "(no CUDA GPU: serving EAS_NLP_MODEL_DIR, not EAS_NLP_GPU_MODEL_DIR)"
    )
    assert loader.dirs == [student_dir]
    assert manager.parser is not None and manager.parser.model_version == "cpu-student"
    assert manager.model_dir == student_dir


def test_gpu_present_without_a_model_in_gpu_model_dir_is_an_error_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, student_dir: Path
) -> None:
    pretend_cuda(monkeypatch, present=True)
    empty = tmp_path / "teacher-not-trained-yet"
    loader = Loader()
    # Default-model training on: it must still not train the CPU default into the GPU directory.
    settings = make_settings(student_dir, gpu_model_dir=empty, train_default_if_missing=True)
    manager = ModelManager(settings, ServerMetrics(), load_model=loader, train_default=never_train)

    manager.start()
    assert manager.join(30)

    assert manager.parser is None and loader.dirs == []
    assert manager.reason.startswith(
        f"GPU present, but EAS_NLP_GPU_MODEL_DIR {empty} holds no model (no manifest.json)"
    )
    assert f"EAS_NLP_MODEL_DIR {student_dir}" in manager.reason  # the way out: what unsetting it serves
    assert not empty.exists()


def test_without_gpu_model_dir_cuda_is_not_asked_about(
    monkeypatch: pytest.MonkeyPatch, student_dir: Path
) -> None:
    asked = pretend_cuda(monkeypatch, present=True)
    loader = Loader()
    manager = ModelManager(make_settings(student_dir), ServerMetrics(), load_model=loader, train_default=None)

    manager.start()
    assert manager.join(30)

    assert asked == []  # asking imports torch: not worth it when there is no choice to make
    assert loader.dirs == [student_dir] and manager.model_dir == student_dir
    assert manager.parser is not None and manager.parser.model_version == "cpu-student"
