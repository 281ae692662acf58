"""Runtimes that execute the joint network: ONNX Runtime on CPU, PyTorch on CUDA.

Each backend is a callable ``(input_ids, attention_mask) -> (intent_logits, slot_logits,
sentence_embedding)`` on NumPy arrays, so the predictor does not care which one runs. An ONNX file
exported before the embedding output was added returns the first two only (:data:`RunFn`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nlp_service.model.bundle import INT8_ONNX_FILE, ONNX_FILE, ModelDirError

SLOW_CPU_FUSIONS = ["SkipLayerNormFusion"]
"""Graph fusions ONNX Runtime would apply at load that make a parse slower on CPU: its fused
residual-add + LayerNorm kernel took 933 us where ``Add`` + ``LayerNormalization`` take 142
(int8 model, 24 x 20 tokens, one thread; BENCHMARKS.md)."""
RunFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]
"""``(input_ids, attention_mask) -> (intent_logits, slot_logits[, sentence_embedding])``."""
BACKENDS = ("auto", "onnx", "torch")
PRECISIONS = ("auto", "fp32", "int8")
"""``auto``: the int8 ONNX copy where there is one and the runtime is ONNX on CPU, else fp32."""


class OnnxBackend:
    """ONNX Runtime session; CUDA provider when the runtime has one, CPU otherwise."""

    name = "onnx"

    def __init__(self, model_dir: Path, threads: int | None = None, precision: str = "fp32") -> None:
        import onnxruntime as ort

        file = INT8_ONNX_FILE if precision == "int8" else ONNX_FILE
        path = model_dir / file
        if not path.is_file():
            hint = "eas-nlp export --int8" if precision == "int8" else "eas-nlp export or use --backend torch"
            raise ModelDirError(f"{model_dir}: no {file}; run {hint}")
        self.precision = precision
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads would spin and steal the CPU the event loop needs on small machines.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self.session = ort.InferenceSession(
            str(path), options, providers=providers, disabled_optimizers=SLOW_CPU_FUSIONS
        )
        self.device = "cuda" if self.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask}))


class TorchBackend:
    """The PyTorch network; used on CUDA, and on CPU when there is no ONNX export."""

    name = "torch"
    precision = "fp32"

    def __init__(self, model, device: str | None = None) -> None:
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()

    @classmethod
    def from_dir(cls, model_dir: Path, device: str | None = None) -> TorchBackend:
        from nlp_service.model.bundle import load_torch_model

        return cls(load_torch_model(model_dir), device)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, ...]:
        torch = self.torch
        with torch.inference_mode():
            outputs = self.model.serving_outputs(
                torch.from_numpy(input_ids).to(self.device), torch.from_numpy(attention_mask).to(self.device)
            )
        return tuple(output.float().cpu().numpy() for output in outputs)


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU: the one check behind the choice of runtime and of model
    directory, kept in a function of its own so that tests can pretend either way."""
    import torch

    return torch.cuda.is_available()


def open_backend(model_dir: Path, backend: str = "auto", threads: int | None = None, precision: str = "auto"):
    """Pick the runtime: CUDA PyTorch when a GPU is present, else ONNX Runtime, else PyTorch CPU.

    ``precision`` picks the ONNX file: ``int8`` needs ``model.int8.onnx`` (ONNX Runtime only),
    ``auto`` takes it when it is there and the runtime is ONNX on CPU.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if backend == "auto":
        if cuda_available() and precision != "int8":
            backend = "torch"
        else:
            has_onnx = (model_dir / ONNX_FILE).is_file() or (model_dir / INT8_ONNX_FILE).is_file()
            backend = "onnx" if has_onnx or precision == "int8" else "torch"
    if backend == "torch" and precision == "int8":
        raise ValueError("precision int8 runs on the ONNX backend only (model.int8.onnx)")
    if backend == "onnx":
        if precision == "auto":
            precision = "int8" if (model_dir / INT8_ONNX_FILE).is_file() and not _has_cuda_ort() else "fp32"
        return OnnxBackend(model_dir, threads, precision)
    if threads:
        import torch

        torch.set_num_threads(threads)
    return TorchBackend.from_dir(model_dir)


def _has_cuda_ort() -> bool:
    """Whether ONNX Runtime would run on a GPU (where the int8 copy buys nothing)."""
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()
