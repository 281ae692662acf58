"""Side by side: ways to decide "which intent, and is it ours at all?" from one trained model.

    .venv/bin/python benchmarks/routing_methods.py --model models/student --json /tmp/methods.json
    .venv/bin/python benchmarks/routing_methods.py --model models/teacher --public-per-intent 40

Issue 13 asks whether a model keeps more of what its pretrained encoder knows when requests
are scored by their place in the sentence-embedding space rather than by softmax confidence
alone. Every method here reads the same forward pass of the same model (fp32, PyTorch) and
answers two things per request: an intent, and a score of how surely the request is ours.

- ``softmax``: the calibrated largest probability (the served rule);
- ``energy``: the temperature-scaled log-sum-exp of the in-scope intent scores;
- ``mahalanobis``: minus the distance of the sentence embedding to the nearest in-scope
  intent's mean (tied covariance, Ledoit-Wolf shrinkage);
- ``prototype``: cosine of the sentence embedding to the predicted intent's mean embedding;
- ``knn``: cosine to the K-th nearest in-scope training sentence (deep nearest neighbours);
- ``pretrained-knn``: the encoder as it came from PyPI, not fine-tuned: the intent is the
  cosine-weighted vote of the K nearest training sentences, the score their mean cosine.

For each method one threshold is fitted on dev only (the enterprise dev split plus CLINC150's
and SNIPS's dev sentences): the lowest that keeps unrelated dev requests launching an agent
at or under ``--launch-budget``. The test splits (the realistic benchmark's and the
enterprise set's) are then scored once with it. The training set that the neighbour methods
compare against is the model's own (``--public-per-intent`` as it was trained).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from scipy.special import log_softmax, logsumexp
from sklearn.covariance import LedoitWolf
from sklearn.metrics import f1_score
from transformers import AutoModel

from nlp_service.data import load_dataset
from nlp_service.data.realworld import realworld_cases, with_public_sentences
from nlp_service.model.bundle import load_tokenizer, load_torch_model
from nlp_service.model.encoder import resolve_encoder
from nlp_service.model.features import encode_words
from nlp_service.model.labels import LabelMaps
from nlp_service.text.words import words_of

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
ENTERPRISE = ROOT / "nlp_service" / "enterprise" / "data"
BATCH = 64
NEIGHBOURS = 10


@dataclass(frozen=True)
class Case:
    """A request and the EAS intents that serve it (none: no agent may be launched)."""

    words: tuple[str, ...]
    accepted: tuple[str, ...]


@dataclass
class Views:
    """What the model makes of a list of cases: fine-tuned and pretrained embeddings, intent logits."""

    pooled: np.ndarray
    pretrained: np.ndarray
    logits: np.ndarray


def enterprise_cases(dataset, split: str, oos_label: str) -> list[Case]:
    return [Case(u.words, () if u.intent == oos_label else (u.intent,)) for u in dataset.split(split)]


def public_cases(datasets_dir: Path, split: str) -> list[Case]:
    cases = []
    for case in realworld_cases(datasets_dir, split):
        words = tuple(words_of(case.text))
        if words:
            cases.append(Case(words, case.accepted))
    return cases


def embed(model, pretrained, tokenizer, word_lists: Sequence[tuple[str, ...]], max_length: int) -> Views:
    """Sentence embeddings of both encoders and the intent logits, in the input order."""
    order = sorted(range(len(word_lists)), key=lambda i: len(word_lists[i]))
    pooled, plain, logits = [], [], []
    with torch.inference_mode():
        for start in range(0, len(order), BATCH):
            batch = [word_lists[i] for i in order[start : start + BATCH]]
            encoded = encode_words(tokenizer, batch, max_length)
            ids = torch.from_numpy(encoded.input_ids)
            mask = torch.from_numpy(encoded.attention_mask)
            _, sentence = model.encode(ids, mask)
            pooled.append(sentence.numpy())
            logits.append(model.intent_head(sentence).numpy())
            states = pretrained(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(states.dtype)
            plain.append(((states * weights).sum(1) / weights.sum(1).clamp(min=1.0)).numpy())
    inverse = np.argsort(order)
    return Views(
        np.concatenate(pooled)[inverse], np.concatenate(plain)[inverse], np.concatenate(logits)[inverse]
    )


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


def _top_k_cosines(queries: np.ndarray, references: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosines of each query's k most similar references, most similar first."""
    indices, cosines = [], []
    for start in range(0, len(queries), 1024):
        similarity = queries[start : start + 1024] @ references.T
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(similarity, top, axis=1)
        ranked = np.argsort(-top_scores, axis=1)
        indices.append(np.take_along_axis(top, ranked, axis=1))
        cosines.append(np.take_along_axis(top_scores, ranked, axis=1))
    return np.concatenate(indices), np.concatenate(cosines)


Method = Callable[[Views], tuple[np.ndarray, np.ndarray]]


def build_methods(train: Views, train_labels: np.ndarray, labels: LabelMaps, oos: int) -> dict[str, Method]:
    """Each method maps views of some requests to (predicted intent index, in-scope score)."""
    temperature = labels.temperature
    in_scope = np.array([i != oos for i in range(len(labels.intents))])
    keep = train_labels != oos
    pooled, classes = train.pooled[keep], train_labels[keep]
    present = np.unique(classes)
    means = np.stack([pooled[classes == c].mean(axis=0) for c in present])
    precision = LedoitWolf().fit(pooled - means[np.searchsorted(present, classes)]).precision_
    prototypes = np.zeros((len(labels.intents), pooled.shape[1]))
    prototypes[present] = _normalise(means)
    tuned_refs = _normalise(pooled)
    plain_refs, plain_labels = _normalise(train.pretrained), train_labels

    def softmax(views: Views):
        probs = np.exp(log_softmax(views.logits / temperature, axis=1))
        return probs.argmax(axis=1), probs.max(axis=1)

    def energy(views: Views):
        return views.logits.argmax(axis=1), temperature * logsumexp(
            views.logits[:, in_scope] / temperature, axis=1
        )

    def mahalanobis(views: Views):
        distances = []
        for mean in means:
            centred = views.pooled - mean
            distances.append(np.einsum("ij,jk,ik->i", centred, precision, centred))
        return views.logits.argmax(axis=1), -np.min(np.stack(distances, axis=1), axis=1)

    def prototype(views: Views):
        predicted = views.logits.argmax(axis=1)
        return predicted, np.einsum("ij,ij->i", _normalise(views.pooled), prototypes[predicted])

    def knn(views: Views):
        _, cosines = _top_k_cosines(_normalise(views.pooled), tuned_refs, NEIGHBOURS)
        return views.logits.argmax(axis=1), cosines[:, -1]

    def pretrained_knn(views: Views):
        neighbours, cosines = _top_k_cosines(_normalise(views.pretrained), plain_refs, NEIGHBOURS)
        votes = np.zeros((len(neighbours), len(labels.intents)))
        np.add.at(votes, (np.arange(len(neighbours))[:, None], plain_labels[neighbours]), cosines)
        predicted = votes.argmax(axis=1)
        agreeing = plain_labels[neighbours] == predicted[:, None]
        return predicted, (cosines * agreeing).sum(axis=1) / agreeing.sum(axis=1).clip(min=1)

    return {
        "softmax": softmax,
        "energy": energy,
        "mahalanobis": mahalanobis,
        "prototype": prototype,
        "knn": knn,
        "pretrained-knn": pretrained_knn,
    }


def launched(
    predicted: np.ndarray, scores: np.ndarray, threshold: float, intents, oos: int
) -> list[str | None]:
    return [
        intents[p] if p != oos and s >= threshold else None for p, s in zip(predicted, scores, strict=True)
    ]


def fit_threshold(
    predicted: np.ndarray, scores: np.ndarray, cases: list[Case], oos: int, budget: float
) -> float:
    """The lowest threshold at which at most ``budget`` of the unrelated dev requests launch an agent."""
    unrelated = np.array([not c.accepted for c in cases])
    would_launch = np.sort(scores[unrelated & (predicted != oos)])[::-1]
    allowed = int(budget * unrelated.sum())
    if len(would_launch) <= allowed:
        return float("-inf")
    return float(np.nextafter(would_launch[allowed], np.inf))


def score(cases: list[Case], routed: list[str | None], oos_label: str) -> dict[str, float]:
    work = [(c, r) for c, r in zip(cases, routed, strict=True) if c.accepted]
    unrelated = [r for c, r in zip(cases, routed, strict=True) if not c.accepted]
    figures = {
        "work_right_pct": 100 * sum(r in c.accepted for c, r in work) / max(1, len(work)),
        "work_wrong_agent_pct": 100
        * sum(r is not None and r not in c.accepted for c, r in work)
        / max(1, len(work)),
        "unrelated_launched_pct": 100 * sum(r is not None for r in unrelated) / max(1, len(unrelated)),
    }
    gold = [c.accepted[0] if c.accepted else oos_label for c in cases]
    # An accepted second intent (a meeting room booked as resource_booking) counts as the first.
    predicted = [
        c.accepted[0] if r in c.accepted else (r or oos_label) for c, r in zip(cases, routed, strict=True)
    ]
    figures["intent_macro_f1"] = 100 * f1_score(
        gold, predicted, average="macro", labels=sorted(set(gold)), zero_division=0
    )
    return {name: round(value, 2) for name, value in figures.items()}


def _figures(figures: dict[str, float], *names: str) -> str:
    return " / ".join(f"{figures[name]:.2f}" for name in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="trained model directory")
    parser.add_argument(
        "--data", type=Path, default=ENTERPRISE, help="the enterprise data set it was trained on"
    )
    parser.add_argument("--datasets", type=Path, default=SHARED, help="folder with clinc150/ and snips/")
    parser.add_argument(
        "--public-per-intent",
        type=int,
        default=40,
        help="public sentences per intent in its training set (0: none)",
    )
    parser.add_argument("--launch-budget", type=float, default=0.01, help="unrelated dev launches allowed")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    console = Console()
    if not (args.model / "manifest.json").is_file():
        console.print(f"[red]--model {args.model} is not a model directory (no manifest.json)[/red]")
        return 2
    if not (args.datasets / "clinc150").is_dir():
        console.print(f"[red]--datasets {args.datasets} has no clinc150/ folder[/red]")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.monotonic()
    labels = LabelMaps.load(args.model / "labels.json")
    config = json.loads((args.model / "training_config.json").read_text())
    oos_label = labels.oos_label or "oos"
    oos = labels.intent_index[oos_label]
    model = load_torch_model(args.model, labels)
    tokenizer = load_tokenizer(args.model)
    pretrained = AutoModel.from_pretrained(str(resolve_encoder(config["encoder"]))).eval()

    enterprise = load_dataset(args.data)
    training = enterprise
    if args.public_per_intent:
        training = with_public_sentences(
            enterprise, args.datasets, oos_label, per_source_intent=args.public_per_intent
        )
    train_utterances = list(training.split("train"))
    dev = enterprise_cases(enterprise, "dev", oos_label) + public_cases(args.datasets, "dev")
    tests = {
        "realworld": public_cases(args.datasets, "test"),
        "enterprise": enterprise_cases(enterprise, "test", oos_label),
    }

    def views_of(word_lists, what: str) -> Views:
        console.print(f"embedding {len(word_lists)} {what} sentences")
        return embed(model, pretrained, tokenizer, word_lists, config.get("max_length", 64))

    train_views = views_of([u.words for u in train_utterances], "training")
    train_labels = np.array([labels.intent_index[u.intent] for u in train_utterances])
    dev_views = views_of([c.words for c in dev], "dev")
    test_views = {name: views_of([c.words for c in cases], name) for name, cases in tests.items()}

    results = {}
    table = Table(
        "method",
        "threshold",
        "dev right / launched",
        "realworld right / wrong / launched",
        "enterprise F1 / right / launched",
    )
    for name, method in build_methods(train_views, train_labels, labels, oos).items():
        predicted, scores = method(dev_views)
        threshold = fit_threshold(predicted, scores, dev, oos, args.launch_budget)
        row = {
            "threshold": threshold,
            "dev": score(dev, launched(predicted, scores, threshold, labels.intents, oos), oos_label),
        }
        for split, cases in tests.items():
            predicted, scores = method(test_views[split])
            row[split] = score(cases, launched(predicted, scores, threshold, labels.intents, oos), oos_label)
        results[name] = row
        table.add_row(
            name,
            f"{threshold:.4g}",
            _figures(row["dev"], "work_right_pct", "unrelated_launched_pct"),
            _figures(row["realworld"], "work_right_pct", "work_wrong_agent_pct", "unrelated_launched_pct"),
            _figures(row["enterprise"], "intent_macro_f1", "work_right_pct", "unrelated_launched_pct"),
        )
    console.print(table)
    if args.json:
        payload = {
            "model": str(args.model),
            "encoder": config["encoder"],
            "public_per_intent": args.public_per_intent,
            "launch_budget": args.launch_budget,
            "methods": results,
            "seconds": round(time.monotonic() - started, 1),
            "machine": platform.processor() or platform.machine(),
            "date": datetime.now(UTC).isoformat(timespec="minutes"),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
