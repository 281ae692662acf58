"""Calibrating intent confidence on dev: a temperature, then an out-of-scope threshold.

Temperature scaling (Guo et al. 2017) makes the softmax confidence mean what it says
without changing the argmax. The threshold then trades in-scope accuracy against
out-of-scope recall; it is chosen on dev, never on test, to maximise their sum. Data
with no out-of-scope examples in dev gets no threshold: there is nothing to tune it on.
"""

from __future__ import annotations

import numpy as np

from nlp_service.model.bio import log_softmax


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature that minimises dev negative log-likelihood (grid search)."""
    known = gold >= 0
    if not known.any():
        return 1.0
    logits, gold = logits[known], gold[known]
    best, best_nll = 1.0, float("inf")
    for temperature in np.exp(np.linspace(np.log(0.25), np.log(8.0), 60)):
        nll = -log_softmax(logits / temperature)[np.arange(len(gold)), gold].mean()
        if nll < best_nll:
            best, best_nll = float(temperature), float(nll)
    return best


def fit_oos_threshold(probs: np.ndarray, gold: np.ndarray, oos_index: int | None) -> float:
    """Confidence threshold maximising in-scope accuracy + out-of-scope recall on dev."""
    if oos_index is None or not (gold == oos_index).any() or (gold == oos_index).all():
        return 0.0
    argmax = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    is_oos = gold == oos_index
    best, best_score = 0.0, -1.0
    for threshold in np.unique(np.concatenate([[0.0], np.round(confidence, 4)])):
        predicted_oos = (argmax == oos_index) | (confidence < threshold)
        in_scope_acc = ((argmax == gold) & ~predicted_oos)[~is_oos].mean()
        oos_recall = predicted_oos[is_oos].mean()
        score = in_scope_acc + oos_recall
        if score > best_score + 1e-9:
            best, best_score = float(threshold), float(score)
    return best
