"""Compare models trained on two versions of the enterprise data, on templates neither trained on.

    .venv/bin/python benchmarks/enterprise_held_out.py --old-rev 0ac59c6 \\
        --model old=/tmp/fs/model --model new=/tmp/fs2/model --json held_out.json

The enterprise data is split by template, and every template added to an intent reshuffles that
intent's split (``nlp_service.enterprise.splits``), so a model trained on new data cannot be scored
against the old model on either version's test split: each has trained on some of the other's test
templates. The fair set is the old version's test split (its committed sentences) less every
example whose template is in the current training split. The old model never trained on any of
it, and the new one never trained on those templates either. Reading the old version's templates
needs a git checkout of ``--old-rev``, made in a temporary worktree and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nlp_service.data import load_dataset
from nlp_service.enterprise.generator import generate_examples
from nlp_service.inference.predictor import WordPredictor
from nlp_service.training.evaluate import evaluate_predictor
from nlp_service.training.metrics import headline

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("nlp_service") / "enterprise" / "data"
COLUMNS = ("examples", "intent_accuracy", "intent_macro_f1", "slot_f1", "in_scope_accuracy", "oos_recall")
_TEST_TEMPLATES = (
    "import json, sys; sys.path.insert(0, '.'); "
    "from nlp_service.enterprise.generator import generate_examples; "
    "print(json.dumps([e.template for e in generate_examples()['test']]))"
)


def old_test_split(rev: str) -> tuple[list, list[str]]:
    """The test utterances committed at ``rev`` and the template each was generated from."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
            check=True,
            capture_output=True,
        )
        try:
            listed = subprocess.run(
                [sys.executable, "-c", _TEST_TEMPLATES], cwd=tree, check=True, capture_output=True, text=True
            )
            templates = json.loads(listed.stdout)
            examples = load_dataset(tree / DATA).split("test")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=True,
                capture_output=True,
            )
    if len(templates) != len(examples):
        raise SystemExit(f"{rev}: {len(examples)} committed test sentences but {len(templates)} generated")
    return examples, templates


def imported_package_outside_checkout() -> str | None:
    """Why the comparison would be wrong, or None: the "current" data is read through the imported
    ``nlp_service``, which must be this script's own checkout. Run from a git worktree of another
    revision, a virtual environment's editable install still imports the main checkout's package,
    and the script would silently compare that checkout with itself."""
    imported = Path(sys.modules["nlp_service"].__file__).resolve().parent.parent
    if imported == ROOT.resolve():
        return None
    return (
        f"this script is in {ROOT} but imports nlp_service from {imported}; "
        f"run it with PYTHONPATH={ROOT} so that the current data is this checkout's"
    )


def parse_model(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--model {text!r}: expected NAME=MODEL_DIR")
    return name, Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old-rev", required=True, help="git revision of the earlier data version")
    parser.add_argument("--model", type=parse_model, action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--precision", default="int8", choices=("int8", "fp32"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 130))
    problem = imported_package_outside_checkout()
    if problem:
        raise SystemExit(problem)

    examples, templates = old_test_split(args.old_rev)
    trained_on = {example.template for example in generate_examples()["train"]}
    held_out = [u for u, template in zip(examples, templates, strict=True) if template not in trained_on]
    console.print(
        f"{args.old_rev}'s test split: {len(examples)} sentences, {len(held_out)} from templates "
        "outside the current training split"
    )
    results = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPU cores",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "old_rev": args.old_rev,
        "old_test_examples": len(examples),
        "held_out_examples": len(held_out),
        "models": {},
    }
    table = Table(title=f"{args.old_rev}'s test templates outside the current training split")
    table.add_column("model")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for name, model_dir in args.model:
        predictor = WordPredictor.load(model_dir, "onnx", args.threads, args.precision)
        scores = headline(evaluate_predictor(predictor, held_out, predictor.labels.oos_label, True))
        results["models"][name] = {"model": str(model_dir), "version": predictor.version, **scores}
        table.add_row(f"{name} ({predictor.version})", *[str(scores.get(c, "—")) for c in COLUMNS])
    console.print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
