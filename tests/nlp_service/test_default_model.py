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


def test_public_data_is_found_configured_or_switched_off(tmp_path):
    from nlp_service.default_model import PUBLIC_DATA_SETTING, public_data_dir

    for name in ("clinc150", "snips"):
        (tmp_path / name).mkdir()
    assert public_data_dir({PUBLIC_DATA_SETTING: str(tmp_path)}) == tmp_path
    assert public_data_dir({PUBLIC_DATA_SETTING: ""}) is None
    with pytest.raises(DefaultModelError, match="has no clinc150/ and snips/"):
        public_data_dir({PUBLIC_DATA_SETTING: str(tmp_path / "clinc150")})


def test_public_sentences_are_capped_per_source_intent():
    from pathlib import Path

    from nlp_service.data import load_dataset
    from nlp_service.data.realworld import with_public_sentences
    from nlp_service.default_model import ENTERPRISE_DATA

    shared = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    base = load_dataset(ENTERPRISE_DATA)
    capped = with_public_sentences(base, shared, "oos", per_source_intent=5)
    added = len(capped.split("train")) - len(base.split("train"))
    # Five per everyday source intent at most (CLINC150's 150 and SNIPS's 7); the seven work intents
    # mapped onto EAS keep all their 100 train sentences.
    assert 0 < added <= 5 * (150 + 7) + 7 * 100
    everything = with_public_sentences(base, shared, "oos")
    assert len(everything.split("train")) > len(capped.split("train"))
