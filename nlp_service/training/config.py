"""Training settings; saved with the model so a run can be reproduced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

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
    slot_crf: bool = True  # a CRF over the slot head's word scores (data sets with slots); BENCHMARKS.md
    label_smoothing: float = 0.0  # on the intent loss; softer targets for many-class sets
    # > 0: score dev with, and keep, an exponential moving average of the weights (per step).
    # CLINC150 gains from 0.999; SNIPS's slot F1 does not (BENCHMARKS.md), so it is off by default.
    ema_decay: float = 0.0
    # > 0: the intent head scores by cosine times this scale instead of a linear layer (cosine_head.py)
    intent_cosine_scale: float = 0.0
    augment_copies: int = 0  # extra training sentences per example, entity values swapped (augment.py)
    # > 0: a second dropout pass per batch, and this weight on the two passes' disagreement (rdrop.py)
    rdrop_weight: float = 0.0
    # trained model directories whose mean intent distribution the new model also learns (distillation.py)
    distill_teachers: tuple[str, ...] = ()
    distill_weight: float = 0.5  # share of the intent loss that follows the teachers rather than the labels
    distill_temperature: float = 2.0
    # share of the slot loss that follows the teachers' per-word tag distributions (0: intents only)
    distill_slot_weight: float = 0.5
    patience: int = 3
    seed: int = 13
    max_steps: int | None = None
    threads: int | None = None
    export_onnx: bool = True
    export_int8: bool = True
    dev_fraction: float = 0.1
    # fit the distance gate on the training split (calibration.py): it, not confidence, decides out of scope
    distance_gate: bool = True
    launch_budget: float = 0.01  # share of out-of-scope dev sentences the gate may admit

    def to_dict(self) -> dict:
        return asdict(self)

    def with_overrides(self, overrides: dict[str, str]) -> TrainConfig:
        """A copy with ``name -> text`` overrides parsed to each field's type (benchmark runs)."""
        known = {f.name: f for f in fields(self)}
        values = {}
        for name, text in overrides.items():
            if name not in known:
                raise ValueError(f"unknown training setting {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if isinstance(current, tuple):  # a list of paths: comma-separated
                values[name] = tuple(part for part in text.split(",") if part)
                continue
            kind = type(current) if current is not None else int  # the optional fields are all counts
            try:
                values[name] = _parse(text, kind)
            except ValueError as error:
                raise ValueError(f"training setting {name}: {error}") from None
        return replace(self, **values)


def _parse(text: str, kind: type):
    if kind is bool:
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"{text!r} is not a boolean")
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a {kind.__name__}") from None
