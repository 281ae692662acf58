"""Split raw text into words with character offsets.

Training data in the ``seq.in`` format is already split on spaces; at serving time the
raw text is split here, and the model labels these words. Keeping identifiers, amounts,
dates and e-mail addresses whole ("INV-1042", "12,400.50", "03/07", "dana@acme.com")
means one entity never has to be glued back from pieces, and the offsets let every
entity point at the exact characters the user typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters/digits joined by in-word punctuation (hyphen, apostrophe, dot, slash,
# colon, comma between digits, @ and + for e-mail); otherwise any single symbol.
_WORD = re.compile(
    r"\w+(?:(?:[-'’./@:+&_]|,(?=\d))\w+)*"  # words, ids, numbers, e-mails, times
    r"|[^\w\s]",  # any other symbol on its own ($, €, %, punctuation)
)


@dataclass(frozen=True)
class Word:
    """A word of the input and where it sits in it: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


def split_words(text: str) -> list[Word]:
    """Words of ``text`` in order, each with its character span in ``text``."""
    return [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def words_of(text: str) -> list[str]:
    """Only the strings, for training examples built from raw text."""
    return [m.group() for m in _WORD.finditer(text)]
