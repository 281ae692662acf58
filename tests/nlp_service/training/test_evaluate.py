"""The out-of-scope trade-off report: the classifier's ceiling and accuracy/recall per threshold."""

import numpy as np
import pytest

from nlp_service.data.schema import Utterance
from nlp_service.training.evaluate import out_of_scope_tradeoff

INTENTS = ["oos", "pay", "leave"]


def _utterance(intent: str) -> Utterance:
    return Utterance(("some", "words"), ("O", "O"), intent)


def test_ceiling_ignores_rejection_and_thresholds_trade_accuracy_for_recall():
    examples = [_utterance(i) for i in ("pay", "pay", "leave", "oos", "oos")]
    probs = np.array(
        [
            [0.10, 0.85, 0.05],  # pay, confident
            [0.60, 0.35, 0.05],  # pay, but the oos class wins: an error, right without rejection
            [0.20, 0.30, 0.50],  # leave, unsure
            [0.70, 0.20, 0.10],  # oos, caught by the class
            [0.10, 0.55, 0.35],  # oos, caught only by a threshold above 0.55
        ]
    )
    report = out_of_scope_tradeoff(examples, probs, INTENTS, "oos")
    assert report["in_scope_accuracy_without_rejection"] == 100.0
    by_threshold = {row["threshold"]: row for row in report["oos_tradeoff"]}
    assert by_threshold[0.0] == {
        "threshold": 0.0,
        "in_scope_accuracy": pytest.approx(66.67),
        "oos_recall": 50.0,
    }
    assert by_threshold[0.6]["oos_recall"] == 100.0
    assert by_threshold[0.6]["in_scope_accuracy"] == pytest.approx(33.33)  # "leave" at 0.50 is rejected
    recalls = [row["oos_recall"] for row in report["oos_tradeoff"]]
    assert recalls == sorted(recalls)


def test_unknown_gold_intents_count_as_errors_not_crashes():
    examples = [_utterance("pay"), _utterance("never_trained")]
    probs = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    report = out_of_scope_tradeoff(examples, probs, INTENTS, "oos")
    assert report["in_scope_accuracy_without_rejection"] == 50.0
    assert "oos_recall" not in report["oos_tradeoff"][0]
