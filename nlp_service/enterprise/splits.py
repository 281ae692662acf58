"""Partition of each intent's templates into train, dev and test.

Dev and test are built from templates the model never trains on, so their scores
measure generalisation to new phrasings rather than recall of seen sentence frames.
Each intent keeps about 70% of its templates for train and at least one for each of dev
and test. A shuffle is accepted only if every entity type is guaranteed (outside choice
groups) by some template in every split; otherwise the next shuffle is tried.
"""

from __future__ import annotations

import random

from nlp_service.enterprise.labels import ENTITY_TYPES
from nlp_service.enterprise.template import entity_types

SPLITS = ("train", "dev", "test")
EVAL_SHARE = 0.15
_MAX_ATTEMPTS = 500

Partition = dict[str, dict[str, tuple[str, ...]]]
"""split -> intent -> templates."""


def _eval_count(total: int) -> int:
    return max(1, round(total * EVAL_SHARE))


def _shuffle_once(templates: dict[str, tuple[str, ...]], seed: int, attempt: int) -> Partition:
    partition: Partition = {split: {} for split in SPLITS}
    for intent, items in templates.items():
        if len(items) < 3:
            raise ValueError(f"intent {intent!r} needs at least 3 templates to fill train, dev and test")
        order = list(items)
        random.Random(f"{seed}:{attempt}:{intent}").shuffle(order)
        n = _eval_count(len(order))
        partition["dev"][intent] = tuple(order[:n])
        partition["test"][intent] = tuple(order[n : 2 * n])
        partition["train"][intent] = tuple(order[2 * n :])
    return partition


def missing_types(partition: Partition) -> dict[str, set[str]]:
    """Entity types that no template of a split is guaranteed to produce, per split."""
    missing = {}
    for split, by_intent in partition.items():
        covered = set().union(*(entity_types(t, guaranteed=True) for ts in by_intent.values() for t in ts))
        missing[split] = set(ENTITY_TYPES) - covered
    return missing


def partition_templates(templates: dict[str, tuple[str, ...]], seed: int) -> Partition:
    """A seeded partition in which every split can produce every entity type.

    Each intent is shuffled by its own seeded generator, so editing one intent's templates
    leaves the other intents' partitions as they were (unless the edit changes which
    shuffle attempt is the first to cover every entity type).
    """
    for attempt in range(_MAX_ATTEMPTS):
        partition = _shuffle_once(templates, seed, attempt)
        if not any(missing_types(partition).values()):
            return partition
    raise ValueError(f"no partition covers every entity type in every split: {missing_types(partition)}")
