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

PUBLIC_DATA_SETTING = "EAS_NLP_PUBLIC_DATA"
"""Folder with CLINC150 and SNIPS (``clinc150/``, ``snips/``) whose train/dev sentences join the
default model's training data; set but empty: none. Unset: the checkout's ``../shared/datasets``
when it is there."""
PUBLIC_PER_INTENT = 40
"""Public sentences kept per everyday source intent and split: every public intent is seen (the
everyday requests the model must leave alone) while training stays within minutes; people's phrasings
of work requests are all kept (``with_public_sentences``). Measured in BENCHMARKS.md."""


def public_data_dir(environ: dict[str, str] | None = None) -> Path | None:
    """Where the human-written public sentences are, or None (the model trains on templates only)."""
    environ = dict(os.environ) if environ is None else environ
    configured = environ.get(PUBLIC_DATA_SETTING)
    if configured is not None:
        if not configured.strip():
            return None
        folder = Path(configured)
        if not ((folder / "clinc150").is_dir() and (folder / "snips").is_dir()):
            raise DefaultModelError(f"{PUBLIC_DATA_SETTING}={configured} has no clinc150/ and snips/ folders")
        return folder
    candidate = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    return candidate if (candidate / "clinc150").is_dir() and (candidate / "snips").is_dir() else None


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


def default_dataset(console: Console | None = None) -> Dataset:
    """The default model's training data: the shipped enterprise data, plus people's sentences from
    CLINC150 and SNIPS where they are present (:func:`public_data_dir`)."""
    if not ENTERPRISE_DATA.is_dir():
        raise DefaultModelError(f"no shipped training data at {ENTERPRISE_DATA}; reinstall the package")
    dataset = load_dataset(ENTERPRISE_DATA)
    public = public_data_dir()
    if public is None:
        return dataset
    from nlp_service.data.realworld import with_public_sentences

    (console or Console(stderr=True)).print(
        f"adding people's sentences from {public} (every work request, "
        f"up to {PUBLIC_PER_INTENT} per everyday intent)"
    )
    return with_public_sentences(
        dataset, public, dataset.oos_label or "oos", per_source_intent=PUBLIC_PER_INTENT
    )


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
        dataset = default_dataset(console)
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
