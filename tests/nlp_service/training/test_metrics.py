import numpy as np
import pytest

from nlp_service.data.schema import Utterance
from nlp_service.training.calibration import fit_oos_threshold, fit_temperature
from nlp_service.training.metrics import compute_metrics


def _u(intent, tags):
    return Utterance(tuple(f"w{i}" for i in range(len(tags))), tuple(tags), intent)


def test_joint_metrics_in_percent():
    gold = [_u("a", ["B-x", "O"]), _u("b", ["O", "B-y"]), _u("a", ["O", "O"]), _u("b", ["B-x", "I-x"])]
    metrics = compute_metrics(
        gold, ["a", "b", "b", "b"], [["B-x", "O"], ["O", "O"], ["O", "O"], ["B-x", "I-x"]]
    )
    assert metrics["intent_accuracy"] == 75.0
    assert metrics["sentence_accuracy"] == 50.0  # 1st and 4th: intent and every tag right
    assert metrics["slot_f1"] == pytest.approx(80.0)  # 2 of 3 gold entities found, no false positive
    assert metrics["per_intent"]["a"] == {"support": 2, "recall": 50.0, "confused_with": {"b": 1}}


def test_labels_seen_only_at_test_time_count_as_errors():
    gold = [_u("never_trained", ["B-new_type"]), _u("a", ["O"])]
    metrics = compute_metrics(gold, ["a", "a"], [["O"], ["O"]])
    assert metrics["intent_accuracy"] == 50.0 and metrics["slot_f1"] == 0.0


def test_out_of_scope_metrics_follow_larson():
    gold = [_u("a", ["O"]), _u("b", ["O"]), _u("oos", ["O"]), _u("oos", ["O"])]
    metrics = compute_metrics(gold, ["a", "oos", "oos", "b"], [["O"]] * 4, oos_label="oos", has_slots=False)
    assert metrics["in_scope_accuracy"] == 50.0  # "b" predicted out of scope is an in-scope error
    assert metrics["oos_recall"] == 50.0 and metrics["oos_precision"] == 50.0
    assert "slot_f1" not in metrics


def test_temperature_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), gold] += 1.0
    assert fit_temperature(logits * 10, gold) > 3.0


def test_threshold_catches_low_confidence_out_of_scope():
    # class 2 is out of scope; in-scope rows are confident, out-of-scope rows are not.
    probs = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.5, 0.4, 0.1], [0.45, 0.45, 0.1]])
    gold = np.array([0, 1, 2, 2])
    threshold = fit_oos_threshold(probs, gold, oos_index=2)
    assert 0.5 < threshold <= 0.9
    assert fit_oos_threshold(probs, np.array([0, 1, 0, 1]), oos_index=2) == 0.0


def test_threshold_does_not_reject_many_in_scope_for_few_out_of_scope():
    # Ten correct but unsure in-scope rows, one out-of-scope row a little surer: catching it would
    # cost ten in-scope answers, so dev accuracy keeps the threshold at zero.
    probs = np.array([[0.4, 0.35, 0.25]] * 10 + [[0.45, 0.35, 0.2]] + [[0.9, 0.05, 0.05]] * 5)
    gold = np.array([0] * 10 + [2] + [0] * 5)
    assert fit_oos_threshold(probs, gold, oos_index=2) == 0.0
