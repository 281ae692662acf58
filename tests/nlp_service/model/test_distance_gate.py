"""The distance gate: Mahalanobis scores to the intents' means, its threshold, its file."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf

from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.distance_gate import GATE_FILE, DistanceGate
from nlp_service.model.labels import LabelMaps
from nlp_service.training.calibration import fit_distance_threshold


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two intents in 8 dimensions, stretched along the first axis (a covariance that is not round)."""
    rng = np.random.default_rng(seed)
    scale = np.array([5.0, 1, 1, 1, 1, 1, 1, 1])
    first = rng.normal(size=(200, 8)) * scale
    second = rng.normal(size=(200, 8)) * scale + np.array([0, 6, 0, 0, 0, 0, 0, 0])
    return np.concatenate([first, second]), np.array([3] * 200 + [7] * 200)


def test_scores_are_minus_the_squared_mahalanobis_distance_to_the_nearest_mean():
    embeddings, intents = _clusters()
    gate = DistanceGate.fit(embeddings, intents)
    means = np.stack([embeddings[intents == i].mean(axis=0) for i in (3, 7)])
    centred = embeddings - means[(intents == 7).astype(int)]
    precision = LedoitWolf().fit(centred).precision_
    queries = np.array([[9.0, 0, 0, 0, 0, 0, 0, 0], [0, 3, 0, 0, 0, 2, 0, 0]])
    expected = -np.min(
        [np.einsum("ij,jk,ik->i", queries - mean, precision, queries - mean) for mean in means], axis=0
    )
    assert gate.scores(queries) == pytest.approx(expected, rel=1e-3)


def test_the_covariance_shapes_what_is_near():
    """A point far along the stretched axis is nearer than one as far along a narrow axis."""
    gate = DistanceGate.fit(*_clusters())
    along_wide, along_narrow = gate.scores(np.array([[8.0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 8.0, 0, 0, 0, 0, 0]]))
    assert along_wide > along_narrow


def test_the_gate_admits_from_its_threshold_and_survives_a_round_trip(tmp_path):
    gate = DistanceGate.fit(*_clusters())
    gate.threshold = -20.0
    assert gate.admits(-19.9) and gate.admits(-20.0) and not gate.admits(-20.1)
    assert DistanceGate.load(tmp_path) is None
    gate.save(tmp_path)
    loaded = DistanceGate.load(tmp_path)
    assert (tmp_path / GATE_FILE).is_file() and loaded.threshold == -20.0
    queries = np.random.default_rng(1).normal(size=(5, 8))
    assert loaded.scores(queries) == pytest.approx(gate.scores(queries))


def test_fitting_needs_embeddings_with_an_intent_each():
    with pytest.raises(ValueError, match="one intent index each"):
        DistanceGate.fit(np.zeros((3, 4)), np.array([0, 1]))


def test_the_threshold_admits_at_most_the_budget_of_unrelated_sentences():
    oos = 0
    scores = np.array([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0, -0.5, -0.1])
    predicted = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2, 2])
    unrelated = np.array([True] * 10 + [False, False])
    threshold = fit_distance_threshold(predicted, scores, unrelated, oos, budget=0.2)
    admitted = unrelated & (predicted != oos) & (scores >= threshold)
    assert admitted.sum() == 2 and -2.0 >= threshold > -3.0
    assert fit_distance_threshold(predicted, scores, unrelated, oos, budget=0.0) > -1.0
    # The model's out-of-scope class already stops everything unrelated: no threshold is needed.
    assert fit_distance_threshold(np.zeros(12, int), scores, unrelated, oos, budget=0.0) == float("-inf")
    with pytest.raises(ValueError, match="launch budget"):
        fit_distance_threshold(predicted, scores, unrelated, oos, budget=1.5)


def test_the_predictor_sends_a_confident_sentence_the_gate_refuses_out_of_scope():
    labels = LabelMaps(intents=["finance.invoice", "oos"], tags=["O"], oos_label="oos")
    gate = DistanceGate(np.eye(2, dtype=np.float32), np.zeros((1, 2), dtype=np.float32), threshold=-1.0)
    predictor = WordPredictor(run=None, tokenizer=None, labels=labels, max_length=8, gate=gate)
    probs = np.array([0.97, 0.03])
    assert predictor.decide_intent(probs, in_scope_score=-0.5) == ("finance.invoice", 0.97, False)
    assert predictor.decide_intent(probs, in_scope_score=-1.5) == ("oos", 0.97, True)
    # A model without a gate, or a prediction without a score, decides by the classes alone.
    assert WordPredictor(None, None, labels, 8).decide_intent(probs, -1.5)[2] is False
