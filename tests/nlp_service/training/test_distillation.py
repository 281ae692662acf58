"""Distillation: teachers' intent targets, the loss, and a student that learns from a teacher."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from nlp_service.data.schema import Dataset
from nlp_service.inference.predictor import WordPredictor
from nlp_service.training.config import TrainConfig
from nlp_service.training.distillation import distillation_loss, teacher_intent_probs
from nlp_service.training.evaluate import evaluate_predictor
from nlp_service.training.trainer import train
from tests.support.tiny_model import tiny_dataset

INTENTS = ["finance.invoice_process", "hr.leave_request", "oos"]


def test_teacher_targets_are_distributions_in_the_students_intent_order(tiny_model_dir):
    examples = tiny_dataset().split("test")
    probs = teacher_intent_probs([tiny_model_dir], examples, INTENTS, temperature=1.0)
    reordered = teacher_intent_probs([tiny_model_dir], examples, INTENTS[::-1], temperature=1.0)
    assert probs.shape == (len(examples), 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(reordered, probs[:, ::-1], atol=1e-6)
    truth = np.array([INTENTS.index(u.intent) for u in examples])
    assert (probs.argmax(axis=1) == truth).mean() >= 0.9  # the teacher knows the task


def test_a_higher_temperature_gives_softer_targets(tiny_model_dir):
    examples = tiny_dataset().split("test")
    sharp = teacher_intent_probs([tiny_model_dir], examples, INTENTS, temperature=1.0)
    soft = teacher_intent_probs([tiny_model_dir, tiny_model_dir], examples, INTENTS, temperature=4.0)
    assert soft.max(axis=1).mean() < sharp.max(axis=1).mean()
    with pytest.raises(ValueError, match="distill_temperature must be above 0"):
        teacher_intent_probs([tiny_model_dir], examples, INTENTS, temperature=0.0)


def test_a_teacher_with_other_intents_or_no_model_is_refused(tiny_model_dir, tmp_path):
    examples = tiny_dataset().split("test")
    with pytest.raises(
        ValueError, match="has other intents than the training data.*missing \\['hr.payroll'\\]"
    ):
        teacher_intent_probs([tiny_model_dir], examples, [*INTENTS, "hr.payroll"], temperature=1.0)
    with pytest.raises(ValueError, match="is not a trained model directory"):
        teacher_intent_probs([tmp_path], examples, INTENTS, temperature=1.0)


def test_the_loss_is_zero_only_when_the_student_matches_the_teacher():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    matching = torch.softmax(student / 2.0, dim=-1)
    assert distillation_loss(student, matching, temperature=2.0).item() == pytest.approx(0.0, abs=1e-6)
    other = torch.softmax(-student / 2.0, dim=-1)
    assert distillation_loss(student, other, temperature=2.0).item() > 0.1


def test_a_student_learns_the_teachers_intents_not_its_own_wrong_labels(
    tiny_model_dir, tiny_encoder_dir, tmp_path
):
    """With the whole intent loss on the teacher, a training set whose intent labels are all
    wrong (rotated) still gives a student that reads intents as the teacher does."""
    data = tiny_dataset()
    rotate = dict(zip(INTENTS, INTENTS[1:] + INTENTS[:1], strict=True))
    wrong = [dataclasses.replace(u, intent=rotate[u.intent]) for u in data.split("train")]
    mislabelled = Dataset("tiny", {**data.splits, "train": wrong}, has_slots=True, oos_label="oos")
    config = TrainConfig(
        encoder=str(tiny_encoder_dir),
        epochs=8,
        head_lr=5e-3,
        encoder_lr=5e-3,
        patience=8,
        distill_teachers=(str(tiny_model_dir),),
        distill_weight=1.0,
        distill_temperature=1.0,
        export_onnx=False,
    )
    student_dir = train(mislabelled, tmp_path / "student", config)

    scores = evaluate_predictor(WordPredictor.load(student_dir, "torch"), data.split("test"), "oos", True)
    assert scores["intent_accuracy"] >= 90.0
    saved = json.loads((student_dir / "training_config.json").read_text())
    assert saved["distill_teachers"] == [str(tiny_model_dir)] and saved["distill_weight"] == 1.0


def test_a_distillation_weight_outside_zero_to_one_is_refused(tiny_encoder_dir, tmp_path):
    config = TrainConfig(encoder=str(tiny_encoder_dir), distill_weight=1.5)
    with pytest.raises(ValueError, match="distill_weight must be in \\[0, 1\\]"):
        train(tiny_dataset(), tmp_path / "m", config)
