"""More training sentences by swapping entity values (``TrainConfig.augment_copies``).

Why: most slot errors on SNIPS are the edges of free-text names (titles, playlists) the
model has not seen; the same carrier sentence with other values of the same entity type
shows it more names in more contexts. Values are only swapped within one intent, so a
playlist name never lands in a weather question, and only for open-class types (many
distinct values: names, titles), so the words that agree with them stay true: "play the
*album* X" keeps its ``music_item`` and gets another album name, not a track name.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from nlp_service.data.schema import Utterance
from nlp_service.text.spans import bio_spans

OPEN_CLASS_MIN_VALUES = 50  # distinct values an (intent, type) needs before its values are swapped


def substitute_entities(examples: Sequence[Utterance], copies: int, seed: int) -> list[Utterance]:
    """Up to ``copies`` new sentences per example with entities, each entity replaced by a value
    of its type seen with the same intent (a copy equal to its source is dropped)."""
    if copies < 0:
        raise ValueError(f"augment_copies must be 0 or more, not {copies}")
    seen: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for example in examples:
        for kind, first, last in bio_spans(example.tags):
            seen[(example.intent, kind)].add(example.words[first : last + 1])
    values = {key: sorted(found) for key, found in seen.items() if len(found) >= OPEN_CLASS_MIN_VALUES}
    rng = random.Random(seed)
    made: list[Utterance] = []
    for example in examples:
        spans = [
            (kind, first, last + 1)
            for kind, first, last in bio_spans(example.tags)
            if (example.intent, kind) in values
        ]
        if not spans:
            continue
        for _ in range(copies):
            words: list[str] = []
            tags: list[str] = []
            cursor = 0
            for kind, begin, end in spans:
                words.extend(example.words[cursor:begin])
                tags.extend(example.tags[cursor:begin])
                value = rng.choice(values[(example.intent, kind)])
                words.extend(value)
                tags.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(value) - 1))
                cursor = end
            words.extend(example.words[cursor:])
            tags.extend(example.tags[cursor:])
            if tuple(words) != example.words:
                made.append(Utterance(tuple(words), tuple(tags), example.intent))
    return made
