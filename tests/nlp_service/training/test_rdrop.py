"""R-Drop: the disagreement term, and training with it."""

import numpy as np
import pytest
import torch

from nlp_service.model.bundle import load_torch_model
from nlp_service.model.features import IGNORE_INDEX
from nlp_service.training.config import TrainConfig
from nlp_service.training.rdrop import rdrop_loss, symmetric_kl
from nlp_service.training.trainer import train
from tests.support.tiny_model import tiny_dataset


def test_symmetric_kl_is_zero_for_equal_scores_and_symmetric_otherwise():
    first, second = torch.randn(4, 5), torch.randn(4, 5)
    assert symmetric_kl(first, first).item() == pytest.approx(0.0, abs=1e-6)
    assert symmetric_kl(first, first + 3.0).item() == pytest.approx(0.0, abs=1e-5)  # same softmax
    assert symmetric_kl(first, second).item() > 0
    assert symmetric_kl(first, second).item() == pytest.approx(symmetric_kl(second, first).item())


def test_only_labelled_sub_words_count_towards_the_slot_term():
    intents = torch.zeros(4, 3)  # two examples, each twice: the halves agree on intents
    slots = torch.zeros(4, 3, 5)
    targets = torch.tensor([[IGNORE_INDEX, 1, IGNORE_INDEX], [IGNORE_INDEX, 2, 0]] * 2)
    slots[3, 0] = torch.tensor([9.0, 0, 0, 0, 0])  # second pass, [CLS] position: unlabelled
    assert rdrop_loss(intents, slots, targets).item() == pytest.approx(0.0, abs=1e-6)
    slots[3, 1] = torch.tensor([9.0, 0, 0, 0, 0])  # a labelled word
    assert rdrop_loss(intents, slots, targets).item() > 0.1


def test_two_dropout_passes_disagree_and_two_passes_without_dropout_do_not(tiny_model_dir):
    model = load_torch_model(tiny_model_dir)
    ids = torch.tensor([[101, 2832, 11286, 102], [101, 2377, 102, 0]] * 2)
    mask = (ids != 0).long()
    targets = torch.tensor(
        [[IGNORE_INDEX, 1, 0, IGNORE_INDEX], [IGNORE_INDEX, 0, IGNORE_INDEX, IGNORE_INDEX]] * 2
    )
    model.dropout.p = 0.3
    model.train()
    assert rdrop_loss(*model(ids, mask), targets).item() > 0
    model.eval()
    assert rdrop_loss(*model(ids, mask), targets).item() == pytest.approx(0.0, abs=1e-6)


def test_training_with_rdrop_saves_a_working_model(tiny_encoder_dir, tmp_path):
    config = TrainConfig(
        encoder=str(tiny_encoder_dir), epochs=1, max_steps=3, rdrop_weight=1.0, export_onnx=False
    )
    model_dir = train(tiny_dataset(), tmp_path / "m", config)
    model = load_torch_model(model_dir)
    intent, _ = model(torch.tensor([[101, 2832, 102]]), torch.tensor([[1, 1, 1]]))
    assert np.isfinite(intent.detach().numpy()).all()


def test_a_negative_rdrop_weight_is_refused(tiny_encoder_dir, tmp_path):
    with pytest.raises(ValueError, match="rdrop_weight must be 0 or more"):
        train(tiny_dataset(), tmp_path / "m", TrainConfig(encoder=str(tiny_encoder_dir), rdrop_weight=-1.0))
