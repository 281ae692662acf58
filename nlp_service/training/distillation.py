"""Intent targets from trained teacher models (``TrainConfig.distill_teachers``).

Why: one fine-tuned encoder of this size stops short of the accuracy an ensemble of
several reaches, and serving an ensemble would multiply the cost of every parse. Training
a new model towards the averaged, softened intent distributions of already-trained models
(knowledge distillation, Hinton et al. 2015) passes on what the ensemble knows about which
intents resemble which, at the cost of one model per parse. A teacher may use another
encoder (a larger one trained on a GPU): each reads the training sentences with its own
tokenizer, and only its intent names have to match the student's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from nlp_service.data.schema import Utterance
from nlp_service.inference.backends import TorchBackend
from nlp_service.model.bundle import Manifest, load_tokenizer
from nlp_service.model.labels import LabelMaps
from nlp_service.training.evaluate import predict_logits


def teacher_intent_probs(
    teacher_dirs: Sequence[str | Path],
    examples: Sequence[Utterance],
    intents: Sequence[str],
    temperature: float,
) -> np.ndarray:
    """The teachers' mean intent distribution at ``temperature``, one row per example, with
    columns in the order of ``intents`` (float32 [examples, intents])."""
    if temperature <= 0:
        raise ValueError(f"distill_temperature must be above 0, not {temperature}")
    total = np.zeros((len(examples), len(intents)), dtype=np.float32)
    for teacher_dir in teacher_dirs:
        total += _one_teacher(Path(teacher_dir), examples, intents, temperature)
    return total / len(teacher_dirs)


def check_teachers(teacher_dirs: Sequence[str | Path]) -> None:
    """Fail before any training if a teacher is not a model directory."""
    for teacher_dir in teacher_dirs:
        if not (Path(teacher_dir) / "labels.json").is_file():
            raise ValueError(f"distillation teacher {teacher_dir} is not a trained model directory")


def _one_teacher(
    teacher_dir: Path, examples: Sequence[Utterance], intents: Sequence[str], temperature: float
) -> np.ndarray:
    check_teachers([teacher_dir])
    labels = LabelMaps.load(teacher_dir / "labels.json")
    if sorted(labels.intents) != sorted(intents):
        missing = sorted(set(intents) - set(labels.intents))
        extra = sorted(set(labels.intents) - set(intents))
        raise ValueError(
            f"distillation teacher {teacher_dir} has other intents than the training data "
            f"(missing {missing[:5]}, extra {extra[:5]})"
        )
    run = TorchBackend.from_dir(teacher_dir)
    columns = [labels.intents.index(name) for name in intents]
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].words))  # less padding
    words = [examples[i].words for i in order]
    logits = predict_logits(run, load_tokenizer(teacher_dir), words, Manifest.load(teacher_dir).max_length)
    probs = np.empty((len(examples), len(intents)), dtype=np.float32)
    probs[order] = torch.softmax(torch.from_numpy(logits[:, columns]) / temperature, dim=-1).numpy()
    return probs


def distillation_loss(
    student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL(teacher ‖ student) at ``temperature``, times its square so that the gradient keeps
    the size of the hard-label loss's whatever the temperature (Hinton et al.)."""
    log_student = functional.log_softmax(student_logits / temperature, dim=-1)
    return functional.kl_div(log_student, teacher_probs, reduction="batchmean") * temperature**2
