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


def predict_logits(run, tokenizer, word_lists: Sequence[Sequence[str]], max_length: int) -> np.ndarray:
    """Raw intent logits for many utterances (for calibration)."""
    rows = []
    for batch in _batches(list(word_lists), EVAL_BATCH):
        encoded = encode_words(tokenizer, batch, max_length)
        intent_logits, _ = run(encoded.input_ids, encoded.attention_mask)
        rows.append(intent_logits)
    return np.concatenate(rows) if rows else np.zeros((0, 0))


def evaluate_predictor(
    predictor: WordPredictor, examples: Sequence[Utterance], oos_label: str | None, has_slots: bool
) -> dict:
    # Sorting by length keeps padding (and time) down; the order does not change the scores.
    ordered = sorted(examples, key=lambda u: len(u.words))
    intents, tags = [], []
    for batch in _batches(ordered, EVAL_BATCH):
        for prediction in predictor.predict([u.words for u in batch]):
            intent, _, _ = predictor.decide_intent(prediction.intent_probs)
            intents.append(intent)
            tags.append(prediction.tags)
    return compute_metrics(ordered, intents, tags, oos_label, has_slots)
