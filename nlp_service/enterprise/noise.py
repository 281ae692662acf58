"""Surface noise: politeness, typos, trailing punctuation and casing.

Real requests arrive in lower case from a phone, in capitals from a pager, with "hey,"
in front and "thx" behind, and with the odd typo. Adding that here keeps the model
from learning that every request is tidy sentence-case text. Typos only touch template
wording, never an entity value, so an entity's text is always its intended value.
"""

from __future__ import annotations

import random
import re

from nlp_service.enterprise.template import Segment

PREFIXES: tuple[str, ...] = (
    "hey,", "hi,", "hello,", "ok,", "ok so", "quick one:", "um", "so", "hi there,", "good morning,",
    "hey team,", "yo", "hiya,", "morning,", "sorry to bother you,",
)  # fmt: skip
SUFFIXES: tuple[str, ...] = (
    "please", "thanks", "thank you", "thx", "cheers", "when you get a chance", "if possible", "ty",
    "thanks in advance", "pls", "much appreciated",
)  # fmt: skip
_PUNCTUATION = ("", "", "", "", ".", ".", "?", "!", "!!", "...")
_TYPO_WORD = re.compile(r"\b[A-Za-z]{4,}\b")

P_PREFIX = 0.15
P_SUFFIX = 0.12
P_TYPO = 0.07


def add_politeness(segments: list[Segment], rng: random.Random) -> list[Segment]:
    """Maybe put an interjection before and a courtesy after the request."""
    result = list(segments)
    if rng.random() < P_PREFIX:
        result.insert(0, Segment(rng.choice(PREFIXES) + " "))
    if rng.random() < P_SUFFIX:
        separator = ", " if rng.random() < 0.5 else " "
        result.append(Segment(separator + rng.choice(SUFFIXES)))
    return result


def add_typo(segments: list[Segment], rng: random.Random) -> list[Segment]:
    """Maybe swap two neighbouring letters of, or drop a letter from, one template word."""
    if rng.random() >= P_TYPO:
        return segments
    candidates = [
        (i, m)
        for i, s in enumerate(segments)
        if s.literal and s.entity is None
        for m in _TYPO_WORD.finditer(s.text)
    ]
    if not candidates:
        return segments
    index, match = rng.choice(candidates)
    word = match.group()
    cut = rng.randint(1, len(word) - 2)
    if rng.random() < 0.5:
        typo = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
    else:
        typo = word[:cut] + word[cut + 1 :]
    text = segments[index].text
    changed = Segment(text[: match.start()] + typo + text[match.end() :], None, literal=True)
    return [*segments[:index], changed, *segments[index + 1 :]]


def add_punctuation(segments: list[Segment], rng: random.Random) -> list[Segment]:
    """Maybe end with punctuation, unless the text already does."""
    mark = rng.choice(_PUNCTUATION)
    if not mark or segments[-1].text[-1] in ".?!:":
        return segments
    return [*segments, Segment(mark)]


def _title(text: str) -> str:
    return re.sub(r"(^|\s)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_CASINGS = ((0.48, lambda t: t), (0.75, _sentence), (0.86, str.lower), (0.92, str.upper), (1.0, _title))


def recase(text: str, rng: random.Random) -> str:
    """As written, Sentence case, lower, UPPER or Title Case; never changes the length."""
    draw = rng.random()
    cased = next(f for limit, f in _CASINGS if draw < limit)(text)
    if len(cased) != len(text):  # a character whose case mapping changes length: keep as is
        return text
    return cased
