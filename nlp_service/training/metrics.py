"""Benchmark metrics, in percent, computed the way the published results compute them.

Slot F1 is entity-level F1 from ``seqeval`` (default mode); sentence accuracy counts an
utterance right only when its intent and every tag are right; for data with an
out-of-scope class, in-scope accuracy and out-of-scope recall follow Larson et al. 2019
(an in-scope query predicted out-of-scope is an in-scope error). Labels that the model
never saw simply never match, so they count as errors instead of crashing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from seqeval.metrics import f1_score as entity_f1
from sklearn.metrics import f1_score

from nlp_service.data.schema import Utterance


def _pct(value: float) -> float:
    return round(100.0 * float(value), 2)


def compute_metrics(
    gold: Sequence[Utterance],
    predicted_intents: Sequence[str],
    predicted_tags: Sequence[Sequence[str]],
    oos_label: str | None = None,
    has_slots: bool = True,
) -> dict:
    if not (len(gold) == len(predicted_intents) == len(predicted_tags)):
        raise ValueError("gold and predictions differ in length")
    gold_intents = [u.intent for u in gold]
    intent_right = [g == p for g, p in zip(gold_intents, predicted_intents, strict=True)]
    tags_right = [list(u.tags) == list(t) for u, t in zip(gold, predicted_tags, strict=True)]
    metrics: dict = {
        "examples": len(gold),
        "intent_accuracy": _pct(sum(intent_right) / max(len(gold), 1)),
        "intent_macro_f1": _pct(
            f1_score(
                gold_intents,
                list(predicted_intents),
                average="macro",
                labels=sorted(set(gold_intents)),
                zero_division=0,
            )
        ),
        "sentence_accuracy": _pct(
            sum(a and b for a, b in zip(intent_right, tags_right, strict=True)) / max(len(gold), 1)
        ),
    }
    if has_slots:
        metrics["slot_f1"] = _pct(entity_f1([list(u.tags) for u in gold], [list(t) for t in predicted_tags]))
    if oos_label is not None and oos_label in gold_intents:
        in_scope = [r for g, r in zip(gold_intents, intent_right, strict=True) if g != oos_label]
        oos_gold = [
            p == oos_label for g, p in zip(gold_intents, predicted_intents, strict=True) if g == oos_label
        ]
        predicted_oos = [
            g == oos_label for g, p in zip(gold_intents, predicted_intents, strict=True) if p == oos_label
        ]
        metrics["in_scope_accuracy"] = _pct(sum(in_scope) / max(len(in_scope), 1))
        metrics["oos_recall"] = _pct(sum(oos_gold) / max(len(oos_gold), 1))
        metrics["oos_precision"] = _pct(sum(predicted_oos) / max(len(predicted_oos), 1))
    metrics["per_intent"] = per_intent_report(gold_intents, predicted_intents)
    return metrics


def per_intent_report(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Per gold intent: support, accuracy (recall) and what it was confused with."""
    confusion: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    report = {}
    for intent in sorted(confusion):
        row = confusion[intent]
        support = sum(row.values())
        report[intent] = {
            "support": support,
            "recall": _pct(row[intent] / support),
            "confused_with": {p: n for p, n in row.most_common() if p != intent},
        }
    return report


def headline(metrics: dict) -> dict:
    """The scalar figures only (no per-intent table), for tables and early stopping."""
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}
