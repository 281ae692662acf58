"""Splitting a micro-batch by length: every row once, and the cheapest split."""

import itertools

import numpy as np
import pytest

from nlp_service.inference.length_groups import plan_length_groups


def _cost(lengths, groups, call_cost):
    return sum(call_cost + len(rows) * max(lengths[i] for i in rows) for rows in groups)


def test_every_row_is_in_exactly_one_group():
    lengths = [12, 3, 40, 12, 7, 3, 25, 9, 12]
    groups = plan_length_groups(lengths, 4.0)
    rows = sorted(int(i) for group in groups for i in group)
    assert rows == list(range(len(lengths)))


def test_equal_lengths_share_a_group_and_groups_ascend():
    lengths = [5, 30, 5, 30, 5, 30]
    groups = plan_length_groups(lengths, 0.0)
    assert [sorted(g.tolist()) for g in groups] == [[0, 2, 4], [1, 3, 5]]


def test_a_dear_call_keeps_one_group_and_a_free_call_splits_every_length():
    lengths = [4, 9, 16, 25]
    assert len(plan_length_groups(lengths, 1000.0)) == 1
    assert len(plan_length_groups(lengths, 0.0)) == 4


@pytest.mark.parametrize("seed", range(20))
def test_the_split_is_the_cheapest_contiguous_one(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 40, size=int(rng.integers(1, 14))).tolist()
    call_cost = float(rng.uniform(0, 20))
    values = sorted(set(lengths))
    best = np.inf
    for cuts in itertools.product([False, True], repeat=len(values) - 1):
        groups, current = [], [values[0]]
        for value, cut in zip(values[1:], cuts, strict=True):
            if cut:
                groups.append(current)
                current = []
            current.append(value)
        groups.append(current)
        rows = [[i for i, n in enumerate(lengths) if n in group] for group in groups]
        best = min(best, _cost(lengths, rows, call_cost))
    planned = plan_length_groups(lengths, call_cost)
    assert _cost(lengths, planned, call_cost) == pytest.approx(best)


def test_empty_and_bad_input():
    assert plan_length_groups([]) == []
    with pytest.raises(ValueError, match="call_cost_tokens must not be negative"):
        plan_length_groups([3, 4], -1.0)
