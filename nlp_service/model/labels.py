"""Label vocabularies of a trained model, saved beside its weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from nlp_service.data.schema import OUTSIDE_TAG, UNLABELLED_TAG, Dataset


@dataclass
class LabelMaps:
    """Intent and BIO tag vocabularies plus the out-of-scope settings learnt on dev.

    ``oos_threshold`` is a confidence under which a prediction is treated as out of
    scope; ``temperature`` rescales the intent logits so that confidence is calibrated.
    ``slot_transitions`` holds a CRF slot head's learnt ``start``/``end``/``transitions``
    scores (``None`` without a CRF): decoding then scores raw slot logits with them.
    """

    intents: list[str]
    tags: list[str]
    oos_label: str | None = None
    oos_threshold: float = 0.0
    temperature: float = 1.0
    slot_transitions: dict[str, list] | None = None

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> LabelMaps:
        train = dataset.split("train")
        intents = sorted({u.intent for u in train})
        tags = [OUTSIDE_TAG] + sorted(
            {t for u in train for t in u.tags if t not in (OUTSIDE_TAG, UNLABELLED_TAG)}
        )
        oos = dataset.oos_label if dataset.oos_label in intents else None
        return cls(intents=intents, tags=tags, oos_label=oos)

    @property
    def intent_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.intents)}

    @property
    def tag_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.tags)}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LabelMaps:
        return cls(**json.loads(path.read_text(encoding="utf-8")))
