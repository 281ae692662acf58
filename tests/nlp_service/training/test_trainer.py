"""Train a tiny model once (conftest's ``tiny_model_dir``) and check what it leaves behind."""

import json

import numpy as np
import pytest

from nlp_service.data.schema import UNLABELLED_TAG, Utterance
from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.bundle import Manifest, load_torch_model
from nlp_service.model.labels import LabelMaps
from nlp_service.training.config import TrainConfig
from nlp_service.training.evaluate import evaluate_predictor
from nlp_service.training.trainer import length_bucketed_batches, train
from tests.support.numerics import assert_scores_close
from tests.support.onnx_outputs import onnx_and_torch_outputs
from tests.support.tiny_model import tiny_dataset


def test_model_directory_is_complete_and_versioned(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {
        "manifest.json",
        "encoder",
        "heads.safetensors",
        "tokenizer",
        "labels.json",
        "training_config.json",
        "metrics.json",
        "model.onnx",
    } <= names
    manifest = Manifest.load(tiny_model_dir)
    assert manifest.version.startswith("tiny-") and manifest.max_length == 64
    config = json.loads((tiny_model_dir / "training_config.json").read_text())
    assert config["seed"] == 13 and config["history"] and 1 <= config["best_epoch"] <= 8
    labels = LabelMaps.load(tiny_model_dir / "labels.json")
    assert labels.oos_label == "oos" and labels.temperature > 0
    assert "B-invoice_id" in labels.tags and labels.tags[0] == "O"
    assert json.loads((tiny_model_dir / "metrics.json").read_text())["dev"]["examples"] == 30


def test_onnx_export_computes_what_pytorch_computes(tiny_model_dir):
    onnx_outputs, torch_outputs = onnx_and_torch_outputs(tiny_model_dir)
    assert len(onnx_outputs) == len(torch_outputs) == 3  # intents, slots, the gate's sentence embedding
    for onnx_output, torch_output in zip(onnx_outputs, torch_outputs, strict=True):
        assert_scores_close(onnx_output, torch_output)


def test_trained_model_learnt_the_tiny_task_on_both_backends(tiny_model_dir):
    test = tiny_dataset().split("test")
    scores = {}
    for backend in ("onnx", "torch"):
        predictor = WordPredictor.load(tiny_model_dir, backend)
        assert predictor.backend_name == backend
        scores[backend] = evaluate_predictor(predictor, test, "oos", True)
    assert scores["onnx"]["intent_accuracy"] == scores["torch"]["intent_accuracy"]
    assert scores["onnx"]["intent_accuracy"] >= 90.0
    assert scores["onnx"]["slot_f1"] >= 60.0


def test_batches_cover_every_example_once_and_are_seeded():
    import random

    lengths = [5, 3, 9, 1, 7, 2, 8] * 10
    batches = length_bucketed_batches(lengths, 8, random.Random(1))
    assert sorted(i for batch in batches for i in batch) == list(range(70))
    assert batches == length_bucketed_batches(lengths, 8, random.Random(1))


def test_encoder_layers_cuts_the_encoder_and_the_directory_loads_as_trained(tiny_encoder_dir, tmp_path):
    from transformers import AutoConfig

    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train

    config = TrainConfig(
        encoder=str(tiny_encoder_dir), encoder_layers=1, epochs=1, max_steps=3, export_int8=False
    )
    model_dir = train(tiny_dataset(), tmp_path / "one-layer", config)

    assert AutoConfig.from_pretrained(str(tiny_encoder_dir)).num_hidden_layers == 2
    assert AutoConfig.from_pretrained(str(model_dir / "encoder")).num_hidden_layers == 1
    assert len(load_torch_model(model_dir).encoder.encoder.layer) == 1
    prediction = WordPredictor.load(model_dir, "onnx").predict([["process", "invoice", "INV-1"]])[0]
    assert len(prediction.tags) == 3


def test_encoder_layers_beyond_the_encoder_are_refused(tiny_encoder_dir, tmp_path):
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train

    with pytest.raises(ValueError, match="encoder_layers must be 1 to 2"):
        train(tiny_dataset(), tmp_path / "m", TrainConfig(encoder=str(tiny_encoder_dir), encoder_layers=3))


def test_the_crf_slot_head_is_trained_saved_and_used_for_decoding(tiny_model_dir):
    """The CRF is on by default: conftest's tiny model has one."""
    labels = LabelMaps.load(tiny_model_dir / "labels.json")
    scores = labels.slot_transitions
    assert scores is not None and len(scores["start"]) == len(scores["end"]) == len(labels.tags)
    assert np.asarray(scores["transitions"]).shape == (len(labels.tags), len(labels.tags))
    assert np.abs(np.asarray(scores["transitions"])).max() > 0  # learnt, not the zero start
    assert load_torch_model(tiny_model_dir).crf is not None
    assert WordPredictor.load(tiny_model_dir, "onnx").decodes_with_crf


def test_without_crf_the_decoder_reads_log_probabilities(tiny_encoder_dir, tmp_path):
    config = TrainConfig(
        encoder=str(tiny_encoder_dir), epochs=8, head_lr=5e-3, encoder_lr=5e-3, patience=8, slot_crf=False
    )
    model_dir = train(tiny_dataset(), tmp_path / "plain", config)
    assert LabelMaps.load(model_dir / "labels.json").slot_transitions is None
    assert load_torch_model(model_dir).crf is None
    predictor = WordPredictor.load(model_dir, "onnx")
    assert not predictor.decodes_with_crf
    metrics = evaluate_predictor(predictor, tiny_dataset().split("test"), "oos", True)
    assert metrics["intent_accuracy"] >= 90.0 and metrics["slot_f1"] >= 60.0


def _distance_from_encoder(model_dir, encoder_dir) -> float:
    from transformers import AutoModel

    original = AutoModel.from_pretrained(str(encoder_dir)).state_dict()
    trained = load_torch_model(model_dir).encoder.state_dict()
    return sum(float((trained[name] - original[name]).abs().sum()) for name in original)


def test_ema_keeps_the_moving_average_of_the_weights(tiny_encoder_dir, tmp_path):
    """With a decay near 1 the average hardly leaves where it started, while the raw weights move.

    Warm-up makes the first step's learning rate 0, so the average starts at the pretrained
    weights (its first update copies them)."""
    settings = {
        "encoder": str(tiny_encoder_dir),
        "epochs": 1,
        "max_steps": 6,
        "encoder_lr": 5e-3,
        "warmup_ratio": 0.5,
    }
    plain = train(tiny_dataset(), tmp_path / "plain", TrainConfig(**settings, export_onnx=False))
    averaged = train(
        tiny_dataset(), tmp_path / "ema", TrainConfig(**settings, export_onnx=False, ema_decay=0.999999)
    )
    assert json.loads((averaged / "training_config.json").read_text())["ema_decay"] == 0.999999
    moved = _distance_from_encoder(plain, tiny_encoder_dir)
    assert moved > 1.0
    assert _distance_from_encoder(averaged, tiny_encoder_dir) < moved / 100


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_an_ema_decay_outside_0_to_1_is_refused(tiny_encoder_dir, tmp_path, decay):
    with pytest.raises(ValueError, match="ema_decay must be in"):
        train(tiny_dataset(), tmp_path / "m", TrainConfig(encoder=str(tiny_encoder_dir), ema_decay=decay))


def test_augment_copies_add_entity_swapped_sentences_to_train(tiny_encoder_dir, tmp_path, monkeypatch):
    from nlp_service.training import augment

    monkeypatch.setattr(augment, "OPEN_CLASS_MIN_VALUES", 2)
    settings = {"encoder": str(tiny_encoder_dir), "epochs": 1, "max_steps": 1, "export_onnx": False}
    plain = train(tiny_dataset(), tmp_path / "plain", TrainConfig(**settings))
    more = train(tiny_dataset(), tmp_path / "more", TrainConfig(**settings, augment_copies=2))
    plain_count = json.loads((plain / "training_config.json").read_text())["train_examples"]
    assert json.loads((more / "training_config.json").read_text())["train_examples"] > plain_count


def test_words_without_annotated_tags_teach_the_intent_and_are_skipped_by_the_slot_loss(
    tiny_encoder_dir, tmp_path
):
    dataset = tiny_dataset()
    train_split = dataset.splits["train"]
    # Every other training sentence keeps its intent but loses its entity annotations.
    dataset.splits["train"] = [
        Utterance(u.words, (UNLABELLED_TAG,) * len(u.words), u.intent) if i % 2 else u
        for i, u in enumerate(train_split)
    ]
    config = TrainConfig(encoder=str(tiny_encoder_dir), epochs=8, head_lr=5e-3, encoder_lr=5e-3, patience=8)
    model_dir = train(dataset, tmp_path / "half", config)
    assert UNLABELLED_TAG not in LabelMaps.load(model_dir / "labels.json").tags
    metrics = evaluate_predictor(WordPredictor.load(model_dir, "onnx"), dataset.split("test"), "oos", True)
    assert metrics["intent_accuracy"] >= 90.0 and metrics["slot_f1"] >= 60.0
