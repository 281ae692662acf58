"""The quick-start model: trained into place once, never half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_service.default_model import DefaultModelError, ensure_default_model, has_model
from nlp_service.training.config import TrainConfig
from tests.support.tiny_model import tiny_dataset


def test_trains_into_a_missing_directory(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    target = tmp_path / ".eas" / "models" / "nlp-default"
    config = TrainConfig(encoder=str(tiny_encoder_dir), epochs=1, max_steps=2, export_onnx=False)

    assert ensure_default_model(target, dataset=tiny_dataset(per_template=2), config=config) == target

    assert has_model(target)
    assert (target / "labels.json").is_file()
    assert [p.name for p in target.parent.iterdir()] == ["nlp-default"]  # no staging folder left


def test_an_existing_model_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"version": "v1"}')
    # No data set is given: the shipped one would be loaded if it trained.
    assert ensure_default_model(tmp_path) == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_directory_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(DefaultModelError, match="not a model directory"):
        ensure_default_model(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "not a model"


def test_staging_folders_of_dead_trainers_are_removed(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    target = tmp_path / "nlp-default"
    abandoned = tmp_path / ".nlp-default.training-999999999"  # no such process
    abandoned.mkdir()
    (abandoned / "heads.safetensors").write_bytes(b"partial")
    config = TrainConfig(encoder=str(tiny_encoder_dir), epochs=1, max_steps=1, export_onnx=False)

    ensure_default_model(target, dataset=tiny_dataset(per_template=2), config=config)

    assert not abandoned.exists()
    assert has_model(target)
