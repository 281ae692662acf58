"""Encoders with narrower feed-forward layers, and models trained from them (a speed for accuracy trade).

    .venv/bin/python benchmarks/ffn_pruning.py --model /tmp/fs/model --width 768 --out /tmp/ffn768
    .venv/bin/eas-nlp evaluate --model /tmp/ffn768/model --data nlp_service/enterprise/data \\
        --split test --precision int8 --output ffn768.json
    .venv/bin/python benchmarks/realworld_routing.py --model /tmp/ffn768/model --threads 1 --json rw.json
    .venv/bin/python benchmarks/nlp_latency.py --model /tmp/ffn768/model --json lat.json
    .venv/bin/python benchmarks/ffn_pruning.py --width 768 --out /tmp/pre768   # the pretrained encoder

Why: on a CPU without AVX-512 the served model's int8 matrix products are the limit of the NLP
service's throughput, and two thirds of them are the feed-forward layers (384 -> 1,536 -> 384 in
each of MiniLM-L6's six layers). Cutting every layer to its ``--width`` most used neurons cuts those
products in proportion; what it costs in accuracy is what this script is for.

Steps, each printed as it runs:

1. The neurons of each layer are ranked by how much they pass on, over the training sentences of
   the default model's data: the mean magnitude of the neuron's activation times the norm of its
   output weights. The ``--width`` highest are kept, in their order; the encoder (config, weights
   and tokenizer) is written to ``OUT/encoder``.
2. A model is trained from that encoder on the same data with the default model's recipe, for
   ``--epochs`` epochs, half of its intent and slot losses following the unpruned ``--model``
   (``TrainConfig.distill_teachers``), to ``OUT/model``.

Without ``--model``, the *pretrained* encoder (the default model's) is pruned instead, and the model
is trained from it with the default model's recipe as it is (``DEFAULT_EPOCHS``, no teacher): the
cheaper way, which would fit the quick start's time. BENCHMARKS.md has both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from torch import nn
from transformers import AutoModel, AutoTokenizer

from nlp_service.default_model import DEFAULT_EPOCHS, default_dataset
from nlp_service.model.encoder import DEFAULT_ENCODER, resolve_encoder
from nlp_service.training.config import TrainConfig
from nlp_service.training.trainer import train

RANKING_SENTENCES = 3000
"""Training sentences the neurons are ranked on: enough for stable means, seconds to run."""


def neuron_scores(
    encoder, tokenizer, sentences: list[str], batch_size: int = 64, max_length: int = TrainConfig.max_length
) -> list[torch.Tensor]:
    """Per layer, per feed-forward neuron: mean |activation| over real tokens x norm of its output weights.
    Sentences are cut where training cuts them (``max_length``)."""
    layers = encoder.encoder.layer
    totals = [torch.zeros(layer.intermediate.dense.out_features) for layer in layers]
    mask: list[torch.Tensor] = []

    def recorder(index: int):
        def record(module, inputs, output) -> None:
            totals[index] += (output.abs() * mask[0].unsqueeze(-1)).sum((0, 1))

        return record

    hooks = [layer.intermediate.register_forward_hook(recorder(i)) for i, layer in enumerate(layers)]
    tokens = 0.0
    try:
        with torch.inference_mode():
            for start in range(0, len(sentences), batch_size):
                batch = tokenizer(
                    sentences[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                mask[:] = [batch["attention_mask"].float()]
                tokens += float(mask[0].sum())
                encoder(**batch)
    finally:
        for hook in hooks:
            hook.remove()
    return [
        (total / tokens) * layer.output.dense.weight.norm(dim=0)
        for total, layer in zip(totals, layers, strict=True)
    ]


def prune_feed_forward(encoder, scores: list[torch.Tensor], width: int) -> None:
    """Keep the ``width`` highest-scoring neurons of every layer (in place); updates the config."""
    for layer, score in zip(encoder.encoder.layer, scores, strict=True):
        keep = score.argsort(descending=True)[:width].sort().values
        first, second = layer.intermediate.dense, layer.output.dense
        narrow_first = nn.Linear(first.in_features, width)
        narrow_first.weight.data = first.weight.data[keep].clone()
        narrow_first.bias.data = first.bias.data[keep].clone()
        narrow_second = nn.Linear(width, second.out_features)
        narrow_second.weight.data = second.weight.data[:, keep].clone()
        narrow_second.bias.data = second.bias.data.clone()
        layer.intermediate.dense, layer.output.dense = narrow_first, narrow_second
    encoder.config.intermediate_size = width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", type=Path, help="trained model directory (the teacher); omitted: the pretrained encoder"
    )
    parser.add_argument("--width", type=int, required=True, help="feed-forward neurons kept per layer")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/encoder and OUT/model")
    parser.add_argument("--epochs", type=int, help=f"default 2 with --model, else {DEFAULT_EPOCHS}")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    console = Console(stderr=True)
    if args.model is not None and not (args.model / "encoder" / "config.json").is_file():
        sys.exit(f"--model {args.model}: not a trained model directory (no encoder/config.json)")
    if (args.out / "model").exists():
        sys.exit(f"--out {args.out}: {args.out / 'model'} exists; remove it or choose another folder")
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.model is None:
        encoder_dir = tokenizer_dir = resolve_encoder(DEFAULT_ENCODER)
    else:
        encoder_dir, tokenizer_dir = args.model / "encoder", args.model / "tokenizer"
    encoder = AutoModel.from_pretrained(str(encoder_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    full = encoder.config.intermediate_size
    if not 1 <= args.width < full:
        sys.exit(f"--width must be 1 to {full - 1} (the encoder has {full} feed-forward neurons a layer)")
    dataset = default_dataset(console)
    sentences = [" ".join(u.words) for u in dataset.split("train")[:RANKING_SENTENCES]]
    started = time.perf_counter()
    scores = neuron_scores(encoder, tokenizer, sentences)
    prune_feed_forward(encoder, scores, args.width)
    pruned = args.out / "encoder"
    encoder.save_pretrained(str(pruned))
    tokenizer.save_pretrained(str(pruned))
    parameters = sum(p.numel() for p in encoder.parameters())
    console.print(
        f"ranked {full} neurons a layer on {len(sentences)} sentences, kept {args.width}: "
        f"{parameters / 1e6:.1f}M parameters, written to {pruned} ({time.perf_counter() - started:.0f} s)"
    )
    config = TrainConfig(
        encoder=str(pruned),
        epochs=args.epochs or (DEFAULT_EPOCHS if args.model is None else 2),
        seed=args.seed,
        threads=args.threads,
        distill_teachers=() if args.model is None else (str(args.model),),
    )
    train(dataset, args.out / "model", config, console)
    console.print(f"model written to {args.out / 'model'}; score it with the commands in this script's help")


if __name__ == "__main__":
    main()
