"""Fixtures of the server tests: one loaded tiny model shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_service.inference.predictor import WordPredictor
from tests.nlp_service.server.server_helpers import RecordingParser


@pytest.fixture(scope="session")
def tiny_predictor(tiny_model_dir: Path) -> WordPredictor:
    """Loading ONNX costs a moment; the predictor is stateless, so tests share one."""
    return WordPredictor.load(tiny_model_dir, "onnx", threads=1)


@pytest.fixture
def parser(tiny_predictor: WordPredictor) -> RecordingParser:
    return RecordingParser(tiny_predictor)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
