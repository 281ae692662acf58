"""Intent and slot targets from trained teacher models (``TrainConfig.distill_teachers``).

Why: one fine-tuned encoder of this size stops short of the accuracy an ensemble of
several reaches, and serving an ensemble would multiply the cost of every parse. Training
a new model towards the averaged, softened intent distributions of already-trained models
(knowledge distillation, Hinton et al. 2015) passes on what the ensemble knows about which
intents resemble which, at the cost of one model per parse. A teacher may use another
encoder (a larger one trained on a GPU): each reads the training sentences with its own
tokenizer, and only its intent and tag names have to match the student's.

Slots are distilled per *word*: each teacher's tag distribution is read on the first sub-word of
every word (its own tokenizer's), so teachers and student with different vocabularies still agree
on which word a distribution belongs to. A word nobody annotated (``UNLABELLED_TAG``, a borrowed
human-written sentence) still gets the teachers' view of its tag, which is how such sentences
teach the slot head at all.
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
from nlp_service.model.features import encode_words
from nlp_service.model.labels import LabelMaps
from nlp_service.training.evaluate import EVAL_BATCH


def teacher_intent_probs(
    teacher_dirs: Sequence[str | Path],
    examples: Sequence[Utterance],
    intents: Sequence[str],
    temperature: float,
) -> np.ndarray:
    """The teachers' mean intent distribution at ``temperature``, one row per example, with
    columns in the order of ``intents`` (float32 [examples, intents])."""
    return teacher_targets(teacher_dirs, examples, intents, None, temperature)[0]


def teacher_word_tag_probs(
    teacher_dirs: Sequence[str | Path],
    examples: Sequence[Utterance],
    tags: Sequence[str],
    temperature: float,
) -> list[np.ndarray]:
    """The teachers' mean tag distribution of every word at ``temperature``: one float32
    [words, tags] array per example, columns in the order of ``tags``."""
    word_probs = teacher_targets(teacher_dirs, examples, None, tags, temperature)[1]
    assert word_probs is not None
    return word_probs


def teacher_targets(
    teacher_dirs: Sequence[str | Path],
    examples: Sequence[Utterance],
    intents: Sequence[str] | None,
    tags: Sequence[str] | None,
    temperature: float,
) -> tuple[np.ndarray | None, list[np.ndarray] | None]:
    """Both targets from one pass of each teacher over the examples (a large teacher on a CPU
    costs minutes per pass): the mean intent distributions (when ``intents`` is given) and the
    mean per-word tag distributions (when ``tags`` is given), at ``temperature``.

    A word cut off by a teacher's maximum length gets a uniform row from that teacher (it has
    no view of it).
    """
    if temperature <= 0:
        raise ValueError(f"distill_temperature must be above 0, not {temperature}")
    check_teachers(teacher_dirs)
    intent_total = np.zeros((len(examples), len(intents)), dtype=np.float32) if intents is not None else None
    tag_total = (
        [np.zeros((len(u.words), len(tags)), dtype=np.float32) for u in examples]
        if tags is not None
        else None
    )
    for teacher_dir in teacher_dirs:
        _one_teacher(Path(teacher_dir), examples, intents, tags, temperature, intent_total, tag_total)
    count = len(teacher_dirs)
    return (
        intent_total / count if intent_total is not None else None,
        [row / count for row in tag_total] if tag_total is not None else None,
    )


def check_teachers(teacher_dirs: Sequence[str | Path]) -> None:
    """Fail before any training if a teacher is not a model directory."""
    for teacher_dir in teacher_dirs:
        if not (Path(teacher_dir) / "labels.json").is_file():
            raise ValueError(f"distillation teacher {teacher_dir} is not a trained model directory")


def _teacher_columns(
    teacher_dir: Path, labels: LabelMaps, intents: Sequence[str] | None, tags: Sequence[str] | None
) -> tuple[list[int] | None, list[int] | None]:
    """The teacher's output columns in the student's order; refuses other intents or missing tags."""
    intent_columns = tag_columns = None
    if intents is not None:
        if sorted(labels.intents) != sorted(intents):
            missing = sorted(set(intents) - set(labels.intents))
            extra = sorted(set(labels.intents) - set(intents))
            raise ValueError(
                f"distillation teacher {teacher_dir} has other intents than the training data "
                f"(missing {missing[:5]}, extra {extra[:5]})"
            )
        intent_columns = [labels.intents.index(name) for name in intents]
    if tags is not None:
        missing = sorted(set(tags) - set(labels.tags))
        if missing:
            raise ValueError(
                f"distillation teacher {teacher_dir} lacks the training data's tags {missing[:5]}"
            )
        tag_columns = [labels.tags.index(name) for name in tags]
    return intent_columns, tag_columns


def _one_teacher(
    teacher_dir: Path,
    examples: Sequence[Utterance],
    intents: Sequence[str] | None,
    tags: Sequence[str] | None,
    temperature: float,
    intent_total: np.ndarray | None,
    tag_total: list[np.ndarray] | None,
) -> None:
    """Add one teacher's distributions to the totals, reading each example once."""
    labels = LabelMaps.load(teacher_dir / "labels.json")
    intent_columns, tag_columns = _teacher_columns(teacher_dir, labels, intents, tags)
    run = TorchBackend.from_dir(teacher_dir)
    tokenizer, max_length = load_tokenizer(teacher_dir), Manifest.load(teacher_dir).max_length
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].words))  # less padding
    for start in range(0, len(order), EVAL_BATCH):
        batch = order[start : start + EVAL_BATCH]
        encoded = encode_words(tokenizer, [examples[i].words for i in batch], max_length)
        intent_logits, slot_logits, *_ = run(encoded.input_ids, encoded.attention_mask)
        if intent_total is not None:
            scaled = torch.from_numpy(intent_logits[:, intent_columns]) / temperature
            intent_total[batch] += torch.softmax(scaled, dim=-1).numpy()
        if tag_total is not None:
            scaled = torch.from_numpy(slot_logits[:, :, tag_columns]) / temperature
            probs = torch.softmax(scaled, dim=-1).numpy()
            for row, index in enumerate(batch):
                starts = np.array(encoded.word_starts[row])
                seen = starts >= 0
                tag_total[index][seen] += probs[row, starts[seen]]
                tag_total[index][~seen] += 1.0 / len(tag_columns)


def distillation_loss(
    student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL(teacher ‖ student) at ``temperature``, times its square so that the gradient keeps
    the size of the hard-label loss's whatever the temperature (Hinton et al.)."""
    log_student = functional.log_softmax(student_logits / temperature, dim=-1)
    return functional.kl_div(log_student, teacher_probs, reduction="batchmean") * temperature**2


def slot_targets_from_words(
    word_probs: Sequence[np.ndarray], word_starts: Sequence[Sequence[int]], width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sub-word soft targets for a batch: each word's distribution on its first sub-word.

    Returns ``(targets [rows, width, tags], mask [rows, width])``; positions that are not a
    word's first sub-word (or lie past ``width``) are masked out.
    """
    tags = word_probs[0].shape[1] if len(word_probs) else 0
    targets = torch.zeros((len(word_probs), width, tags))
    mask = torch.zeros((len(word_probs), width), dtype=torch.bool)
    for row, (probs, starts) in enumerate(zip(word_probs, word_starts, strict=True)):
        positions = np.asarray(starts)
        keep = (positions >= 0) & (positions < width)
        targets[row, positions[keep]] = torch.from_numpy(probs[keep])
        mask[row, positions[keep]] = True
    return targets, mask


def slot_distillation_loss(
    slot_logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL(teacher ‖ student) over the masked positions' tag distributions, times temperature²
    (the per-word counterpart of :func:`distillation_loss`); zero when no position is masked in."""
    if not bool(mask.any()):
        return slot_logits.sum() * 0.0
    log_student = functional.log_softmax(slot_logits[mask] / temperature, dim=-1)
    return functional.kl_div(log_student, targets[mask], reduction="batchmean") * temperature**2
