"""Loader for CLINC150-style JSON: in-scope splits plus ``oos_*`` out-of-scope splits.

``{"train": [[text, intent], ...], "val": ..., "test": ..., "oos_train": ..., ...}``.
``val`` becomes ``dev``; out-of-scope examples join their split under one intent label
(``oos``) so the model can learn it as a class and the evaluation can score it apart.
"""

from __future__ import annotations

import json
from pathlib import Path

from nlp_service.data.errors import DataFormatError
from nlp_service.data.schema import OUTSIDE_TAG, Dataset, Utterance
from nlp_service.text.words import words_of

OOS_LABEL = "oos"
_SPLIT_KEYS = {"train": "train", "val": "dev", "dev": "dev", "test": "test"}


def _utterances(path: Path, key: str, rows: object) -> list[Utterance]:
    if not isinstance(rows, list):
        raise DataFormatError(path, f"{key!r} must be a list of [text, intent] pairs")
    examples = []
    for index, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(x, str) for x in row)):
            raise DataFormatError(path, f"{key}[{index}] must be [text, intent], got {row!r:.80}")
        text, intent = row
        words = words_of(text)
        if not words:
            raise DataFormatError(path, f"{key}[{index}] has an empty text")
        examples.append(Utterance(tuple(words), (OUTSIDE_TAG,) * len(words), intent.strip()))
    return examples


def load_clinc_json(path: Path) -> Dataset:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(payload, dict):
        raise DataFormatError(path, "top level must be an object with train/val/test lists")
    splits: dict[str, list[Utterance]] = {}
    for key, split in _SPLIT_KEYS.items():
        if key in payload:
            splits.setdefault(split, []).extend(_utterances(path, key, payload[key]))
        oos_key = f"oos_{key}"
        if oos_key in payload:
            oos = _utterances(path, oos_key, payload[oos_key])
            splits.setdefault(split, []).extend(Utterance(u.words, u.tags, OOS_LABEL) for u in oos)
    if "train" not in splits and "test" not in splits:
        raise DataFormatError(path, "no 'train' or 'test' list (CLINC150 format)")
    has_oos = any(u.intent == OOS_LABEL for examples in splits.values() for u in examples)
    return Dataset(name=path.stem, splits=splits, has_slots=False, oos_label=OOS_LABEL if has_oos else None)
