"""Generate the EAS enterprise NLU data set and write it in the ``seq.in`` format.

Usage: ``python -m nlp_service.enterprise.generator [--out DIR] [--seed N]``. The same
seed always produces byte-identical files; the committed files under ``data/`` are the
output for the default seed, and a test regenerates them to keep code and data in step.

Every example is rendered from a template as raw text with entity spans, noised, then
split into words by the serving-time splitter and tagged, so that training words are the
words the server will see. Dev and test use templates (and some entity values) that
train never sees; see ``splits`` and ``values``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nlp_service.data.schema import OUTSIDE_TAG, Utterance
from nlp_service.data.seqio import write_split
from nlp_service.enterprise.labels import ALL_LABELS, OOS_LABEL
from nlp_service.enterprise.noise import add_politeness, add_punctuation, add_typo, recase
from nlp_service.enterprise.splits import SPLITS, partition_templates
from nlp_service.enterprise.tagging import Rendered, join
from nlp_service.enterprise.template import check, render
from nlp_service.enterprise.templates import TEMPLATES
from nlp_service.enterprise.values import ValueSource

DEFAULT_SEED = 13
DATA_DIR = Path(__file__).resolve().parent / "data"

PER_INTENT: dict[str, int] = {"train": 135, "dev": 30, "test": 30}
"""Examples per in-scope intent and split (39 intents: 5,265 / 1,170 / 1,170)."""
PER_OOS: dict[str, int] = {"train": 1400, "dev": 310, "test": 310}
"""Out-of-scope examples per split, about 21% of each split (about two per template)."""
_TRIES_PER_EXAMPLE = 40


@dataclass(frozen=True)
class Example:
    """A generated example with the template it came from (for the split tests)."""

    rendered: Rendered
    template: str

    @property
    def utterance(self) -> Utterance:
        return self.rendered.to_utterance()


def render_example(template: str, intent: str, rng: random.Random, values: ValueSource) -> Rendered:
    """One noisy instance of ``template``: fill, add politeness/typo/punctuation, recase."""
    segments = render(template, rng, values)
    segments = add_typo(segments, rng)
    segments = add_politeness(segments, rng)
    segments = add_punctuation(segments, rng)
    text, spans = join(segments)
    return Rendered(recase(text, rng), spans, intent)


def dedup_key(utterance: Utterance) -> str:
    """Utterances that differ only in case or punctuation count as the same."""
    return " ".join(w.lower() for w in utterance.words if any(c.isalnum() for c in w))


def generate_examples(seed: int = DEFAULT_SEED) -> dict[str, list[Example]]:
    """All examples per split, each with its template; deduplicated within and across splits."""
    for templates in TEMPLATES.values():
        for template in templates:
            check(template)
    partition = partition_templates(TEMPLATES, seed)
    seen: set[str] = set()
    result: dict[str, list[Example]] = {}
    for split in SPLITS:
        values = ValueSource(evaluation=split != "train")
        examples: list[Example] = []
        for intent in ALL_LABELS:
            templates = partition[split][intent]
            target = (PER_OOS if intent == OOS_LABEL else PER_INTENT)[split]
            rng = random.Random(f"{seed}:{split}:{intent}")
            made = tries = 0
            while made < target and tries < target * _TRIES_PER_EXAMPLE:
                template = templates[tries % len(templates)]  # round robin keeps templates balanced
                tries += 1
                rendered = render_example(template, intent, rng, values)
                key = dedup_key(rendered.to_utterance())
                if key in seen:
                    continue
                seen.add(key)
                examples.append(Example(rendered, template))
                made += 1
        random.Random(f"{seed}:{split}:order").shuffle(examples)
        result[split] = examples
    return result


def generate(seed: int = DEFAULT_SEED) -> dict[str, list[Utterance]]:
    """The data set as ``{"train": [...], "dev": [...], "test": [...]}``."""
    return {split: [e.utterance for e in examples] for split, examples in generate_examples(seed).items()}


def tag_vocabulary(splits: dict[str, list[Utterance]]) -> list[str]:
    """``O`` then the sorted B-/I- tags: the order ``LabelMaps.from_dataset`` gives a model."""
    tags = {t for examples in splits.values() for u in examples for t in u.tags if t != OUTSIDE_TAG}
    return [OUTSIDE_TAG, *sorted(tags)]


def write_dataset(splits: dict[str, list[Utterance]], out: Path) -> None:
    """Write each split plus ``intent_label.txt`` and ``slot_label.txt`` under ``out``."""
    for split, examples in splits.items():
        write_split(out / split, examples)
    intents = sorted({u.intent for examples in splits.values() for u in examples})
    (out / "intent_label.txt").write_text("".join(f"{i}\n" for i in intents), encoding="utf-8")
    (out / "slot_label.txt").write_text("".join(f"{t}\n" for t in tag_vocabulary(splits)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the EAS enterprise NLU data set.")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default: {DATA_DIR})")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    splits = generate(args.seed)
    write_dataset(splits, args.out)
    for split, examples in splits.items():
        oos = Counter(u.intent for u in examples)[OOS_LABEL]
        print(f"{split}: {len(examples)} utterances ({oos} out of scope) -> {args.out / split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
