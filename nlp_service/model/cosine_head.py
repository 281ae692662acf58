"""A cosine intent classifier, the alternative to the linear intent head.

Measured in BENCHMARKS.md. Its scale is saved as a buffer (``intent_head.scale``), so a
saved model loads back with the head it was trained with, without reading the training
config.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CosineIntentHead(nn.Module):
    """Scores each intent by the cosine between the sentence vector and the intent's vector,
    times a fixed scale.

    Why: all-MiniLM-L6-v2 was trained so that cosine similarity of mean-pooled states carries
    meaning. A cosine head keeps that geometry, and its scores are bounded by the scale, so
    a request that resembles no intent cannot get a large score by having a large norm,
    which is what the out-of-scope threshold relies on.
    """

    def __init__(self, hidden: int, num_intents: int, scale: float) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"intent_cosine_scale must be positive (0: a linear head), not {scale}")
        self.weight = nn.Parameter(torch.empty(num_intents, hidden))
        nn.init.normal_(self.weight, std=0.02)
        self.register_buffer("scale", torch.tensor(float(scale)))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.scale * F.linear(F.normalize(pooled, dim=-1), F.normalize(self.weight, dim=-1))
