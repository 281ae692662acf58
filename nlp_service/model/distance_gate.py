"""The distance gate: is a request near the intents the model was trained on, or somewhere else?

Why: softmax confidence says which intent wins, not whether the request looks like any of them; a
fine-tuned head is often sure about a sentence unlike anything it saw ("set an alarm for five am"
→ a meeting, 0.76). Where the sentence embedding lies is a better witness: on the realistic
benchmark, scoring by the Mahalanobis distance to the nearest intent let 1.4 points more of
people's work requests through for as few unrelated launches as softmax confidence
(``benchmarks/routing_methods.py``, BENCHMARKS.md).

The score of an embedding ``x`` is ``-min_c (x - m_c)ᵀ P (x - m_c)``: ``m_c`` the mean training
embedding of in-scope intent ``c``, ``P`` the inverse of the covariance of the embeddings around
their intent's mean, pooled over intents (a tied covariance, as Lee et al. 2018), estimated with
Ledoit-Wolf shrinkage (hundreds of dimensions from a few thousand sentences). It is stored as the
Cholesky factor ``L`` of ``P`` and the means mapped by it, so a request costs one product by ``L``
and the squared Euclidean distances to the mapped means. A request is admitted when its score is
at least the threshold fitted on dev (:func:`nlp_service.training.calibration.fit_distance_threshold`).

Kept in ``MODEL_DIR/distance_gate.safetensors``; a model directory without it (trained before the
gate existed) serves by confidence alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

GATE_FILE = "distance_gate.safetensors"


@dataclass
class DistanceGate:
    """The mapped intent means, the map, and the lowest admitted score."""

    transform: np.ndarray
    """``L`` (dimensions × dimensions), with ``P = L Lᵀ``."""
    centres: np.ndarray
    """The in-scope intents' mean embeddings mapped by ``L`` (intents × dimensions)."""
    threshold: float = float("-inf")

    @classmethod
    def fit(cls, embeddings: np.ndarray, intents: np.ndarray) -> DistanceGate:
        """The gate of in-scope training embeddings (rows) and their intent indices; no threshold yet."""
        from sklearn.covariance import LedoitWolf

        if len(embeddings) != len(intents) or len(embeddings) < 2:
            raise ValueError("the distance gate needs at least two embeddings, one intent index each")
        embeddings = np.asarray(embeddings, dtype=np.float64)
        present, index = np.unique(intents, return_inverse=True)
        means = np.stack([embeddings[index == i].mean(axis=0) for i in range(len(present))])
        precision = LedoitWolf().fit(embeddings - means[index]).precision_
        # Symmetrised: the estimator's inverse is symmetric only up to rounding, and Cholesky needs it exact.
        transform = np.linalg.cholesky((precision + precision.T) / 2)
        return cls(transform.astype(np.float32), (means @ transform).astype(np.float32))

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Minus each embedding's squared Mahalanobis distance to the nearest intent mean (higher: nearer)."""
        # One BLAS thread: these products are small, and OpenBLAS's idle threads spin after each call,
        # taking the CPU ONNX Runtime's threads parse with (measured under load: 5.8 -> 9.4 ms of
        # server CPU per parse with two BLAS threads, BENCHMARKS.md).
        with _blas_threads().limit(limits=1, user_api="blas"):
            mapped = np.asarray(embeddings, dtype=np.float32) @ self.transform
            distances = (
                (mapped * mapped).sum(axis=1, keepdims=True)
                - 2.0 * mapped @ self.centres.T
                + (self.centres * self.centres).sum(axis=1)
            )
        return -distances.min(axis=1)

    def admits(self, score: float) -> bool:
        return score >= self.threshold

    def save(self, model_dir: Path) -> Path:
        from safetensors.numpy import save_file

        path = Path(model_dir) / GATE_FILE
        save_file(
            {"transform": self.transform, "centres": self.centres},
            str(path),
            metadata={"threshold": repr(float(self.threshold))},
        )
        return path

    @classmethod
    def load(cls, model_dir: Path) -> DistanceGate | None:
        """The directory's gate, or None where it has none."""
        from safetensors import safe_open

        path = Path(model_dir) / GATE_FILE
        if not path.is_file():
            return None
        with safe_open(str(path), framework="numpy") as stored:
            threshold = float((stored.metadata() or {}).get("threshold", "-inf"))
            return cls(stored.get_tensor("transform"), stored.get_tensor("centres"), threshold)


@functools.cache
def _blas_threads() -> ThreadpoolController:
    """The process's thread pools, found once (finding them walks the loaded libraries)."""
    return ThreadpoolController()
