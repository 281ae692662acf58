"""What an ensemble of trained models scores on a split: the quality a distilled model aims at.

Why: distillation (``TrainConfig.distill_teachers``) trains one model towards the mean
intent distribution of several. Scoring that mean directly says how much there is to
gain before a student is trained, and how much of it the student kept afterwards. The
ensemble is a measurement only; the server always runs one model.

    .venv/bin/python benchmarks/ensemble_ceiling.py --data ../shared/datasets/clinc150/data_full.json \\
        --model models/s6-t13/clinc150 --model models/s6-t14/clinc150 --json benchmarks/results/ensemble.json

Each model's intent probabilities (calibrated, fp32 ONNX) are averaged; the table gives intent
accuracy and, on data with an out-of-scope label, the in-scope accuracy with nothing
rejected and the threshold trade-off, for every model and for their mean.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from nlp_service.data import load_dataset
from nlp_service.inference.predictor import WordPredictor
from nlp_service.training.evaluate import EVAL_BATCH, out_of_scope_tradeoff


def intent_probs(
    model_dir: Path, words: list[tuple[str, ...]], intents: list[str], threads: int
) -> np.ndarray:
    """One model's calibrated intent probabilities, columns in ``intents`` order."""
    predictor = WordPredictor.load(model_dir, "onnx", threads, "fp32")
    if sorted(predictor.labels.intents) != sorted(intents):
        raise SystemExit(
            f"error: {model_dir} has other intents than {intents[:3]}...; models must share them"
        )
    columns = [predictor.labels.intents.index(name) for name in intents]
    rows = []
    for begin in range(0, len(words), EVAL_BATCH):
        rows.extend(p.intent_probs[columns] for p in predictor.predict(words[begin : begin + EVAL_BATCH]))
    return np.stack(rows)


def score(probs: np.ndarray, examples, intents: list[str], oos_label: str | None) -> dict:
    gold = np.array([intents.index(u.intent) if u.intent in intents else -1 for u in examples])
    report = {"intent_accuracy": round(100.0 * float((probs.argmax(axis=1) == gold).mean()), 2)}
    if oos_label in intents:
        report.update(out_of_scope_tradeoff(examples, probs, intents, oos_label))
    return report


def shared_in_scope_errors(
    per_model: dict[str, np.ndarray], examples, intents: list[str], oos_label: str
) -> list[dict]:
    """In-scope examples that every model puts under a wrong in-scope intent (nothing rejected):
    errors no mixture of these models can fix, and where label noise shows."""
    oos = intents.index(oos_label)
    gold = np.array([intents.index(u.intent) if u.intent in intents else -1 for u in examples])
    in_scope = np.array([u.intent != oos_label for u in examples])
    wrong = in_scope.copy()
    predictions = []
    for probs in per_model.values():
        scores = probs.copy()
        scores[:, oos] = -1.0
        predictions.append(scores.argmax(axis=1))
        wrong &= predictions[-1] != gold
    return [
        {
            "text": " ".join(examples[i].words),
            "gold": examples[i].intent,
            "predicted": intents[predictions[0][i]],
        }
        for i in np.nonzero(wrong)[0]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="seq.in folder or CLINC150-style JSON")
    parser.add_argument("--model", type=Path, action="append", required=True, help="model directory (repeat)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here as well")
    args = parser.parse_args()
    console = Console()
    dataset = load_dataset(args.data)
    examples = dataset.split(args.split)
    words = [u.words for u in examples]
    intents = json.loads((args.model[0] / "labels.json").read_text())["intents"]
    per_model = {str(m): intent_probs(m, words, intents, args.threads) for m in args.model}
    results = {name: score(p, examples, intents, dataset.oos_label) for name, p in per_model.items()}
    results["mean"] = score(np.mean(list(per_model.values()), axis=0), examples, intents, dataset.oos_label)

    table = Table(title=f"{dataset.name} {args.split}: single models and their mean")
    for column in (
        "model",
        "intent acc (top intent)",
        "in-scope, no rejection",
        "in-scope / OOS recall at 0.3",
    ):
        table.add_column(column, overflow="fold")
    for name, report in results.items():
        at_03 = next((r for r in report.get("oos_tradeoff", []) if r["threshold"] == 0.3), None)
        table.add_row(
            name,
            f"{report['intent_accuracy']:.2f}",
            f"{report.get('in_scope_accuracy_without_rejection', float('nan')):.2f}",
            f"{at_03['in_scope_accuracy']:.2f} / {at_03['oos_recall']:.2f}" if at_03 else "—",
        )
    console.print(table)
    if dataset.oos_label in intents:
        shared = shared_in_scope_errors(per_model, examples, intents, dataset.oos_label)
        results["shared_in_scope_errors"] = shared
        console.print(f"{len(shared)} in-scope examples are wrong with every model (listed in the JSON)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": platform.platform(),
            "data": str(args.data),
            "split": args.split,
            "results": results,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
