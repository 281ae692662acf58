"""Epoch checkpoints, so that a training of hours survives a stopped process.

A 110M teacher trains for hours on a laptop's CPU; losing that to a closed lid or a killed
shell is the common failure. After every epoch the trainer writes everything it needs to
carry on (weights, optimizer and schedule, the moving average, the random states, the best
epoch so far) to one file, atomically; ``eas-nlp train --checkpoint FILE`` finds it on the
next start and continues with the following epoch. A checkpoint written under other settings
is refused rather than silently mixed into a different run.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nlp_service.training.config import TrainConfig

# Settings that change how fast a run goes, or what is done after training, but not the epochs' weights.
_RESUMABLE_DIFFERENCES = frozenset(
    {"threads", "export_onnx", "export_int8", "distance_gate", "launch_budget"}
)


class CheckpointMismatchError(ValueError):
    """The checkpoint belongs to a run with other settings or data."""


@dataclass
class TrainingState:
    """What the epoch loop carries from one epoch to the next."""

    epoch: int = 0
    step: int = 0
    best_score: float = -1.0
    best_epoch: int = 0
    stale: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    history: list[dict] = field(default_factory=list)
    elapsed_seconds: float = 0.0


def _comparable(config: TrainConfig, train_examples: int) -> dict[str, Any]:
    settings = {k: v for k, v in config.to_dict().items() if k not in _RESUMABLE_DIFFERENCES}
    return {**settings, "train_examples": train_examples}


def save_checkpoint(
    path: Path,
    *,
    config: TrainConfig,
    train_examples: int,
    state: TrainingState,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    averaged: torch.nn.Module | None,
    batch_rng: random.Random,
) -> None:
    """Write the end-of-epoch state to ``path`` (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "settings": _comparable(config, train_examples),
        "state": state.__dict__,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "averaged": averaged.state_dict() if averaged is not None else None,
        "batch_rng": batch_rng.getstate(),
        "torch_rng": torch.get_rng_state(),
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save(payload, partial)
    os.replace(partial, path)


def load_checkpoint(
    path: Path,
    *,
    config: TrainConfig,
    train_examples: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    averaged: torch.nn.Module | None,
    batch_rng: random.Random,
) -> TrainingState | None:
    """Restore the run from ``path`` into the given objects; None when there is no checkpoint."""
    path = Path(path)
    if not path.is_file():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=False)
    expected = _comparable(config, train_examples)
    if payload["settings"] != expected:
        changed = sorted(
            name
            for name in expected.keys() | payload["settings"].keys()
            if expected.get(name) != payload["settings"].get(name)
        )
        raise CheckpointMismatchError(
            f"checkpoint {path} was written by a run with other settings ({', '.join(changed)}); "
            "delete it or train with the same settings and data"
        )
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    if averaged is not None and payload["averaged"] is not None:
        averaged.load_state_dict(payload["averaged"])
    batch_rng.setstate(payload["batch_rng"])
    torch.set_rng_state(payload["torch_rng"])
    return TrainingState(**payload["state"])
