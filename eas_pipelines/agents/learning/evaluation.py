"""Candidate vs serving model on the fixed test split, and the promotion rule (plain functions).

Both models are scored by the NLP service's own evaluator (:func:`evaluate_predictor`, the
predictor the server runs), so the numbers are the ones users would see. The rule is "not worse":
each compared metric of the candidate at least the serving model's, less ``tolerance``. A retrain
that only moves the scores by noise is then still promoted (it has the reviewers' corrections),
and one that loses accuracy is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_service.data.schema import Dataset

COMPARED = ("intent_accuracy", "slot_f1")


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: tuple[str, ...]


def score(model_dir: Path, dataset: Dataset, split: str = "test", threads: int | None = 1) -> dict[str, Any]:
    """The model's metrics on ``split`` of ``dataset``."""
    # Imported here, not with the code location: see assets.candidate_model.
    from nlp_service.inference.predictor import WordPredictor
    from nlp_service.training.evaluate import evaluate_predictor

    predictor = WordPredictor.load(model_dir, "auto", threads, "auto")
    return evaluate_predictor(predictor, dataset.split(split), dataset.oos_label, dataset.has_slots)


def not_worse(candidate: Mapping[str, Any], current: Mapping[str, Any], tolerance: float = 0.0) -> Verdict:
    """Whether the candidate may replace the serving model, with the reason for each metric."""
    reasons = []
    promote = True
    for metric in COMPARED:
        new, old = candidate.get(metric), current.get(metric)
        if not isinstance(new, int | float) or not isinstance(old, int | float):
            continue
        ok = new >= old - tolerance
        promote = promote and ok
        reasons.append(f"{metric}: {new:.4f} vs {old:.4f} ({'not worse' if ok else 'worse'})")
    if not reasons:
        return Verdict(False, ("no comparable metric",))
    return Verdict(promote, tuple(reasons))
