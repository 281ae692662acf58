"""Fixtures of the ``eas up`` tests (their helpers are in :mod:`.up_support`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eas_pipelines.cli.up_support import NEEDED_ENTITIES, TEXT, assert_model_reads


@pytest.fixture(scope="module")
def invoice_model_dir(tiny_model_dir: Path) -> Path:
    """The tiny test model, checked to read :data:`~.up_support.TEXT` before anything starts."""
    assert_model_reads(tiny_model_dir, TEXT, NEEDED_ENTITIES)
    return tiny_model_dir


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """An empty EAS data folder directly under the system temp folder, removed afterwards.

    Not pytest's ``tmp_path``: as root, the embedded PostgreSQL runs as another OS user that must
    traverse every folder above its data, and pytest keeps ``/tmp/pytest-of-root`` at 0700 (see
    ``tests/eas_pipelines/embedded/conftest.py``).
    """
    path = Path(tempfile.mkdtemp(prefix="eas-test-up-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
