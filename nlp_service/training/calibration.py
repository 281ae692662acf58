"""Calibrating intent confidence on dev: a temperature, then an out-of-scope threshold.

Temperature scaling (Guo et al. 2017) makes the softmax confidence mean what it says
without changing the argmax. The threshold then trades in-scope accuracy against
out-of-scope recall; it is chosen on dev, never on test, to maximise dev accuracy with
every example counting once (the accuracy Larson et al. 2019 report). Weighting the two
rates equally instead over-rejects when dev holds few out-of-scope examples (CLINC150:
100 of 3,100): measured 89.2 in-scope accuracy for 93.8 out-of-scope recall. Data with no
out-of-scope examples in dev gets no threshold: there is nothing to tune it on.

Where the dev split has out-of-scope examples, the distance gate (:mod:`nlp_service.model.distance_gate`)
is fitted too: its intent means and covariance on the training split's in-scope sentences, its
threshold on dev for a launch budget (at most ``LAUNCH_BUDGET`` of the out-of-scope dev sentences
admitted with an in-scope intent). The gate then decides what is out of scope instead of the
confidence threshold: on the realistic benchmark it let more work requests through for as few
unrelated launches (BENCHMARKS.md). Low confidence still sends a request to review (the gateway's
``EAS_MIN_CONFIDENCE``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlp_service.data.schema import Utterance
from nlp_service.model.bio import log_softmax
from nlp_service.model.distance_gate import DistanceGate
from nlp_service.model.labels import LabelMaps

LAUNCH_BUDGET = 0.01
"""Share of the out-of-scope dev sentences the distance gate may admit with an in-scope intent."""


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
    """Confidence threshold maximising dev accuracy, out-of-scope counting as a class."""
    if oos_index is None or not (gold == oos_index).any() or (gold == oos_index).all():
        return 0.0
    argmax = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    is_oos = gold == oos_index
    best, best_score = 0.0, -1.0
    for threshold in np.unique(np.concatenate([[0.0], np.round(confidence, 4)])):
        predicted_oos = (argmax == oos_index) | (confidence < threshold)
        score = (np.where(predicted_oos, is_oos, argmax == gold)).mean()
        if score > best_score + 1e-9:
            best, best_score = float(threshold), float(score)
    return best


def calibrate_labels(
    run, tokenizer, labels: LabelMaps, dev_set: Sequence[Utterance], max_length: int
) -> None:
    """Fit temperature and out-of-scope threshold on dev examples, storing them in ``labels``."""
    from nlp_service.training.evaluate import predict_outputs

    logits, _ = predict_outputs(run, tokenizer, [u.words for u in dev_set], max_length)
    index = labels.intent_index
    gold = np.array([index.get(u.intent, -1) for u in dev_set])
    labels.temperature = fit_temperature(logits, gold)
    probs = np.exp(log_softmax(logits / labels.temperature))
    oos_index = index.get(labels.oos_label) if labels.oos_label else None
    labels.oos_threshold = fit_oos_threshold(probs, gold, oos_index)


def fit_distance_threshold(
    predicted: np.ndarray, scores: np.ndarray, unrelated: np.ndarray, oos_index: int, budget: float
) -> float:
    """The lowest score threshold at which at most ``budget`` of the unrelated sentences would be
    admitted with an in-scope intent (``-inf`` when the model already launches none of them)."""
    if not 0.0 <= budget < 1.0:
        raise ValueError(f"the launch budget is a share from 0 to 1, not {budget}")
    would_launch = np.sort(scores[unrelated & (predicted != oos_index)])[::-1]
    allowed = int(budget * unrelated.sum())
    if len(would_launch) <= allowed:
        return float("-inf")
    return float(np.nextafter(would_launch[allowed], np.inf))


def fit_distance_gate(
    run,
    tokenizer,
    labels: LabelMaps,
    train_set: Sequence[Utterance],
    dev_set: Sequence[Utterance],
    max_length: int,
    budget: float = LAUNCH_BUDGET,
) -> DistanceGate | None:
    """The gate of this model (``run`` must return sentence embeddings), or None where dev has no
    out-of-scope sentence to fit its threshold on. Sets ``labels.oos_threshold`` to 0: the gate
    decides what is out of scope, not the confidence."""
    from nlp_service.training.evaluate import predict_outputs

    index = labels.intent_index
    oos_index = index.get(labels.oos_label) if labels.oos_label else None
    dev_gold = np.array([index.get(u.intent, -1) for u in dev_set])
    if oos_index is None or not (dev_gold == oos_index).any():
        return None
    in_scope = [u for u in train_set if u.intent in index and index[u.intent] != oos_index]
    _, sentences = predict_outputs(run, tokenizer, [u.words for u in in_scope], max_length)
    if sentences is None:
        raise ValueError("the distance gate needs a runtime that returns sentence embeddings")
    gate = DistanceGate.fit(sentences, np.array([index[u.intent] for u in in_scope]))
    logits, dev_sentences = predict_outputs(run, tokenizer, [u.words for u in dev_set], max_length)
    gate.threshold = fit_distance_threshold(
        logits.argmax(axis=1), gate.scores(dev_sentences), dev_gold == oos_index, oos_index, budget
    )
    labels.oos_threshold = 0.0
    return gate
