"""A linear-chain CRF over the slot head's word scores (``eas-nlp train --crf``).

Why: the plain slot head scores each word on its own, and Viterbi decoding only forbids
invalid BIO steps. A CRF also learns how likely each step is (``B-artist`` → ``I-artist``
vs ``B-artist`` → ``B-album``) and trains the whole tag sequence at once. The encoder
and the ONNX export stay as they are: the CRF is three small score tables that the
decoder reads from ``labels.json`` (``LabelMaps.slot_transitions``), so serving costs the
same. Written out here, not taken from a library: the forward algorithm is a dozen
lines, and the one CRF package for PyTorch has not been released since 2020.
"""

from __future__ import annotations

import torch
from torch import nn

from nlp_service.model.features import IGNORE_INDEX


class SlotCRF(nn.Module):
    """Start, end and tag-to-tag transition scores, learnt with the rest of the network."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the gold tag sequences.

        ``emissions`` [batch, words, tags], ``tags`` [batch, words], ``mask`` [batch, words]
        (true for real words, which come first in each row; every row has at least one).
        """
        batch = torch.arange(emissions.shape[0])
        mask = mask.to(emissions.dtype)
        gold = self.start[tags[:, 0]] + emissions[batch, 0, tags[:, 0]]
        alpha = self.start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = self.transitions[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]
            gold = gold + step * mask[:, t]
            following = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None] > 0, following, alpha)
        last = tags[batch, mask.sum(dim=1).long() - 1]
        gold = gold + self.end[last]
        log_partition = torch.logsumexp(alpha + self.end, dim=1)
        return (log_partition - gold).mean()

    def export(self) -> dict[str, list]:
        """The learnt scores as plain lists, for ``labels.json``."""
        return {
            "start": self.start.detach().tolist(),
            "end": self.end.detach().tolist(),
            "transitions": self.transitions.detach().tolist(),
        }


def word_scores(
    slot_logits: torch.Tensor, sub_word_targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-word emissions, tags and mask from per-sub-word logits and training targets.

    A word's label sits on its first sub-word; every other position is ``IGNORE_INDEX``.
    Returns ``(emissions, tags, mask, rows)``: words packed to the left of each row, and
    the rows that have at least one labelled word (only those have a tag sequence).
    """
    labelled = sub_word_targets != IGNORE_INDEX
    rows = labelled.any(dim=1).nonzero().squeeze(1)
    labelled, slot_logits, sub_word_targets = labelled[rows], slot_logits[rows], sub_word_targets[rows]
    order = torch.argsort((~labelled).to(torch.int8), dim=1, stable=True)  # labelled first, in order
    width = int(labelled.sum(dim=1).max()) if len(rows) else 0
    positions = order[:, :width]
    mask = torch.gather(labelled, 1, positions)
    tags = torch.gather(sub_word_targets, 1, positions).clamp(min=0)
    emissions = torch.gather(slot_logits, 1, positions.unsqueeze(2).expand(-1, -1, slot_logits.shape[2]))
    return emissions, tags, mask, rows
