"""Word lists to encoder inputs, remembering which sub-word starts each word.

Labels sit on the first sub-word of each word (as in JointBERT); the other sub-words
are ignored in the loss and in decoding. Words cut off by ``max_length`` get no
position (-1) and are decoded as ``O``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IGNORE_INDEX = -100


@dataclass
class EncodedBatch:
    """Padded encoder inputs plus, per example, the sub-word index of each word."""

    input_ids: np.ndarray  # int64 [batch, seq]
    attention_mask: np.ndarray  # int64 [batch, seq]
    word_starts: list[list[int]]  # per example, per word: sub-word index or -1


def encode_words(tokenizer, batch: Sequence[Sequence[str]], max_length: int) -> EncodedBatch:
    """Tokenise pre-split words in one call to the fast tokenizer."""
    encoding = tokenizer(
        [list(words) for words in batch],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="np",
    )
    word_starts = []
    for row, words in enumerate(batch):
        starts = [-1] * len(words)
        for position, word_id in enumerate(encoding.word_ids(row)):
            if word_id is not None and starts[word_id] == -1:
                starts[word_id] = position
        word_starts.append(starts)
    return EncodedBatch(
        input_ids=encoding["input_ids"].astype(np.int64),
        attention_mask=encoding["attention_mask"].astype(np.int64),
        word_starts=word_starts,
    )


def slot_targets(encoded: EncodedBatch, tag_ids: Sequence[Sequence[int]]) -> np.ndarray:
    """Per sub-word training targets: the word's tag on its first sub-word, ignored elsewhere."""
    targets = np.full(encoded.input_ids.shape, IGNORE_INDEX, dtype=np.int64)
    for row, (starts, tags) in enumerate(zip(encoded.word_starts, tag_ids, strict=True)):
        for position, tag in zip(starts, tags, strict=True):
            if position >= 0:
                targets[row, position] = tag
    return targets
