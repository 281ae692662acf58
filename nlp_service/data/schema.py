"""In-memory shape of a labelled utterance and of a data set with its splits."""

from __future__ import annotations

from dataclasses import dataclass, field

OUTSIDE_TAG = "O"
UNLABELLED_TAG = "?"
"""A word whose entity tag nobody annotated: it teaches the intent, and the slot loss skips it.

Human-written sentences borrowed for their phrasing (CLINC150's "i want to take march 3 to 7
off") have entities no one marked; tagging them ``O`` would teach the slot head to miss dates.
"""


@dataclass(frozen=True)
class Utterance:
    """One labelled example: words, one BIO tag per word, and the intent.

    Data sets without entities (CLINC150) carry all-``O`` tags so that one model
    and one evaluation handle both kinds.
    """

    words: tuple[str, ...]
    tags: tuple[str, ...]
    intent: str

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class Dataset:
    """A named data set: splits of utterances plus what the format says about them."""

    name: str
    splits: dict[str, list[Utterance]] = field(default_factory=dict)
    has_slots: bool = True
    oos_label: str | None = None

    def split(self, name: str) -> list[Utterance]:
        if name not in self.splits:
            known = ", ".join(sorted(self.splits)) or "none"
            raise KeyError(f"data set {self.name!r} has no split {name!r} (it has: {known})")
        return self.splits[name]

    def intents(self, split: str = "train") -> list[str]:
        return sorted({u.intent for u in self.split(split)})

    def slot_types(self, split: str = "train") -> list[str]:
        """Entity types (tags without the ``B-``/``I-`` prefix) seen in a split."""
        return sorted({t[2:] for u in self.split(split) for t in u.tags if t != OUTSIDE_TAG})
