"""A training stopped after an epoch carries on from its checkpoint and ends where an unbroken one does."""

import json

import pytest
import torch

from nlp_service.model.bundle import load_torch_model
from nlp_service.training.checkpoint import CheckpointMismatchError
from nlp_service.training.config import TrainConfig
from nlp_service.training.trainer import train
from tests.support.tiny_model import tiny_dataset


class _Stopped(RuntimeError):
    pass


def _settings(encoder_dir) -> dict:
    return {"encoder": str(encoder_dir), "epochs": 3, "patience": 3, "export_onnx": False, "encoder_lr": 5e-3}


def _stop_at(epoch_to_stop: int):
    def on_epoch(epoch: int, _summary: dict) -> None:
        if epoch == epoch_to_stop:
            raise _Stopped(f"stopped in epoch {epoch}")

    return on_epoch


def test_a_stopped_training_resumes_after_its_last_epoch_as_an_unbroken_run_ends(tiny_encoder_dir, tmp_path):
    config = TrainConfig(**_settings(tiny_encoder_dir))
    unbroken = train(tiny_dataset(), tmp_path / "unbroken", config)

    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(_Stopped):
        train(tiny_dataset(), tmp_path / "resumed", config, on_epoch=_stop_at(2), checkpoint=checkpoint)
    assert checkpoint.is_file()
    assert not (tmp_path / "resumed").exists()

    epochs_run = []
    resumed = train(
        tiny_dataset(),
        tmp_path / "resumed",
        config,
        on_epoch=lambda epoch, _summary: epochs_run.append(epoch),
        checkpoint=checkpoint,
    )
    assert epochs_run == [2, 3]
    assert not checkpoint.exists()
    history = json.loads((resumed / "training_config.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3]
    expected = load_torch_model(unbroken).state_dict()
    got = load_torch_model(resumed).state_dict()
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def test_a_checkpoint_of_other_settings_is_refused_with_the_setting_named(tiny_encoder_dir, tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    config = TrainConfig(**_settings(tiny_encoder_dir))
    with pytest.raises(_Stopped):
        train(tiny_dataset(), tmp_path / "m", config, on_epoch=_stop_at(2), checkpoint=checkpoint)
    other = TrainConfig(**{**_settings(tiny_encoder_dir), "head_lr": 1e-2})
    with pytest.raises(CheckpointMismatchError, match="head_lr"):
        train(tiny_dataset(), tmp_path / "m", other, checkpoint=checkpoint)


@pytest.fixture
def restore_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_a_different_thread_count_may_resume(tiny_encoder_dir, tmp_path, restore_torch_threads):
    checkpoint = tmp_path / "run.ckpt"
    config = TrainConfig(**_settings(tiny_encoder_dir), threads=1)
    with pytest.raises(_Stopped):
        train(tiny_dataset(), tmp_path / "m", config, on_epoch=_stop_at(3), checkpoint=checkpoint)
    more_threads = TrainConfig(**_settings(tiny_encoder_dir), threads=2)
    train(tiny_dataset(), tmp_path / "m", more_threads, checkpoint=checkpoint)
    assert (tmp_path / "m" / "manifest.json").is_file()
