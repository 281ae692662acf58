"""Training settings; saved with the model so a run can be reproduced."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nlp_service.model.encoder import DEFAULT_ENCODER


@dataclass
class TrainConfig:
    """Defaults are the ones measured on the public benchmarks (see BENCHMARKS.md).

    The heads start from scratch and get a larger learning rate than the pretrained
    encoder; training stops early when the dev score has not improved for ``patience``
    epochs and keeps the best epoch's weights.
    """

    encoder: str = DEFAULT_ENCODER
    encoder_layers: int | None = None  # keep only the first N transformer layers (None: all)
    epochs: int = 10
    batch_size: int = 32
    encoder_lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    dropout: float = 0.1
    max_length: int = 64
    slot_loss_weight: float = 1.0
    patience: int = 3
    seed: int = 13
    max_steps: int | None = None
    threads: int | None = None
    export_onnx: bool = True
    export_int8: bool = True
    dev_fraction: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)
