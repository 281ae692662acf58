"""Loader for the ``seq.in`` / ``seq.out`` / ``label`` format (SNIPS, ATIS, the EAS enterprise set).

A data folder holds one sub-folder per split; each has three files with one example
per line: space-separated words, one BIO tag per word, and the intent.
"""

from __future__ import annotations

import re
from pathlib import Path

from nlp_service.data.errors import DataFormatError
from nlp_service.data.schema import OUTSIDE_TAG, Dataset, Utterance

SPLIT_NAMES = ("train", "dev", "test")
FILES = ("seq.in", "seq.out", "label")
_TAG = re.compile(r"^(O|[BI]-\S+)$")


def is_seq_folder(path: Path) -> bool:
    return path.is_dir() and any((path / split / "seq.in").is_file() for split in SPLIT_NAMES)


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataFormatError(path, "file is missing (a split folder needs seq.in, seq.out and label)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return lines


def load_split(folder: Path) -> list[Utterance]:
    """Read one split folder, checking that the three files agree line by line."""
    seq_in, seq_out, labels = (_read_lines(folder / name) for name in FILES)
    counts = {name: len(lines) for name, lines in zip(FILES, (seq_in, seq_out, labels), strict=True)}
    if len(set(counts.values())) != 1:
        detail = ", ".join(f"{name} has {n}" for name, n in counts.items())
        raise DataFormatError(folder, f"line counts differ: {detail}")
    examples = []
    for number, (text, tag_line, label) in enumerate(zip(seq_in, seq_out, labels, strict=True), start=1):
        words, tags, intent = text.split(), tag_line.split(), label.strip()
        if not words:
            raise DataFormatError(folder / "seq.in", "empty utterance", number)
        if len(tags) != len(words):
            raise DataFormatError(
                folder / "seq.out", f"{len(tags)} tags for {len(words)} words in {text.strip()!r}", number
            )
        for tag in tags:
            if not _TAG.match(tag):
                raise DataFormatError(
                    folder / "seq.out", f"{tag!r} is not a BIO tag (O, B-type, I-type)", number
                )
        if not intent or " " in intent:
            raise DataFormatError(folder / "label", f"{label!r} is not an intent label", number)
        examples.append(Utterance(tuple(words), tuple(tags), intent))
    return examples


def load_seq_folder(path: Path, oos_label: str | None = None) -> Dataset:
    """Load every split present under ``path`` (train, dev and/or test)."""
    splits = {name: load_split(path / name) for name in SPLIT_NAMES if (path / name).is_dir()}
    if not splits:
        raise DataFormatError(path, "no train/, dev/ or test/ split folder with seq.in, seq.out and label")
    has_slots = any(t != OUTSIDE_TAG for examples in splits.values() for u in examples for t in u.tags)
    if oos_label is None:
        intents = {u.intent for examples in splits.values() for u in examples}
        oos_label = "oos" if "oos" in intents else None
    # A folder called just "data" is named after its parent ("enterprise"), which says more.
    name = path.resolve().parent.name if path.name == "data" else path.name
    return Dataset(name=name, splits=splits, has_slots=has_slots, oos_label=oos_label)


def write_split(folder: Path, examples: list[Utterance]) -> None:
    """Write a split in the same format (used by the enterprise data generator)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seq.in").write_text("".join(" ".join(u.words) + "\n" for u in examples), encoding="utf-8")
    (folder / "seq.out").write_text("".join(" ".join(u.tags) + "\n" for u in examples), encoding="utf-8")
    (folder / "label").write_text("".join(u.intent + "\n" for u in examples), encoding="utf-8")
