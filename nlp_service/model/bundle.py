"""The versioned model directory: everything a server needs to load a model offline.

Layout::

    MODEL_DIR/
      manifest.json         version, encoder, data set, creation time
      encoder/              the fine-tuned encoder (save_pretrained)
      heads.safetensors     intent and slot heads (and the slot CRF's scores, with --crf)
      tokenizer/            the tokenizer (save_pretrained)
      labels.json           intents, BIO tags, out-of-scope label, threshold, temperature,
                            the slot CRF's scores (with --crf) for decoding
      training_config.json  the settings that produced it
      metrics.json          dev (and test, once evaluated) metrics
      model.onnx            the same network for ONNX Runtime, the fast CPU path
      model.int8.onnx       its fused, dynamically quantised int8 copy, faster on CPU
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

from nlp_service.model.labels import LabelMaps
from nlp_service.model.network import JointIntentSlotModel

MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
INT8_ONNX_FILE = "model.int8.onnx"


class ModelDirError(ValueError):
    """A model directory is missing or incomplete."""


@dataclass
class Manifest:
    version: str
    encoder: str
    dataset: str
    created_at: str
    max_length: int

    @classmethod
    def load(cls, model_dir: Path) -> Manifest:
        path = model_dir / MANIFEST
        if not path.is_file():
            raise ModelDirError(
                f"{model_dir}: not a model directory (no {MANIFEST}); train one with eas-nlp train"
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _heads_state(model: JointIntentSlotModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous() for k, v in model.state_dict().items() if not k.startswith("encoder.")}


def save_model(
    model_dir: Path,
    model: JointIntentSlotModel,
    tokenizer,
    labels: LabelMaps,
    *,
    encoder_name: str,
    dataset_name: str,
    max_length: int,
    training_config: dict[str, Any],
) -> Manifest:
    """Write the directory; the version names the data set, the time and a weight digest."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(model_dir / "encoder"))
    heads = _heads_state(model)
    save_file(heads, str(model_dir / "heads.safetensors"))
    tokenizer.save_pretrained(str(model_dir / "tokenizer"))
    labels.save(model_dir / "labels.json")
    (model_dir / "training_config.json").write_text(json.dumps(training_config, indent=2) + "\n")
    digest = hashlib.sha256((model_dir / "heads.safetensors").read_bytes()).hexdigest()[:8]
    now = datetime.now(UTC)
    manifest = Manifest(
        version=f"{dataset_name}-{now:%Y%m%d%H%M%S}-{digest}",
        encoder=encoder_name,
        dataset=dataset_name,
        created_at=now.isoformat(timespec="seconds"),
        max_length=max_length,
    )
    (model_dir / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2) + "\n")
    return manifest


def load_torch_model(model_dir: Path, labels: LabelMaps | None = None) -> JointIntentSlotModel:
    labels = labels or LabelMaps.load(model_dir / "labels.json")
    encoder = AutoModel.from_pretrained(str(model_dir / "encoder"), attn_implementation="eager")
    heads = load_file(str(model_dir / "heads.safetensors"))
    scale = heads.get("intent_head.scale")
    model = JointIntentSlotModel(
        encoder,
        len(labels.intents),
        len(labels.tags),
        crf="crf.transitions" in heads,
        intent_cosine_scale=float(scale) if scale is not None else 0.0,
    )
    missing, unexpected = model.load_state_dict(heads, strict=False)
    if unexpected or any(not key.startswith("encoder.") for key in missing):
        raise ModelDirError(f"{model_dir}: heads do not match labels.json ({unexpected or missing})")
    return model.eval()


def load_tokenizer(model_dir: Path):
    return AutoTokenizer.from_pretrained(str(model_dir / "tokenizer"))


def update_metrics(model_dir: Path, key: str, metrics: dict[str, Any]) -> None:
    """Record metrics under ``key`` (``dev``, ``test``, ...) in metrics.json, keeping the others."""
    path = model_dir / "metrics.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    current[key] = metrics
    path.write_text(json.dumps(current, indent=2) + "\n")
