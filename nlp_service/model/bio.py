"""Decoding slot scores into a valid BIO sequence.

Independent per-word argmax can emit ``I-x`` after ``O`` or after ``B-y``; seqeval then
counts a broken entity. A Viterbi pass over the word scores with the BIO transition
constraints returns the best *valid* sequence at a cost of a few microseconds.
"""

from __future__ import annotations

import numpy as np

_FORBIDDEN = -1e4


def transition_mask(tags: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(start scores, transition scores): 0 where allowed, a large negative where not."""
    size = len(tags)
    start = np.zeros(size, dtype=np.float32)
    transitions = np.zeros((size, size), dtype=np.float32)
    for j, tag in enumerate(tags):
        if not tag.startswith("I-"):
            continue
        start[j] = _FORBIDDEN
        kind = tag[2:]
        for i, previous in enumerate(tags):
            if previous not in (f"B-{kind}", f"I-{kind}"):
                transitions[i, j] = _FORBIDDEN
    return start, transitions


def viterbi(
    log_probs: np.ndarray, start: np.ndarray, transitions: np.ndarray, end: np.ndarray | None = None
) -> list[int]:
    """Best tag index sequence for one utterance's ``[words, tags]`` scores (log-probabilities,
    or a CRF's emissions with its learnt ``start``/``transitions``/``end`` added)."""
    if len(log_probs) == 0:
        return []
    score = start + log_probs[0]
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for t in range(1, len(log_probs)):
        candidates = score[:, None] + transitions
        back[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + log_probs[t]
    if end is not None:
        score = score + end
    path = [int(score.argmax())]
    for t in range(len(log_probs) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
