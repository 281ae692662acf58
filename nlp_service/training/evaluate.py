"""Scoring a model on a data split with the same predictor the server uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlp_service.data.schema import Utterance
from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.features import encode_words
from nlp_service.training.metrics import compute_metrics

EVAL_BATCH = 64


def _batches(items: Sequence, size: int):
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def predict_outputs(
    run, tokenizer, word_lists: Sequence[Sequence[str]], max_length: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw intent logits and sentence embeddings (None where ``run`` returns none), in input order."""
    order = sorted(range(len(word_lists)), key=lambda i: len(word_lists[i]))  # less padding
    logits, sentences = [], []
    for batch in _batches(order, EVAL_BATCH):
        encoded = encode_words(tokenizer, [word_lists[i] for i in batch], max_length)
        intents, _, *rest = run(encoded.input_ids, encoded.attention_mask)
        logits.append(intents)
        if rest:
            sentences.append(rest[0])
    if not logits:
        return np.zeros((0, 0)), None
    inverse = np.argsort(order)
    return np.concatenate(logits)[inverse], np.concatenate(sentences)[inverse] if sentences else None


def evaluate_predictor(
    predictor: WordPredictor, examples: Sequence[Utterance], oos_label: str | None, has_slots: bool
) -> dict:
    # Sorting by length keeps padding (and time) down; the order does not change the scores.
    ordered = sorted(examples, key=lambda u: len(u.words))
    intents, tags, probs = [], [], []
    for batch in _batches(ordered, EVAL_BATCH):
        for prediction in predictor.predict([u.words for u in batch]):
            intent, _, _ = predictor.decide_intent(prediction.intent_probs, prediction.in_scope_score)
            intents.append(intent)
            tags.append(prediction.tags)
            probs.append(prediction.intent_probs)
    metrics = compute_metrics(ordered, intents, tags, oos_label, has_slots)
    if oos_label and oos_label in predictor.labels.intents and probs:
        metrics.update(out_of_scope_tradeoff(ordered, np.stack(probs), predictor.labels.intents, oos_label))
    return metrics


TRADEOFF_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def out_of_scope_tradeoff(
    examples: Sequence[Utterance], probs: np.ndarray, intents: Sequence[str], oos_label: str
) -> dict:
    """How much in-scope accuracy the out-of-scope decision costs, for choosing a threshold.

    ``in_scope_accuracy_without_rejection`` scores the in-scope examples by the best
    in-scope intent, as if nothing were ever sent to a person: the classifier's ceiling,
    which no threshold can beat. ``oos_tradeoff`` lists in-scope accuracy and out-of-scope
    recall at a few confidence thresholds (the out-of-scope class always rejects).
    """
    oos = list(intents).index(oos_label)
    known = {name: i for i, name in enumerate(intents)}
    gold = np.array([known.get(u.intent, -1) for u in examples])
    in_scope = np.array([u.intent != oos_label for u in examples])
    without_oos = probs.copy()
    without_oos[:, oos] = -1.0
    report: dict = {}
    if in_scope.any():
        ceiling = (without_oos.argmax(axis=1) == gold)[in_scope].mean()
        report["in_scope_accuracy_without_rejection"] = round(100.0 * float(ceiling), 2)
    best, confidence = probs.argmax(axis=1), probs.max(axis=1)
    rows = []
    for threshold in TRADEOFF_THRESHOLDS:
        predicted = np.where((best == oos) | (confidence < threshold), oos, best)
        row = {"threshold": threshold}
        if in_scope.any():
            row["in_scope_accuracy"] = round(100.0 * float((predicted == gold)[in_scope].mean()), 2)
        if (~in_scope).any():
            row["oos_recall"] = round(100.0 * float((predicted == oos)[~in_scope].mean()), 2)
        rows.append(row)
    report["oos_tradeoff"] = rows
    return report
