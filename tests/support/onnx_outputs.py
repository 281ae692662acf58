"""Run a saved model through both its ONNX export and PyTorch, for export-fidelity tests."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from nlp_service.model.bundle import load_torch_model

# Two padded rows of real vocabulary ids ([CLS] ... [SEP] [PAD]).
SAMPLE_IDS = np.array([[101, 2832, 4906, 102, 0], [101, 7592, 102, 0, 0]], dtype=np.int64)


def onnx_and_torch_outputs(model_dir: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(intent logits, slot logits, sentence embedding) from ``model.onnx`` and from the PyTorch model
    as served (``serving_outputs``), same input."""
    mask = (SAMPLE_IDS != 0).astype(np.int64)
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_outputs = session.run(None, {"input_ids": SAMPLE_IDS, "attention_mask": mask})
    with torch.inference_mode():
        torch_outputs = load_torch_model(model_dir).serving_outputs(
            torch.from_numpy(SAMPLE_IDS), torch.from_numpy(mask)
        )
    return list(onnx_outputs), [output.numpy() for output in torch_outputs]
