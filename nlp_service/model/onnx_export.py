"""Export the joint network to ONNX for ONNX Runtime, the fast CPU serving path.

The graph has three outputs: intent logits, slot logits and the sentence embedding the intent head
reads (for the distance gate). Exports made before the embedding output have the first two only,
and serve without the gate.
"""

from __future__ import annotations

from pathlib import Path

import torch

from nlp_service.model.bundle import ONNX_FILE
from nlp_service.model.network import JointIntentSlotModel, ServingGraph


def export_onnx(model: JointIntentSlotModel, model_dir: Path, opset: int = 17) -> Path:
    """Write ``model.onnx`` with dynamic batch and sequence axes; returns its path."""
    graph = ServingGraph(model.eval()).eval()
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    path = model_dir / ONNX_FILE
    with torch.inference_mode():
        torch.onnx.export(
            graph,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["intent_logits", "slot_logits", "sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "intent_logits": {0: "batch"},
                "slot_logits": {0: "batch", 1: "sequence"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )
    return path
