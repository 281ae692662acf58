"""Splitting a micro-batch into model calls of similar-length texts.

Why: a model call pads every text to the longest one in it, and the encoder's cost grows
with the padded length. Enterprise requests run from 3 to 40 sub-words, so a batch of 24
random requests was nearly half padding (25.6 padded sub-words per parse for 14.0 real
ones, BENCHMARKS.md). Each extra call has a fixed cost too, so the split is chosen to
minimise ``calls * call_cost + sum(group size * group's longest length)``, exactly, by
dynamic programming over the distinct lengths (at most ``max_length`` of them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_CALL_COST_TOKENS = 10.0
"""The fixed cost of one more model call, in padded sub-words of work; measured on the
int8 CPU path (BENCHMARKS.md), where a call costs about as much as 4-8 sub-words."""


def plan_length_groups(
    lengths: Sequence[int], call_cost_tokens: float = DEFAULT_CALL_COST_TOKENS
) -> list[np.ndarray]:
    """Row indices per model call, cheapest split first-to-last by length.

    Rows of equal length always share a call; every row is in exactly one group.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size == 0:
        return []
    if call_cost_tokens < 0:
        raise ValueError(f"call_cost_tokens must not be negative, got {call_cost_tokens}")
    if (lengths == lengths[0]).all():  # one parse, or rows alike: one call, nothing to plan
        return [np.arange(lengths.size)]
    values, counts = np.unique(lengths, return_counts=True)  # ascending distinct lengths
    before = np.concatenate([[0], np.cumsum(counts)])  # rows shorter than values[i]
    best = np.full(len(values) + 1, np.inf)
    best[0] = 0.0
    cut = np.zeros(len(values) + 1, dtype=np.int64)
    for end in range(1, len(values) + 1):
        # The group (values[start:end]) is padded to values[end - 1].
        starts = np.arange(end)
        costs = best[:end] + call_cost_tokens + (before[end] - before[starts]) * values[end - 1]
        start = int(costs.argmin())
        best[end], cut[end] = costs[start], start
    bounds = []
    end = len(values)
    while end > 0:
        bounds.append((cut[end], end))
        end = cut[end]
    groups = []
    for start, end in reversed(bounds):
        rows = np.flatnonzero((lengths >= values[start]) & (lengths <= values[end - 1]))
        groups.append(rows)
    return groups
