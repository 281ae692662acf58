"""From text with entity spans to words with BIO tags, using the serving-time splitter.

The words of a training example must be exactly the words ``split_words`` produces for
the same text at serving time ("$12,400" is two words, "INV-1042" one), or the model
would be trained on a tokenisation it never sees. So examples are built as raw text and
split here, and a tag is assigned to each word by the entity span it falls in.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlp_service.data.schema import OUTSIDE_TAG, Utterance
from nlp_service.enterprise.template import Segment
from nlp_service.text.words import split_words


@dataclass(frozen=True)
class Span:
    """An entity of ``Rendered.text``: ``text[start:end]`` is its value as typed."""

    type: str
    start: int
    end: int


@dataclass(frozen=True)
class Rendered:
    """One generated request: raw text, its entity spans and its intent."""

    text: str
    spans: tuple[Span, ...]
    intent: str

    def value(self, span: Span) -> str:
        return self.text[span.start : span.end]

    def to_utterance(self) -> Utterance:
        words, tags = bio_tags(self.text, self.spans)
        return Utterance(tuple(words), tuple(tags), self.intent)


def join(segments: list[Segment]) -> tuple[str, tuple[Span, ...]]:
    """Concatenate segments, recording where each entity segment lands."""
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for segment in segments:
        if segment.entity is not None:
            spans.append(Span(segment.entity, offset, offset + len(segment.text)))
        parts.append(segment.text)
        offset += len(segment.text)
    return "".join(parts), tuple(spans)


def bio_tags(text: str, spans: tuple[Span, ...]) -> tuple[list[str], list[str]]:
    """Words of ``text`` and their tags; raises if a word straddles an entity boundary."""
    words = split_words(text)
    tags = [OUTSIDE_TAG] * len(words)
    for span in spans:
        inside = [i for i, w in enumerate(words) if w.start < span.end and w.end > span.start]
        if not inside:
            raise ValueError(f"entity {span.type} {text[span.start : span.end]!r} has no words in {text!r}")
        for i in inside:
            if words[i].start < span.start or words[i].end > span.end:
                raise ValueError(
                    f"word {words[i].text!r} crosses the edge of {span.type} "
                    f"{text[span.start : span.end]!r} in {text!r}"
                )
            if tags[i] != OUTSIDE_TAG:
                raise ValueError(f"overlapping entities at {words[i].text!r} in {text!r}")
        tags[inside[0]] = f"B-{span.type}"
        for i in inside[1:]:
            tags[i] = f"I-{span.type}"
    return [w.text for w in words], tags
