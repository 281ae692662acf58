"""One shared encoder with an intent head and a slot (token classification) head."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModel

from nlp_service.model.cosine_head import CosineIntentHead
from nlp_service.model.crf import SlotCRF


class JointIntentSlotModel(nn.Module):
    """Encoder + two linear heads.

    The intent head reads the mean of the token states (the pooling all-MiniLM-L6-v2 was
    trained with, which beats the raw [CLS] state for sentence classification); the slot
    head scores every sub-word, and callers keep the first sub-word of each word. Both
    heads share one forward pass, so a parse costs one encoder call. Optionally the intent
    head is a cosine classifier (``intent_cosine_scale`` > 0, ``cosine_head.py``).
    """

    def __init__(
        self,
        encoder: nn.Module,
        num_intents: int,
        num_tags: int,
        dropout: float = 0.1,
        crf: bool = False,
        intent_cosine_scale: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.intent_head = (
            CosineIntentHead(hidden, num_intents, intent_cosine_scale)
            if intent_cosine_scale
            else nn.Linear(hidden, num_intents)
        )
        self.slot_head = nn.Linear(hidden, num_tags)
        # Trained on the slot head's word scores; not part of forward (nor of the ONNX graph).
        self.crf = SlotCRF(num_tags) if crf else None

    @classmethod
    def from_encoder(
        cls,
        encoder_dir: Path,
        num_intents: int,
        num_tags: int,
        dropout: float = 0.1,
        layers: int | None = None,
        crf: bool = False,
        intent_cosine_scale: float = 0.0,
    ):
        """The pretrained encoder, optionally cut to its first ``layers`` transformer layers.

        Fewer layers cost proportionally less per parse (the layers are nearly all of it); the
        saved config records the count, so the model directory loads as it was trained.
        """
        overrides = {}
        if layers:
            available = AutoConfig.from_pretrained(str(encoder_dir)).num_hidden_layers
            if not 1 <= layers <= available:
                raise ValueError(f"encoder_layers must be 1 to {available} for {encoder_dir}, not {layers}")
            overrides["num_hidden_layers"] = layers
        encoder = AutoModel.from_pretrained(str(encoder_dir), attn_implementation="eager", **overrides)
        return cls(encoder, num_intents, num_tags, dropout, crf, intent_cosine_scale)

    def encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states and their mean over the real tokens (the sentence embedding the intent head reads)."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return states, (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        states, pooled = self.encode(input_ids, attention_mask)
        intent_logits = self.intent_head(self.dropout(pooled))
        slot_logits = self.slot_head(self.dropout(states))
        return intent_logits, slot_logits

    def serving_outputs(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What a served model returns: intent and slot logits, and the sentence embedding, which the
        distance gate (:mod:`nlp_service.model.distance_gate`) places among the training intents."""
        states, pooled = self.encode(input_ids, attention_mask)
        return self.intent_head(pooled), self.slot_head(states), pooled


class ServingGraph(nn.Module):
    """The network as exported for serving: :meth:`JointIntentSlotModel.serving_outputs` as its forward."""

    def __init__(self, model: JointIntentSlotModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.model.serving_outputs(input_ids, attention_mask)
