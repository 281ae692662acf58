"""The training set: the shipped enterprise data plus reviewers' corrections (plain functions).

Corrections go into ``train`` only; ``dev`` and ``test`` stay the shipped splits, so that every
candidate is compared with the serving model on the same fixed test split. Each correction is
added ``copies`` times: one example among thousands would barely move the model, and a reviewer's
correction is the example the model most needs. Its words are split as the NLP server splits them
and tagged from the corrected entities' spans (BIO), like the generator tags its examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nlp_service.data.schema import Dataset, Utterance
from nlp_service.enterprise.labels import ENTITY_TYPES, INTENTS, OOS_LABEL
from nlp_service.text.words import split_words

DEFAULT_COPIES = 3


def _span(text: str, entity: Mapping[str, Any]) -> tuple[int, int] | None:
    start, end = entity.get("start"), entity.get("end")
    if (
        isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(text)
        and not entity.get("inherited")
    ):
        return start, end
    words = entity.get("text")
    if isinstance(words, str) and words and not entity.get("inherited"):
        found = text.lower().find(words.lower())
        if found >= 0:
            return found, found + len(words)
    return None


def utterance_of(text: str, intent: str, entities: Iterable[Mapping[str, Any]]) -> Utterance:
    """``text`` as a labelled example: its words and one BIO tag per word from the entities' spans.

    Entities that cannot be placed in the text (inherited from another turn, unknown types) are
    left out: the intent is still learned, and no word gets a wrong tag.
    """
    spans = [
        (*span, str(e["type"]))
        for e in entities
        if e.get("type") in ENTITY_TYPES and (span := _span(text, e)) is not None
    ]
    words = split_words(text)
    tags: list[str] = []
    for word in words:
        tag = "O"
        for start, end, kind in spans:
            if start <= word.start < end:
                first = all(not (start <= other.start < word.start) for other in words)
                tag = ("B-" if first else "I-") + kind
                break
        tags.append(tag)
    return Utterance(tuple(w.text for w in words), tuple(tags), intent)


def limit_per_intent(examples: Sequence[Utterance], limit: int | None) -> list[Utterance]:
    """The first ``limit`` examples of each intent, in file order (deterministic); all when None."""
    if limit is None:
        return list(examples)
    seen: dict[str, int] = {}
    kept = []
    for example in examples:
        if seen.get(example.intent, 0) < limit:
            seen[example.intent] = seen.get(example.intent, 0) + 1
            kept.append(example)
    return kept


def build_training_set(
    shipped: Dataset,
    corrections: Iterable[tuple[str, str, Sequence[Mapping[str, Any]]]],
    *,
    copies: int = DEFAULT_COPIES,
    per_intent_limit: int | None = None,
) -> tuple[Dataset, list[Utterance]]:
    """The shipped data with ``corrections`` (text, corrected intent, entities) added to train.

    Returns the data set and the correction examples added (for the asset's metadata). Corrections
    to an intent the data set has no label for are skipped: the model can only learn its labels.
    """
    labels = set(INTENTS) | {OOS_LABEL}
    added = [
        utterance_of(text, intent, entities) for text, intent, entities in corrections if intent in labels
    ]
    splits = {name: limit_per_intent(examples, per_intent_limit) for name, examples in shipped.splits.items()}
    splits["train"] = [*splits.get("train", []), *(u for u in added for _ in range(copies))]
    dataset = Dataset(
        name="enterprise+corrections",
        splits=splits,
        has_slots=shipped.has_slots,
        oos_label=shipped.oos_label or OOS_LABEL,
    )
    return dataset, added
