"""The quick-start model: trained from the shipped enterprise data the first time it is needed.

``eas-nlp serve`` in a fresh checkout has no model to serve; rather than failing, the server
trains one from ``nlp_service/enterprise/data`` (a few minutes on a laptop) while
``/readyz`` says so, and later starts find it in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rich.console import Console

from nlp_service.data import Dataset, load_dataset
from nlp_service.model.bundle import MANIFEST

ENTERPRISE_DATA = Path(__file__).resolve().parent / "enterprise" / "data"
# Few epochs: the quick start should be serving within minutes; `eas-nlp train` does better.
DEFAULT_EPOCHS = 3


class DefaultModelError(RuntimeError):
    """The default model cannot be trained where it was asked for."""


def has_model(model_dir: Path | str) -> bool:
    return (Path(model_dir) / MANIFEST).is_file()


def _remove_abandoned_staging(model_dir: Path) -> None:
    """Delete staging folders of trainers that died (stopped server, crash); they can be large."""
    for staging in model_dir.parent.glob(f".{model_dir.name}.training-*"):
        pid = staging.name.rsplit("-", 1)[1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(staging, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


def ensure_default_model(
    model_dir: Path | str,
    console: Console | None = None,
    *,
    dataset: Dataset | None = None,
    config=None,
) -> Path:
    """Return ``model_dir``, first training the default model into it if it has no manifest.json.

    Training writes to a temporary sibling folder that is renamed into place at the end, so
    an interrupted run never leaves a half-written directory that looks like a model, and
    two processes racing to train end with one complete model. ``dataset`` and ``config``
    (a ``TrainConfig``) default to the shipped enterprise data and ``DEFAULT_EPOCHS`` epochs.
    """
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train

    model_dir = Path(model_dir)
    if has_model(model_dir):
        return model_dir
    if model_dir.exists() and (not model_dir.is_dir() or any(model_dir.iterdir())):
        raise DefaultModelError(
            f"{model_dir} exists but is not a model directory (no {MANIFEST}); "
            "remove it or point EAS_NLP_MODEL_DIR elsewhere"
        )
    console = console or Console(stderr=True)
    if dataset is None:
        if not ENTERPRISE_DATA.is_dir():
            raise DefaultModelError(f"no shipped training data at {ENTERPRISE_DATA}; reinstall the package")
        dataset = load_dataset(ENTERPRISE_DATA)
    config = config or TrainConfig(epochs=DEFAULT_EPOCHS)
    console.print(
        f"[bold]no model at {model_dir}[/bold]: training the default model "
        f"({len(dataset.split('train'))} training examples, up to {config.epochs} epochs)"
    )
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(model_dir)
    staging = model_dir.parent / f".{model_dir.name}.training-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        train(dataset, staging, config, console)
        try:
            if model_dir.is_dir():
                model_dir.rmdir()  # empty (checked above); the rename needs the name free
            staging.rename(model_dir)
        except OSError:
            if not has_model(model_dir):  # not a lost race with another trainer
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    console.print(f"default model ready at {model_dir}")
    return model_dir
