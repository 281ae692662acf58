"""``eas-nlp``: train, evaluate, export and serve the NLP model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nlp_service.data import DataFormatError, load_dataset
from nlp_service.model.bundle import ModelDirError
from nlp_service.model.encoder import EncoderNotFoundError

app = typer.Typer(help="EAS NLP service: joint intent + entity model.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)  # errors stay on one line for grep and logs


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


PUBLIC_DATA_HELP = (
    "folder with clinc150/ and snips/ (../shared/datasets): add their train/dev sentences "
    "(work requests as extra phrasings, everyday ones as out of scope)"
)
PUBLIC_PER_INTENT_HELP = "with --public-data: at most this many sentences per public intent and split"
GATE_HELP = "fit the distance gate that decides what is out of scope (means on train, threshold on dev)"
LAUNCH_BUDGET_HELP = "share of the out-of-scope dev sentences the distance gate may admit with an intent"


def _training_data(data: Path, public_data: Path | None, public_per_intent: int | None):
    """The data set a model trains (and is calibrated) on: ``data``, plus the public sentences."""
    dataset = load_dataset(data)
    if public_data is None:
        return dataset
    from nlp_service.data.realworld import with_public_sentences

    return with_public_sentences(
        dataset, public_data, dataset.oos_label or "oos", per_source_intent=public_per_intent
    )


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Option(help="seq.in-format folder (train/dev/test) or CLINC150-style JSON")],
    out: Annotated[Path, typer.Option(help="model directory to write")],
    encoder: Annotated[str, typer.Option(help="packaged encoder name or local folder")] = "all-MiniLM-L6-v2",
    encoder_layers: Annotated[
        int | None, typer.Option(min=1, help="keep only the encoder's first N layers (faster, less accurate)")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    encoder_lr: Annotated[float, typer.Option(min=0.0)] = 1e-4,
    head_lr: Annotated[float, typer.Option(min=0.0)] = 1e-3,
    patience: Annotated[int, typer.Option(min=1)] = 3,
    crf: Annotated[bool, typer.Option(help="a CRF over the slot head's word scores")] = True,
    label_smoothing: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="label smoothing of the intent loss")
    ] = 0.0,
    ema_decay: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.99999,
            help="keep a moving average of the weights with this decay per step (0: off)",
        ),
    ] = 0.0,
    intent_cosine_scale: Annotated[
        float,
        typer.Option(min=0.0, help="score intents by cosine times this scale (0: a linear layer)"),
    ] = 0.0,
    augment_copies: Annotated[
        int, typer.Option(min=0, help="extra training sentences per example, with entity values swapped")
    ] = 0,
    rdrop_weight: Annotated[
        float,
        typer.Option(min=0.0, help="weight on two dropout passes' disagreement (R-Drop; 0: one pass)"),
    ] = 0.0,
    teacher: Annotated[
        list[Path] | None,
        typer.Option(help="trained model directory to distil intents from (repeat for an ensemble)"),
    ] = None,
    distill_weight: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of the intent loss that follows the teachers")
    ] = 0.5,
    distill_temperature: Annotated[
        float, typer.Option(min=0.01, help="softening of the teachers' and the student's intent scores")
    ] = 2.0,
    distill_slot_weight: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="share of the slot loss that follows the teachers' word tags"),
    ] = 0.5,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="stop after this many steps (smoke runs)")
    ] = None,
    public_data: Annotated[Path | None, typer.Option(help=PUBLIC_DATA_HELP)] = None,
    public_per_intent: Annotated[int | None, typer.Option(min=1, help=PUBLIC_PER_INTENT_HELP)] = None,
    seed: int = 13,
    threads: Annotated[int | None, typer.Option(min=1)] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="file for the state after each epoch; a run that finds it carries on from it "
            "(deleted once the model is saved)"
        ),
    ] = None,
    onnx: Annotated[bool, typer.Option(help="also export model.onnx")] = True,
    int8: Annotated[bool, typer.Option(help="also write model.int8.onnx (with --onnx)")] = True,
    gate: Annotated[bool, typer.Option(help=GATE_HELP)] = True,
    launch_budget: Annotated[float, typer.Option(min=0.0, max=0.5, help=LAUNCH_BUDGET_HELP)] = 0.01,
) -> None:
    """Fine-tune the encoder with intent and slot heads; early-stops on dev."""
    from nlp_service.training.config import TrainConfig
    from nlp_service.training.trainer import train

    config = TrainConfig(
        encoder=encoder,
        encoder_layers=encoder_layers,
        epochs=epochs,
        batch_size=batch_size,
        encoder_lr=encoder_lr,
        head_lr=head_lr,
        patience=patience,
        label_smoothing=label_smoothing,
        ema_decay=ema_decay,
        intent_cosine_scale=intent_cosine_scale,
        augment_copies=augment_copies,
        rdrop_weight=rdrop_weight,
        distill_teachers=tuple(str(path) for path in teacher or ()),
        distill_weight=distill_weight,
        distill_temperature=distill_temperature,
        distill_slot_weight=distill_slot_weight,
        slot_crf=crf,
        max_steps=max_steps,
        seed=seed,
        threads=threads,
        export_onnx=onnx,
        export_int8=onnx and int8,
        distance_gate=gate,
        launch_budget=launch_budget,
    )
    try:
        dataset = _training_data(data, public_data, public_per_intent)
        train(dataset, out, config, console, checkpoint=checkpoint)
    except (DataFormatError, EncoderNotFoundError, KeyError, ValueError) as exc:
        _fail(str(exc))


@app.command("evaluate")
def evaluate_command(
    model: Annotated[Path, typer.Option(help="trained model directory")],
    data: Annotated[Path, typer.Option(help="seq.in-format folder or CLINC150-style JSON")],
    split: Annotated[str, typer.Option(help="train, dev or test")] = "test",
    output: Annotated[Path | None, typer.Option(help="write the metrics as JSON here")] = None,
    backend: Annotated[str, typer.Option(help="auto, onnx or torch")] = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32 or int8 (the ONNX file to score)")] = "auto",
) -> None:
    """Score a model on a split; prints a table and writes JSON (figures in percent)."""
    from nlp_service.inference.predictor import WordPredictor
    from nlp_service.model.bundle import update_metrics
    from nlp_service.training.evaluate import evaluate_predictor
    from nlp_service.training.metrics import headline

    try:
        dataset = load_dataset(data)
        examples = dataset.split(split)
        predictor = WordPredictor.load(model, backend, precision=precision)
    except (DataFormatError, ModelDirError, ValueError) as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(exc.args[0])
    metrics = evaluate_predictor(predictor, examples, predictor.labels.oos_label, dataset.has_slots)
    metrics = {
        "model_version": predictor.version,
        "dataset": dataset.name,
        "split": split,
        "precision": predictor.precision,
        **metrics,
    }
    table = Table(title=f"{dataset.name} / {split} / {predictor.version} / {predictor.precision}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in headline(metrics).items():
        table.add_row(key, str(value))
    Console().print(table)
    update_metrics(model, f"{dataset.name}:{split}:{predictor.precision}", metrics)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(metrics, indent=2) + "\n")
        console.print(f"wrote {output}")


@app.command("serve")
def serve_command(
    model: Annotated[Path | None, typer.Option(help="model directory (env EAS_NLP_MODEL_DIR)")] = None,
    gpu_model: Annotated[
        Path | None,
        typer.Option(
            help="model directory served instead of --model where a CUDA GPU is present "
            "(env EAS_NLP_GPU_MODEL_DIR)"
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="interface to listen on (env EAS_NLP_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (env EAS_NLP_PORT)")] = None,
    backend: Annotated[str | None, typer.Option(help="auto, onnx or torch (env EAS_NLP_BACKEND)")] = None,
    threads: Annotated[
        int | None, typer.Option(help="runtime threads per model call (env EAS_NLP_THREADS)")
    ] = None,
    model_workers: Annotated[
        int | None, typer.Option(help="model calls at the same time (env EAS_NLP_MODEL_WORKERS)")
    ] = None,
    precision: Annotated[str | None, typer.Option(help="auto, fp32 or int8 (env EAS_NLP_PRECISION)")] = None,
) -> None:
    """Serve the HTTP API (settings from EAS_NLP_* variables; options override them).

    Answers at once; the model loads in the background (the default model is trained first
    if there is none) and /readyz says when it is ready.
    """
    import logging

    import uvicorn
    from pydantic import ValidationError

    from nlp_service.config import NLPSettings, describe_settings_error
    from nlp_service.server.app import create_app
    from nlp_service.server.logs import configure_logging
    from nlp_service.server.tracing import setup_tracing

    overrides = {
        "model_dir": model,
        "gpu_model_dir": gpu_model,
        "host": host,
        "port": port,
        "backend": backend,
        "threads": threads,
        "model_workers": model_workers,
        "precision": precision,
    }
    try:
        settings = NLPSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        _fail(describe_settings_error(exc))
    configure_logging(logging.INFO)  # JSON lines, with the trace id of the parse they belong to
    sys.setswitchinterval(settings.gil_switch_ms / 1000.0)  # process-wide: here, not in the app
    try:
        setup_tracing()  # OTEL_* variables; before the app, which traces with the provider there is
    except ValueError as exc:
        _fail(str(exc))
    url_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    console.print(
        f"EAS NLP service on [bold]http://{url_host}:{settings.port}[/bold] "
        f"(model {settings.model_dir}"
        + (f", on a CUDA GPU {settings.gpu_model_dir}" if settings.gpu_model_dir else "")
        + ", API docs at /docs, readiness at /readyz)"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="info",
        log_config=None,  # keep the JSON logging configured above
    )


@app.command("calibrate")
def calibrate_command(
    model: Annotated[Path, typer.Option(help="trained model directory")],
    data: Annotated[Path, typer.Option(help="seq.in-format folder or CLINC150-style JSON")],
    split: Annotated[str, typer.Option(help="the split to fit on (never the test split you report)")] = "dev",
    public_data: Annotated[Path | None, typer.Option(help=PUBLIC_DATA_HELP)] = None,
    public_per_intent: Annotated[int | None, typer.Option(min=1, help=PUBLIC_PER_INTENT_HELP)] = None,
    gate: Annotated[bool, typer.Option(help=GATE_HELP + " (--no-gate removes it)")] = True,
    launch_budget: Annotated[float, typer.Option(min=0.0, max=0.5, help=LAUNCH_BUDGET_HELP)] = 0.01,
) -> None:
    """Re-fit confidence temperature, out-of-scope threshold and distance gate, without retraining.

    Give the data (and public sentences) the model was trained on: the gate's intent means come
    from its train split. An ONNX export made before the gate existed is exported again, since the
    gate reads the sentence embedding the newer export returns.
    """
    from nlp_service.inference.predictor import WordPredictor
    from nlp_service.model.distance_gate import GATE_FILE
    from nlp_service.training.calibration import calibrate_labels, fit_distance_gate

    try:
        dataset = _training_data(data, public_data, public_per_intent)
        examples = dataset.split(split)
        if gate and "train" not in dataset.splits:
            raise ValueError(
                f"{data} has no train split: the distance gate's intent means come from the data the "
                "model was trained on (give that, or --no-gate)"
            )
        # Fitted on the fp32 PyTorch reference (it returns sentence embeddings); the ONNX copies share
        # labels.json and the gate.
        predictor = WordPredictor.load(model, backend="torch", precision="fp32")
    except (DataFormatError, ModelDirError, ValueError) as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(exc.args[0])
    labels = predictor.labels
    calibrate_labels(predictor.run, predictor.tokenizer, labels, examples, predictor.max_length)
    fitted = None
    if gate:
        console.print(f"fitting the distance gate (intent means on train, threshold on {split})")
        fitted = fit_distance_gate(
            predictor.run,
            predictor.tokenizer,
            labels,
            dataset.split("train"),
            examples,
            predictor.max_length,
            launch_budget,
        )
    (model / GATE_FILE).unlink(missing_ok=True)
    if fitted is not None:
        fitted.save(model)
    labels.save(model / "labels.json")
    console.print(f"temperature {labels.temperature:.3f}, out-of-scope threshold {labels.oos_threshold:.4f}")
    if gate and fitted is None:
        console.print(f"no distance gate: the {split} split has no out-of-scope sentence to fit it on")
    elif fitted is not None:
        console.print(f"distance gate threshold {fitted.threshold:.4g} (launch budget {launch_budget:.1%})")
        _export_with_embeddings(model)


def _export_with_embeddings(model: Path) -> None:
    """Export the ONNX copies again where they lack the sentence-embedding output the gate reads."""
    from nlp_service.model.bundle import INT8_ONNX_FILE, ONNX_FILE, load_torch_model
    from nlp_service.model.onnx_export import export_onnx
    from nlp_service.model.onnx_int8 import quantize_onnx

    onnx_file = model / ONNX_FILE
    if not onnx_file.is_file():
        return
    import onnx

    if len(onnx.load(str(onnx_file), load_external_data=False).graph.output) >= 3:
        return
    console.print(f"{onnx_file} has no sentence-embedding output: exporting it again")
    export_onnx(load_torch_model(model), model)
    if (model / INT8_ONNX_FILE).is_file():
        quantize_onnx(model)


@app.command("export")
def export_command(
    model: Annotated[Path, typer.Option(help="trained model directory")],
    int8: Annotated[bool, typer.Option(help="also write model.int8.onnx")] = True,
) -> None:
    """(Re-)export model.onnx (and its int8 copy) from the saved PyTorch weights."""
    from nlp_service.model.bundle import load_torch_model
    from nlp_service.model.onnx_export import export_onnx
    from nlp_service.model.onnx_int8 import quantize_onnx

    try:
        paths = [export_onnx(load_torch_model(model), model)]
        if int8:
            paths.append(quantize_onnx(model))
    except (ModelDirError, OSError) as exc:
        _fail(str(exc))
    for path in paths:
        console.print(f"wrote {path}")


encoder_app = typer.Typer(help="Encoders larger than the packaged all-MiniLM-L6-v2.", no_args_is_help=True)
app.add_typer(encoder_app, name="encoder")


@encoder_app.command("list")
def encoder_list_command() -> None:
    """The installable encoders, and where each is (or would be) installed."""
    from nlp_service.model.encoder_install import INSTALLABLE, installed_path

    table = Table("name", "aliases", "installed", "what")
    for encoder in INSTALLABLE:
        path = installed_path(encoder)
        where = str(path) if (path / "config.json").is_file() else "no"
        table.add_row(encoder.name, ", ".join(encoder.aliases), where, encoder.description)
    Console().print(table)


@encoder_app.command("install")
def encoder_install_command(
    name: Annotated[str, typer.Argument(help="encoder to install, e.g. mpnet (all-mpnet-base-v2)")],
    force: Annotated[bool, typer.Option(help="download and unpack again even if installed")] = False,
) -> None:
    """Download the encoder's wheels from the package index, join them, verify sha256, unpack to the cache.

    The cache is ``$EAS_ENCODER_CACHE`` (default ``~/.cache/eas/encoders``); afterwards the encoder's
    name works wherever an encoder is asked for (``eas-nlp train --encoder all-mpnet-base-v2``).
    """
    from rich.progress import DownloadColumn, Progress

    from nlp_service.model.encoder_install import EncoderInstallError, find_installable, install

    encoder = find_installable(name)
    if encoder is None:
        _fail(f"unknown encoder {name!r}; `eas-nlp encoder list` shows the installable ones")
        return
    with Progress(*Progress.get_default_columns(), DownloadColumn(), console=console) as bar:
        task = bar.add_task("joining parts", total=None)
        try:
            install(
                encoder,
                force=force,
                log=bar.console.print,
                progress=lambda n: bar.advance(task, n),
            )
        except (EncoderInstallError, OSError) as exc:
            _fail(str(exc))


if __name__ == "__main__":
    app()
