"""Fine-tuning the joint model: seeded, early-stopped on dev, saved as a versioned directory."""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from nlp_service.data.schema import UNLABELLED_TAG, Dataset, Utterance
from nlp_service.inference.predictor import WordPredictor
from nlp_service.model.bundle import save_model, update_metrics
from nlp_service.model.crf import word_scores
from nlp_service.model.encoder import resolve_encoder
from nlp_service.model.features import IGNORE_INDEX, encode_words, slot_targets
from nlp_service.model.labels import LabelMaps
from nlp_service.model.network import JointIntentSlotModel
from nlp_service.model.onnx_export import export_onnx
from nlp_service.model.onnx_int8 import quantize_onnx
from nlp_service.training.augment import substitute_entities
from nlp_service.training.calibration import calibrate_labels, fit_distance_gate
from nlp_service.training.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from nlp_service.training.config import TrainConfig
from nlp_service.training.distillation import (
    check_teachers,
    distillation_loss,
    slot_distillation_loss,
    slot_targets_from_words,
    teacher_targets,
)
from nlp_service.training.evaluate import evaluate_predictor
from nlp_service.training.rdrop import rdrop_loss


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def split_dev(dataset: Dataset, fraction: float, seed: int) -> tuple[list[Utterance], list[Utterance]]:
    """Train and dev examples; a data set without a dev split gives up a seeded slice of train."""
    train = list(dataset.split("train"))
    if "dev" in dataset.splits:
        return train, dataset.splits["dev"]
    random.Random(seed).shuffle(train)
    cut = max(1, int(len(train) * fraction))
    return train[cut:], train[:cut]


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length examples: less padding, same randomness across epochs."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for begin in range(0, len(order), pool):
        chunk = sorted(order[begin : begin + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def _dev_score(metrics: dict) -> float:
    """One number to early-stop on: intent accuracy (out-of-scope examples included, each counting
    once), averaged with slot F1 where there are slots."""
    if "slot_f1" in metrics:
        return (metrics["intent_accuracy"] + metrics["slot_f1"]) / 2
    return metrics["intent_accuracy"]


def train(
    dataset: Dataset,
    out_dir: Path,
    config: TrainConfig | None = None,
    console: Console | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
    checkpoint: Path | None = None,
) -> Path:
    """Train on ``dataset`` and write a complete model directory to ``out_dir``.

    With ``checkpoint``, the state at the end of every epoch is written there, a run that
    finds one carries on after its last epoch, and it is deleted once the model is saved.
    """
    config = config or TrainConfig()
    console = console or Console(stderr=True)
    if config.rdrop_weight < 0:
        raise ValueError(f"rdrop_weight must be 0 or more, not {config.rdrop_weight}")
    if not 0.0 <= config.distill_weight <= 1.0:
        raise ValueError(f"distill_weight must be in [0, 1], not {config.distill_weight}")
    if not 0.0 <= config.distill_slot_weight <= 1.0:
        raise ValueError(f"distill_slot_weight must be in [0, 1], not {config.distill_slot_weight}")
    check_teachers(config.distill_teachers)
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    encoder_dir = resolve_encoder(config.encoder)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    labels = LabelMaps.from_dataset(dataset)
    train_set, dev_set = split_dev(dataset, config.dev_fraction, config.seed)
    if config.augment_copies:
        train_set = train_set + substitute_entities(train_set, config.augment_copies, config.seed)
    use_crf = config.slot_crf and dataset.has_slots
    model = JointIntentSlotModel.from_encoder(
        encoder_dir,
        len(labels.intents),
        len(labels.tags),
        config.dropout,
        config.encoder_layers,
        use_crf,
        config.intent_cosine_scale,
    )

    intent_ids = labels.intent_index
    tag_ids = labels.tag_index
    encoded = encode_words(tokenizer, [u.words for u in train_set], config.max_length)
    tag_ids[UNLABELLED_TAG] = IGNORE_INDEX
    targets = slot_targets(encoded, [[tag_ids[t] for t in u.tags] for u in train_set])
    intents = np.array([intent_ids[u.intent] for u in train_set], dtype=np.int64)
    lengths = encoded.attention_mask.sum(axis=1)
    teacher_probs = teacher_tags = None
    if config.distill_teachers:
        console.print(f"scoring the training set with {len(config.distill_teachers)} distillation teacher(s)")
        distil_tags = config.distill_slot_weight > 0 and dataset.has_slots
        teacher_probs, teacher_tags = teacher_targets(
            config.distill_teachers,
            train_set,
            labels.intents,
            labels.tags if distil_tags else None,
            config.distill_temperature,
        )

    rng = random.Random(config.seed)
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": config.encoder_lr},
            {"params": head_params, "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(total_steps * config.warmup_ratio), total_steps
    )
    if not 0.0 <= config.ema_decay < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1), not {config.ema_decay}")
    averaged = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
        if config.ema_decay
        else None
    )
    intent_loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    slot_loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE_INDEX)

    state = TrainingState()
    saved_with = dict(
        config=config,
        train_examples=len(train_set),
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        averaged=averaged,
        batch_rng=rng,
    )
    if checkpoint is not None:
        resumed = load_checkpoint(checkpoint, **saved_with)
        if resumed is not None:
            state = resumed
            console.print(f"resuming from {checkpoint}: epoch {state.epoch} done, step {state.step}")
    started = time.monotonic() - state.elapsed_seconds
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    console.print(
        f"training on {len(train_set)} examples ({len(dev_set)} dev), {len(labels.intents)} intents, "
        f"{len(labels.tags)} tags, encoder {config.encoder}, up to {config.epochs} epochs"
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("train", total=total_steps, completed=state.step, loss=float("nan"))
        finished = state.stale >= config.patience or state.step >= total_steps
        last_epoch = state.epoch if finished else config.epochs  # a resumed, finished run trains no more
        for epoch in range(state.epoch + 1, last_epoch + 1):
            model.train()
            running = []
            for batch in length_bucketed_batches(lengths, config.batch_size, rng):
                width = int(lengths[batch].max())
                # R-Drop reads every example twice in one call: dropout differs row by row.
                rows = batch * 2 if config.rdrop_weight else batch
                ids = torch.from_numpy(encoded.input_ids[rows, :width])
                mask = torch.from_numpy(encoded.attention_mask[rows, :width])
                intent_logits, slot_logits = model(ids, mask)
                loss = intent_loss_fn(intent_logits, torch.from_numpy(intents[rows]))
                if teacher_probs is not None:
                    soft = distillation_loss(
                        intent_logits, torch.from_numpy(teacher_probs[rows]), config.distill_temperature
                    )
                    loss = (1 - config.distill_weight) * loss + config.distill_weight * soft
                slot_target = torch.from_numpy(targets[rows, :width])
                if config.rdrop_weight:
                    loss = loss + config.rdrop_weight * rdrop_loss(intent_logits, slot_logits, slot_target)
                slot_loss = None
                if (slot_target != IGNORE_INDEX).any():
                    if model.crf is not None:
                        emissions, tags, word_mask, _ = word_scores(slot_logits, slot_target)
                        slot_loss = model.crf.nll(emissions, tags, word_mask)
                    else:
                        slot_loss = slot_loss_fn(
                            slot_logits.reshape(-1, slot_logits.shape[-1]), slot_target.reshape(-1)
                        )
                if teacher_tags is not None:
                    soft_targets, soft_mask = slot_targets_from_words(
                        [teacher_tags[i] for i in rows], [encoded.word_starts[i] for i in rows], width
                    )
                    soft_slots = slot_distillation_loss(
                        slot_logits, soft_targets, soft_mask, config.distill_temperature
                    )
                    weight = config.distill_slot_weight
                    slot_loss = weight * soft_slots + (0.0 if slot_loss is None else (1 - weight) * slot_loss)
                if slot_loss is not None:
                    loss = loss + config.slot_loss_weight * slot_loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                if averaged is not None:
                    averaged.update_parameters(model)
                state.step += 1
                running.append(loss.item())
                progress.update(
                    task, advance=1, loss=float(np.mean(running[-50:])), description=f"epoch {epoch}"
                )
                if not console.is_terminal and state.step % max(1, total_steps // 20) == 0:
                    # Logs and CI have no live bar: print a line every 5 % instead.
                    elapsed = time.monotonic() - started
                    console.print(
                        f"step {state.step}/{total_steps} loss {np.mean(running[-50:]):.4f} "
                        f"elapsed {elapsed:.0f}s eta {elapsed / state.step * (total_steps - state.step):.0f}s"
                    )
                if state.step >= total_steps:
                    break
            scored = averaged.module if averaged is not None else model
            scored.eval()
            _keep_crf_scores(scored, labels)
            predictor = WordPredictor(_torch_run(scored), tokenizer, labels, config.max_length)
            dev_metrics = evaluate_predictor(predictor, dev_set, labels.oos_label, dataset.has_slots)
            score = _dev_score(dev_metrics)
            summary = {k: v for k, v in dev_metrics.items() if not isinstance(v, dict)}
            state.history.append({"epoch": epoch, "loss": float(np.mean(running)), **summary})
            progress.console.print(f"epoch {epoch}: loss {np.mean(running):.4f} dev {summary}")
            if on_epoch:
                on_epoch(epoch, summary)
            if score > state.best_score:
                state.best_score, state.best_epoch, state.stale = score, epoch, 0
                state.best_state = copy.deepcopy(scored.state_dict())
            else:
                state.stale += 1
            state.epoch = epoch
            if checkpoint is not None:
                state.elapsed_seconds = time.monotonic() - started
                save_checkpoint(checkpoint, state=state, **saved_with)
            if state.stale >= config.patience or state.step >= total_steps:
                break
    model.load_state_dict(state.best_state)
    model.eval()
    _keep_crf_scores(model, labels)

    calibrate_labels(_torch_run(model), tokenizer, labels, dev_set, config.max_length)
    gate = None
    if config.distance_gate:
        console.print("fitting the distance gate (training sentences' intent means, dev threshold)")
        gate = fit_distance_gate(
            _torch_run(model), tokenizer, labels, train_set, dev_set, config.max_length, config.launch_budget
        )
    out_dir = Path(out_dir)
    training_config = {
        **config.to_dict(),
        "dataset": dataset.name,
        "best_epoch": state.best_epoch,
        "train_examples": len(train_set),
        "dev_examples": len(dev_set),
        "train_seconds": round(time.monotonic() - started, 1),
        "history": state.history,
    }
    manifest = save_model(
        out_dir,
        model,
        tokenizer,
        labels,
        encoder_name=config.encoder,
        dataset_name=dataset.name,
        max_length=config.max_length,
        training_config=training_config,
    )
    if gate is not None:
        gate.save(out_dir)
    if config.export_onnx:
        export_onnx(model, out_dir)
        if config.export_int8:
            quantize_onnx(out_dir)
    predictor = WordPredictor(_torch_run(model), tokenizer, labels, config.max_length, manifest.version, gate)
    update_metrics(
        out_dir, "dev", evaluate_predictor(predictor, dev_set, labels.oos_label, dataset.has_slots)
    )
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)
    console.print(
        f"saved model {manifest.version} to {out_dir} (best epoch {state.best_epoch}, "
        f"{training_config['train_seconds']:.0f} s)"
    )
    return out_dir


def _keep_crf_scores(model: JointIntentSlotModel, labels: LabelMaps) -> None:
    """Copy the CRF's current scores into the label maps, which decoding (and the saved
    ``labels.json``) read them from."""
    labels.slot_transitions = model.crf.export() if model.crf is not None else None


def _torch_run(model: JointIntentSlotModel):
    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, ...]:
        with torch.inference_mode():
            outputs = model.serving_outputs(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return tuple(output.numpy() for output in outputs)

    return run
