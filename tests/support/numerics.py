"""Comparing model outputs across code paths the way the product promises, on any CPU.

Batching, length grouping, ONNX against PyTorch: each may change a score in the fourth decimal,
and by how much depends on the CPU's vector units (AVX2, AVX-512, NEON pick different kernels and
summation orders). What must not change is what a request is classified as: labels, offsets and
values are compared exactly, scores within these tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from nlp_service.inference.result import ParseResult

SCORE_RTOL = 1e-3
SCORE_ATOL = 2e-3
"""Probabilities and logits agree to this across code paths; seen apart by ~1e-4 on AVX2 CPUs."""


def assert_scores_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Scores (logits or probabilities) of two code paths agree within the portable tolerance."""
    np.testing.assert_allclose(actual, expected, rtol=SCORE_RTOL, atol=SCORE_ATOL)


def assert_same_parse(actual: ParseResult, expected: ParseResult) -> None:
    """Same decision (intent, out-of-scope, entities with offsets and values, alternatives' intents)."""
    assert actual.intent == expected.intent
    assert actual.out_of_scope == expected.out_of_scope
    assert actual.entities == expected.entities
    assert actual.carried_entities == expected.carried_entities
    assert actual.model_version == expected.model_version
    assert actual.confidence == pytest.approx(expected.confidence, rel=SCORE_RTOL, abs=SCORE_ATOL)
    assert {a.intent for a in actual.alternatives} == {e.intent for e in expected.alternatives}
    expected_scores = {e.intent: e.confidence for e in expected.alternatives}
    for alternative in actual.alternatives:
        assert alternative.confidence == pytest.approx(
            expected_scores[alternative.intent], rel=SCORE_RTOL, abs=SCORE_ATOL
        )


def assert_same_parses(actual: Sequence[ParseResult], expected: Sequence[ParseResult]) -> None:
    assert len(actual) == len(expected)
    for one, other in zip(actual, expected, strict=True):
        assert_same_parse(one, other)
