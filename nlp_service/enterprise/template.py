"""The template language: choices, entity slots, ``O`` fillers and articles.

A template is plain text with four constructs, so that one line yields many phrasings:

* ``(a|b|)``: pick one option (empty options make words optional; no nesting);
* ``{type}`` or ``{type:variant}``: an entity value, tagged ``type`` (see ``values``);
* ``<name>``: free text tagged ``O`` (see ``fillers``);
* ``{a}``: "a" or "an", whichever fits the word after it.

Rendering yields segments (text plus entity type or ``None``) instead of a string, so
the character span of every entity stays known through the noise steps that follow.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from nlp_service.enterprise.fillers import FILLER_NAMES, fill
from nlp_service.enterprise.labels import ENTITY_TYPES
from nlp_service.enterprise.values import SLOT_KEYS, ValueSource

_CHOICE = re.compile(r"\(([^()]*)\)")
_TOKEN = re.compile(r"\{(\w+)(?::(\w+))?\}|<(\w+)>")
_ARTICLE = "{a}"
_AN_ACRONYM_START = set("AEFHILMNORSX")


@dataclass(frozen=True)
class Segment:
    """A run of text; ``entity`` is its entity type, or ``None`` for ``O`` text.

    ``literal`` marks template wording (as opposed to values and fillers), the only text
    the typo noise may touch.
    """

    text: str
    entity: str | None = None
    literal: bool = False


def check(template: str) -> None:
    """Raise ``ValueError`` for a template the renderer would mishandle."""
    body = _CHOICE.sub(lambda m: m.group(1).replace("|", " "), template)
    if any(c in body for c in "()|"):
        raise ValueError(f"nested or unbalanced choice in template {template!r}")
    for match in _TOKEN.finditer(body):
        slot, variant, filler = match.groups()
        if filler is not None:
            if filler not in FILLER_NAMES:
                raise ValueError(f"unknown filler <{filler}> in template {template!r}")
        elif slot == "a" and variant is None:
            continue
        elif slot not in ENTITY_TYPES or (f"{slot}:{variant}" if variant else slot) not in SLOT_KEYS:
            raise ValueError(f"unknown slot {match.group()} in template {template!r}")
    if re.search(r"[{}]|<\w|\w>", _TOKEN.sub("", body)):
        raise ValueError(f"stray brace or malformed <filler> in template {template!r}")


def entity_types(template: str, guaranteed: bool = False) -> set[str]:
    """Entity types a template can produce; with ``guaranteed``, only those outside choices."""
    body = _CHOICE.sub("", template) if guaranteed else template
    return {m.group(1) for m in _TOKEN.finditer(body) if m.group(1) and m.group(1) != "a"}


def _article_for(following: str) -> str:
    word = following.lstrip()
    if not word:
        return "a"
    first_word = word.split(" ", 1)[0]
    if first_word[:1].isupper() and first_word[:2].isupper() and first_word[0] in _AN_ACRONYM_START:
        return "an"
    if first_word[0].lower() in "aeiou":
        return "an"
    if first_word.startswith(("8", "11", "18")) and not first_word.startswith(("110", "111", "180")):
        return "an"
    return "a"


def render(template: str, rng: random.Random, values: ValueSource) -> list[Segment]:
    """One random instance of ``template`` as segments with single spaces between words."""
    chosen = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    segments: list[Segment] = []
    position = 0
    for match in _TOKEN.finditer(chosen):
        segments.append(Segment(chosen[position : match.start()], literal=True))
        slot, variant, filler = match.groups()
        if filler is not None:
            segments.append(Segment(fill(filler, rng)))
        elif slot == "a" and variant is None:
            segments.append(Segment(_ARTICLE, literal=True))
        else:
            key = f"{slot}:{variant}" if variant else slot
            segments.append(Segment(values.sample(key, rng), entity=slot))
        position = match.end()
    segments.append(Segment(chosen[position:], literal=True))
    return _tidy(_resolve_articles(segments))


def _resolve_articles(segments: list[Segment]) -> list[Segment]:
    resolved = list(segments)
    for i, segment in enumerate(resolved):
        if segment.text == _ARTICLE and segment.entity is None:
            following = "".join(s.text for s in resolved[i + 1 :])
            resolved[i] = Segment(_article_for(following), literal=True)
    return resolved


def _tidy(segments: list[Segment]) -> list[Segment]:
    """Collapse runs of spaces (left by empty choices) and trim the ends, outside entities."""
    tidy: list[Segment] = []
    previous_space = True  # trims leading spaces
    for segment in segments:
        text = segment.text
        if segment.entity is None:
            text = re.sub(r"\s+", " ", text)
            if previous_space:
                text = text.lstrip(" ")
            text = re.sub(r" ([,:?!.])", r"\1", text)
        if text:
            tidy.append(Segment(text, segment.entity, segment.literal))
            previous_space = text.endswith(" ")
    while tidy and tidy[-1].entity is None and tidy[-1].text.endswith(" "):
        last = tidy.pop()
        if last.text.rstrip(" "):
            tidy.append(Segment(last.text.rstrip(" "), None, last.literal))
    return tidy
