"""Distillation: teachers' intent and word-tag targets, the losses, and students that learn from a teacher."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from nlp_service.data.schema import UNLABELLED_TAG, Dataset
from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.labels import LabelMaps
from nlp_service.training.config import TrainConfig
from nlp_service.training.distillation import (
    distillation_loss,
    slot_distillation_loss,
    slot_targets_from_words,
    teacher_intent_probs,
    teacher_word_tag_probs,
)
from nlp_service.training.evaluate import evaluate_predictor
from nlp_service.training.trainer import train
from tests.support.tiny_model import tiny_dataset

INTENTS = ["finance.invoice_process", "hr.leave_request", "oos"]


def train_student(dataset, tmp_path, encoder_dir, teacher_dir, **distillation):
    """A tiny student trained for a few seconds with ``teacher_dir`` as its only teacher."""
    config = TrainConfig(
        encoder=str(encoder_dir),
        epochs=8,
        head_lr=5e-3,
        encoder_lr=5e-3,
        patience=8,
        distill_teachers=(str(teacher_dir),),
        distill_temperature=1.0,
        export_onnx=False,
        **distillation,
    )
    return train(dataset, tmp_path / "student", config)


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
    student_dir = train_student(mislabelled, tmp_path, tiny_encoder_dir, tiny_model_dir, distill_weight=1.0)

    scores = evaluate_predictor(WordPredictor.load(student_dir, "torch"), data.split("test"), "oos", True)
    assert scores["intent_accuracy"] >= 90.0
    saved = json.loads((student_dir / "training_config.json").read_text())
    assert saved["distill_teachers"] == [str(tiny_model_dir)] and saved["distill_weight"] == 1.0


def test_a_distillation_weight_outside_zero_to_one_is_refused(tiny_encoder_dir, tmp_path):
    config = TrainConfig(encoder=str(tiny_encoder_dir), distill_weight=1.5)
    with pytest.raises(ValueError, match="distill_weight must be in \\[0, 1\\]"):
        train(tiny_dataset(), tmp_path / "m", config)


def test_teacher_word_tags_are_per_word_distributions_in_the_students_tag_order(tiny_model_dir):
    examples = tiny_dataset().split("test")
    tags = LabelMaps.load(tiny_model_dir / "labels.json").tags
    probs = teacher_word_tag_probs([tiny_model_dir], examples, tags, temperature=1.0)
    assert [p.shape for p in probs] == [(len(u.words), len(tags)) for u in examples]
    assert all(np.allclose(p.sum(axis=1), 1.0, atol=1e-5) for p in probs)
    reordered = teacher_word_tag_probs([tiny_model_dir], examples, tags[::-1], temperature=1.0)
    assert all(np.allclose(r, p[:, ::-1], atol=1e-6) for r, p in zip(reordered, probs, strict=True))
    words = sum(len(u.words) for u in examples)
    gold = [[tags.index(t) for t in u.tags] for u in examples]
    right = sum(int((p.argmax(axis=1) == g).sum()) for p, g in zip(probs, gold, strict=True))
    assert right / words >= 0.9  # the teacher knows the tags


def test_the_slot_distillation_loss_reads_first_sub_words_only_and_is_zero_on_agreement():
    word_probs = [np.array([[0.7, 0.3], [0.1, 0.9]], dtype=np.float32)]
    targets, mask = slot_targets_from_words(word_probs, [[1, 3]], width=5)
    assert mask.tolist() == [[False, True, False, True, False]]
    agreeing = torch.zeros((1, 5, 2))
    agreeing[0, 1], agreeing[0, 3] = torch.log(torch.tensor([0.7, 0.3])), torch.log(torch.tensor([0.1, 0.9]))
    agreeing[0, 2] = torch.tensor([9.0, -9.0])  # a later sub-word: not read
    assert slot_distillation_loss(agreeing, targets, mask, temperature=1.0).item() == pytest.approx(
        0.0, abs=1e-6
    )
    assert slot_distillation_loss(torch.zeros((1, 5, 2)), targets, mask, temperature=1.0).item() > 0.05
    nothing = torch.zeros((1, 5), dtype=torch.bool)
    assert slot_distillation_loss(agreeing, targets, nothing, temperature=1.0).item() == 0.0


def test_a_student_learns_entities_from_the_teacher_on_sentences_nobody_annotated(
    tiny_model_dir, tiny_encoder_dir, tmp_path
):
    """Every training sentence's tags are unannotated: the student's slot head can only learn
    from the teacher's per-word tag distributions."""
    data = tiny_dataset()
    unannotated = [dataclasses.replace(u, tags=(UNLABELLED_TAG,) * len(u.words)) for u in data.split("train")]
    # The tag set comes from the training split: keep one annotated sentence per intent so that
    # the student has the teacher's tags to learn.
    keep = {u.intent: u for u in data.split("train") if any(t != "O" for t in u.tags)}
    train_split = unannotated + list(keep.values())
    dataset = Dataset("tiny", {**data.splits, "train": train_split}, has_slots=True, oos_label="oos")
    teacher_tags = set(LabelMaps.load(tiny_model_dir / "labels.json").tags)
    dataset_tags = {t for u in train_split for t in u.tags} - {UNLABELLED_TAG}
    assert dataset_tags <= teacher_tags
    student_dir = train_student(
        dataset, tmp_path, tiny_encoder_dir, tiny_model_dir, distill_weight=0.5, distill_slot_weight=1.0
    )
    scores = evaluate_predictor(WordPredictor.load(student_dir, "torch"), data.split("test"), "oos", True)
    assert scores["slot_f1"] >= 60.0


def test_a_teacher_without_the_students_tags_is_refused(tiny_model_dir):
    examples = tiny_dataset().split("test")[:2]
    with pytest.raises(ValueError, match="lacks the training data's tags \\['B-galaxy'\\]"):
        teacher_word_tag_probs([tiny_model_dir], examples, ["O", "B-galaxy"], temperature=1.0)
