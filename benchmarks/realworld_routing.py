"""How a model routes requests written by people, scored as the gateway acts on them.

    .venv/bin/python benchmarks/realworld_routing.py --model .eas/models/nlp-default
    .venv/bin/python benchmarks/realworld_routing.py --model models/x --precision fp32 --json /tmp/rw.json

The cases are CLINC150's and SNIPS's test splits mapped onto EAS (``nlp_service.data.realworld``):
work requests EAS has an intent for, and everyday requests it must not act on. Each text goes
through the model (int8 ONNX by default, what the server runs on CPU) and then through the
gateway's own decision (``eas_pipelines.gateway.triage.decide``, with ``EAS_MIN_CONFIDENCE``'s
default 0.6): a work request counts as **right** when it is routed to an accepted intent; an
unrelated request counts as **launched** when it is routed to any agent at all (out of scope,
low confidence and unroutable answers go to a person, which is the safe outcome).

Targets (issue 13): right >= 95 %, launched <= 2 %. Models are trained, selected and calibrated
on train/dev splits only; this script reads the test splits and nothing trains on them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eas_pipelines.gateway.nlp_client import Classification
from eas_pipelines.gateway.triage import decide
from eas_pipelines.routing import ROUTES
from nlp_service.data.realworld import RoutingCase, realworld_cases
from nlp_service.inference.parser import NLUParser
from nlp_service.inference.result import ParseResult

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
BATCH = 64
NO_AMOUNT_APPROVALS = {route.amount_threshold_setting: float("inf") for route in ROUTES.values()}
"""Thresholds no amount is over: only where a request goes is scored, not whether it is approved."""


@dataclass
class GroupScore:
    """Outcomes of one source intent ("clinc150:pto_used", "snips:PlayMusic")."""

    total: int = 0
    right: int = 0  # work: routed to an accepted intent
    launched: int = 0  # routed to an agent (for work: any agent, right or wrong)
    outcomes: Counter[str] = field(default_factory=Counter)


def routed_intent(result: ParseResult, min_confidence: float) -> str | None:
    """The EAS intent the gateway would start an agent for, or None when a person gets it."""
    answer = Classification(
        intent=result.intent,
        confidence=result.confidence,
        out_of_scope=result.out_of_scope,
        entities=(),
        model_version=result.model_version,
    )
    decision = decide(answer, min_confidence=min_confidence, amount_thresholds=NO_AMOUNT_APPROVALS)
    return decision.route.intent if decision.route is not None else None


def score(
    cases: list[RoutingCase], results: list[ParseResult], min_confidence: float
) -> tuple[dict[str, GroupScore], Counter[tuple[str, str]]]:
    """Per-source outcomes, and the confusions: (expected, routed) pairs that went wrong."""
    groups: dict[str, GroupScore] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    for case, result in zip(cases, results, strict=True):
        group = groups.setdefault(case.source, GroupScore())
        routed = routed_intent(result, min_confidence)
        group.total += 1
        group.outcomes[routed or "review"] += 1
        if routed is not None:
            group.launched += 1
        if case.is_work and routed in case.accepted:
            group.right += 1
        elif case.is_work:
            confusions[(case.expected, routed or "review")] += 1
        elif routed is not None:
            confusions[(case.source, routed)] += 1
    return groups, confusions


def summary(cases: list[RoutingCase], groups: dict[str, GroupScore]) -> dict[str, float | int]:
    work_sources = {c.source for c in cases if c.is_work}
    work = [g for s, g in groups.items() if s in work_sources]
    unrelated = [g for s, g in groups.items() if s not in work_sources]
    n_work = sum(g.total for g in work)
    n_unrelated = sum(g.total for g in unrelated)
    return {
        "work_requests": n_work,
        "work_right_pct": round(100 * sum(g.right for g in work) / max(1, n_work), 2),
        "work_wrong_agent_pct": round(100 * sum(g.launched - g.right for g in work) / max(1, n_work), 2),
        "unrelated_requests": n_unrelated,
        "unrelated_launched_pct": round(100 * sum(g.launched for g in unrelated) / max(1, n_unrelated), 2),
    }


def parse_all(parser: NLUParser, texts: list[str], console: Console) -> list[ParseResult]:
    results: list[ParseResult] = []
    for start in range(0, len(texts), BATCH):
        results.extend(parser.parse_batch(texts[start : start + BATCH]))
        if start // BATCH % 20 == 0:
            console.print(f"  parsed {len(results)}/{len(texts)}")
    return results


def report(
    console: Console,
    cases: list[RoutingCase],
    groups: dict[str, GroupScore],
    confusions: Counter[tuple[str, str]],
    totals: dict[str, float | int],
) -> None:
    work_sources = sorted({c.source for c in cases if c.is_work})
    table = Table("work intent (CLINC150)", "EAS intent", "n", "right %", "wrong agent %", "review %")
    expected = {c.source: c.expected for c in cases}
    for source in work_sources:
        g = groups[source]
        table.add_row(
            source,
            expected[source],
            str(g.total),
            f"{100 * g.right / g.total:.1f}",
            f"{100 * (g.launched - g.right) / g.total:.1f}",
            f"{100 * g.outcomes['review'] / g.total:.1f}",
        )
    console.print(table)
    worst = sorted(
        ((s, g) for s, g in groups.items() if s not in work_sources and g.launched),
        key=lambda item: -item[1].launched / item[1].total,
    )[:15]
    table = Table("unrelated source", "n", "launched %", "most launched")
    for source, g in worst:
        top = [(k, v) for k, v in g.outcomes.most_common() if k != "review"][:2]
        table.add_row(
            source, str(g.total), f"{100 * g.launched / g.total:.1f}", ", ".join(f"{k} ({v})" for k, v in top)
        )
    console.print(table)
    table = Table("expected", "routed to", "count")
    for (want, got), count in confusions.most_common(15):
        table.add_row(want, got, str(count))
    console.print(table)
    console.print(
        f"[bold]work requests to the right intent: {totals['work_right_pct']:.2f} % "
        f"(target >= 95)[/bold] of {totals['work_requests']}; to a wrong agent "
        f"{totals['work_wrong_agent_pct']:.2f} %\n"
        f"[bold]unrelated requests launching an agent: {totals['unrelated_launched_pct']:.2f} % "
        f"(target <= 2)[/bold] of {totals['unrelated_requests']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="model directory")
    parser.add_argument("--datasets", type=Path, default=SHARED, help="folder with clinc150/ and snips/")
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32"])
    parser.add_argument("--min-confidence", type=float, default=0.6, help="the gateway's EAS_MIN_CONFIDENCE")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    if not (args.model / "manifest.json").is_file():
        console.print(f"[red]error:[/red] {args.model} is not a model directory (no manifest.json)")
        return 2
    if not (args.datasets / "clinc150" / "data_full.json").is_file():
        console.print(f"[red]error:[/red] no clinc150/data_full.json under {args.datasets} (--datasets)")
        return 2
    cases = realworld_cases(args.datasets, args.split)
    nlu = NLUParser.load(args.model, backend=args.backend, threads=args.threads, precision=args.precision)
    console.print(f"{len(cases)} cases from {args.datasets} ({args.split}); model {nlu.model_version}")
    started = time.monotonic()
    results = parse_all(nlu, [c.text for c in cases], console)
    seconds = time.monotonic() - started
    groups, confusions = score(cases, results, args.min_confidence)
    totals = summary(cases, groups)
    report(console, cases, groups, confusions, totals)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": str(args.model),
            "model_version": nlu.model_version,
            "split": args.split,
            "backend": args.backend,
            "precision": args.precision,
            "min_confidence": args.min_confidence,
            "machine": {"platform": platform.platform(), "processor": platform.processor()},
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "parse_seconds": round(seconds, 1),
            **totals,
            "per_source": {
                s: {"total": g.total, "right": g.right, "launched": g.launched, "outcomes": dict(g.outcomes)}
                for s, g in sorted(groups.items())
            },
            "confusions": [
                {"expected": want, "routed": got, "count": n} for (want, got), n in confusions.most_common(50)
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2))
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
