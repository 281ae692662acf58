"""From one BIO tag per word to entities with exact character offsets and values.

Spans are grouped the way seqeval's default (non-strict) mode groups them, so that what
the service returns is what evaluation scored: ``B-x`` always starts an entity, and
``I-x`` continues one only when the entity before it is of type ``x`` (after ``O`` or
another type it starts a new one). The entity's text is cut from the original text
between its first word's start and its last word's end, so the user's own spacing,
punctuation and characters inside the span are kept and ``text[start:end] == entity.text``.
Offsets are Python string indices (code points): a client that counts UTF-16 units, as
JavaScript does, must convert them for characters outside the BMP such as emoji.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from nlp_service.data.schema import OUTSIDE_TAG
from nlp_service.text.entity import Entity
from nlp_service.text.normalize import normalize
from nlp_service.text.words import Word


def tag_parts(tag: str) -> tuple[str, str]:
    """``("B", "amount")`` for "B-amount"; ``("O", "")`` for "O". Anything else is a ValueError."""
    if tag == OUTSIDE_TAG:
        return OUTSIDE_TAG, ""
    prefix, dash, entity_type = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not entity_type:
        raise ValueError(f"{tag!r} is not a BIO tag (O, B-type or I-type)")
    return prefix, entity_type


def bio_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, first, last)`` word indices (``last`` inclusive) of each entity in ``tags``."""
    spans: list[tuple[str, int, int]] = []
    open_type: str | None = None  # type of the entity being read, None between entities
    first = 0
    for index, tag in enumerate(tags):
        prefix, entity_type = tag_parts(tag)
        if prefix == "I" and entity_type == open_type:
            continue
        if open_type is not None:
            spans.append((open_type, first, index - 1))
        open_type, first = (entity_type if prefix != OUTSIDE_TAG else None), index
    if open_type is not None:
        spans.append((open_type, first, len(tags) - 1))
    return spans


def decode_entities(
    text: str, words: Sequence[Word], tags: Sequence[str], reference_date: date
) -> list[Entity]:
    """Entities of ``text`` from the model's tag for each of its ``words`` (from ``split_words(text)``).

    Raises ValueError when there is not exactly one tag per word, when a tag is not BIO,
    or when the words do not sit in ``text`` where they say (they were split from
    another text): each is a bug in the caller, and a silent guess would return wrong
    offsets to the client.
    """
    if len(words) != len(tags):
        raise ValueError(
            f"{len(tags)} tags for {len(words)} words: decoding needs exactly one BIO tag per word"
        )
    for word in words:
        if text[word.start : word.end] != word.text:
            raise ValueError(f"word {word.text!r} is not at {word.start}:{word.end} of the text")
    entities = []
    for entity_type, first, last in bio_spans(tags):
        start, end = words[first].start, words[last].end
        surface = text[start:end]
        entities.append(
            Entity(entity_type, surface, start, end, normalize(entity_type, surface, reference_date))
        )
    return entities


def entities_to_tags(words: Sequence[Word], entities: Sequence[Entity]) -> list[str]:
    """BIO tags for ``words`` that decode back to ``entities`` (for tests and generated data).

    Each entity must start at a word's start and end at a word's end, and entities must
    not overlap; otherwise it cannot be written as per-word tags and ValueError says which.
    """
    tags = [OUTSIDE_TAG] * len(words)
    starts = {word.start: index for index, word in enumerate(words)}
    ends = {word.end: index for index, word in enumerate(words)}
    for entity in entities:
        first, last = starts.get(entity.start), ends.get(entity.end)
        if first is None or last is None or last < first:
            raise ValueError(
                f"entity {entity.text!r} at {entity.start}:{entity.end} does not align with word edges"
            )
        if any(tag != OUTSIDE_TAG for tag in tags[first : last + 1]):
            raise ValueError(f"entity {entity.text!r} at {entity.start}:{entity.end} overlaps another entity")
        tags[first : last + 1] = [f"B-{entity.type}"] + [f"I-{entity.type}"] * (last - first)
    return tags
