"""The cosine intent head: bounded scores, trained, saved, loaded back as trained, exported to ONNX."""

import numpy as np
import pytest
import torch

from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.bundle import load_torch_model
from nlp_service.model.cosine_head import CosineIntentHead
from nlp_service.training.config import TrainConfig
from nlp_service.training.trainer import train
from tests.support.numerics import assert_scores_close
from tests.support.onnx_outputs import onnx_and_torch_outputs
from tests.support.tiny_model import tiny_dataset


@pytest.fixture(scope="module")
def cosine_model_dir(tiny_encoder_dir, tmp_path_factory):
    config = TrainConfig(
        encoder=str(tiny_encoder_dir), epochs=1, max_steps=4, intent_cosine_scale=16.0, export_int8=False
    )
    return train(tiny_dataset(), tmp_path_factory.mktemp("cosine") / "model", config)


def test_cosine_scores_are_bounded_by_the_scale_whatever_the_norm():
    head = CosineIntentHead(hidden=8, num_intents=3, scale=16.0)
    small, large = torch.ones(1, 8), 1000 * torch.ones(1, 8)
    assert torch.allclose(head(small), head(large))
    assert head(torch.randn(50, 8)).abs().max() <= 16.0 + 1e-4


def test_a_negative_cosine_scale_is_refused(tiny_encoder_dir, tmp_path):
    config = TrainConfig(encoder=str(tiny_encoder_dir), intent_cosine_scale=-1.0)
    with pytest.raises(ValueError, match="intent_cosine_scale must be positive"):
        train(tiny_dataset(), tmp_path / "m", config)


def test_the_cosine_head_loads_back_as_trained(cosine_model_dir):
    model = load_torch_model(cosine_model_dir)
    assert isinstance(model.intent_head, CosineIntentHead) and float(model.intent_head.scale) == 16.0
    predictor = WordPredictor.load(cosine_model_dir, "torch")
    probs = predictor.predict([["process", "invoice", "INV-1"]])[0].intent_probs
    assert probs.shape == (len(predictor.labels.intents),) and abs(float(probs.sum()) - 1.0) < 1e-5


def test_the_cosine_head_exports_to_onnx_unchanged(cosine_model_dir):
    (onnx_intent, *_), (torch_intent, *_) = onnx_and_torch_outputs(cosine_model_dir)
    assert_scores_close(onnx_intent, torch_intent)
    assert np.abs(onnx_intent).max() <= 16.0 + 1e-3
