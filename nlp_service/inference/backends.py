"""Runtimes that execute the joint network: ONNX Runtime on CPU, PyTorch on CUDA.

Each backend is a callable ``(input_ids, attention_mask) -> (intent_logits, slot_logits)``
on NumPy arrays, so the predictor does not care which one runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nlp_service.model.bundle import ONNX_FILE, ModelDirError

RunFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
BACKENDS = ("auto", "onnx", "torch")


class OnnxBackend:
    """ONNX Runtime session; CUDA provider when the runtime has one, CPU otherwise."""

    name = "onnx"

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = model_dir / ONNX_FILE
        if not path.is_file():
            raise ModelDirError(f"{model_dir}: no {ONNX_FILE}; run eas-nlp export or use --backend torch")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads would spin and steal the CPU the event loop needs on small machines.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        self.device = "cuda" if self.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        intent, slots = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return intent, slots


class TorchBackend:
    """The PyTorch network; used on CUDA, and on CPU when there is no ONNX export."""

    name = "torch"

    def __init__(self, model, device: str | None = None) -> None:
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()

    @classmethod
    def from_dir(cls, model_dir: Path, device: str | None = None) -> TorchBackend:
        from nlp_service.model.bundle import load_torch_model

        return cls(load_torch_model(model_dir), device)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            intent, slots = self.model(
                torch.from_numpy(input_ids).to(self.device), torch.from_numpy(attention_mask).to(self.device)
            )
        return intent.float().cpu().numpy(), slots.float().cpu().numpy()


def open_backend(model_dir: Path, backend: str = "auto", threads: int | None = None):
    """Pick the runtime: CUDA PyTorch when a GPU is present, else ONNX Runtime, else PyTorch CPU."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "auto":
        import torch

        if torch.cuda.is_available():
            backend = "torch"
        else:
            backend = "onnx" if (model_dir / ONNX_FILE).is_file() else "torch"
    if backend == "onnx":
        return OnnxBackend(model_dir, threads)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return TorchBackend.from_dir(model_dir)
