"""Numbers, counts and durations as people type them.

Entity values must not depend on how a number was written: "1,000", "1k" and "one
thousand" are the same quantity, and "an hour and a half" is the same duration as
"90 min". Only small English number words are understood; anything else yields ``None``
so that a caller never receives a guess.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SMALL_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_SMALL = {word: value for value, word in enumerate(_SMALL_WORDS.split())}
_TENS = {word: 10 * value for value, word in enumerate(_TENS_WORDS.split(), start=2)}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# Counting words that multiply what came before ("two dozen") or stand alone ("a dozen").
_GROUPS = {"hundred": 100, "dozen": 12}
_ARTICLES = frozenset({"a", "an"})

# Digits with optional thousands commas and decimals: "250", "1,000", "1.5", ".5".
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_EURO_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
# "1.5k", "2 million": a number written with a scale suffix (counts and money alike).
SCALE_SUFFIXES = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
SCALE_SUFFIX_RE = "|".join(sorted(SCALE_SUFFIXES, key=len, reverse=True))
_QUANTITY = re.compile(rf"({_DIGITS})\s*({SCALE_SUFFIX_RE})?\b", re.IGNORECASE)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")

_UNIT_MINUTES = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60),
    **dict.fromkeys(("d", "day", "days"), 24 * 60),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 24 * 60),
}
_FRACTIONS = {"half": 0.5, "quarter": 0.25}
_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)")


def to_decimal(digits: str) -> Decimal | None:
    """``Decimal`` of a digit string with optional thousands commas, or ``None``."""
    try:
        return Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None


def words_value(tokens: list[str], start: int = 0) -> tuple[int, int] | None:
    """Value of the English number words at ``tokens[start:]`` and the index after them.

    "twenty five" -> 25, "two hundred and ten" -> 210, "a dozen" -> 12. An article only
    counts as "one" when a scale or group word follows it ("a hundred"), so "a" alone
    is not a number.
    """
    total, current, i, seen = 0, 0, start, False
    while i < len(tokens):
        token = tokens[i]
        if token in _SMALL or token in _TENS:
            current += _SMALL.get(token, 0) + _TENS.get(token, 0)
        elif token in _GROUPS and (seen or i > start):
            current = max(current, 1) * _GROUPS[token]
        elif token in _SCALES and (seen or i > start):
            total += max(current, 1) * _SCALES[token]
            current = 0
        elif token in _ARTICLES and i == start and _next_is_multiplier(tokens, i):
            current = 1
        elif token == "and" and seen and i + 1 < len(tokens) and _is_number_word(tokens[i + 1]):
            pass
        else:
            break
        seen = seen or token not in _ARTICLES
        i += 1
    return (total + current, i) if seen else None


def _next_is_multiplier(tokens: list[str], i: int) -> bool:
    return i + 1 < len(tokens) and (tokens[i + 1] in _GROUPS or tokens[i + 1] in _SCALES)


def _is_number_word(token: str) -> bool:
    return token in _SMALL or token in _TENS or token in _GROUPS or token in _SCALES


def parse_quantity(text: str) -> int | None:
    """A whole count: "250", "1,000", "1.5k", "twelve", "a dozen" -> int, else ``None``.

    A fractional count ("2.5") is not a quantity and gives ``None``; "1.000" is read as
    one thousand (a dot between groups of three is a thousands separator in much of
    Europe, and a count of "1.0" would not be written that way).
    """
    text = text.strip().lower()
    if _EURO_THOUSANDS.fullmatch(text):
        return int(text.replace(".", ""))
    match = _QUANTITY.search(text)
    if match and not text[: match.start()].strip(" #x(~"):
        number = to_decimal(match.group(1))
        if number is None:
            return None
        if match.group(2):
            number *= SCALE_SUFFIXES[match.group(2).lower()]
        return int(number) if number == number.to_integral_value() else None
    found = words_value(_TOKEN.findall(text))
    return found[0] if found else None


def parse_duration_minutes(text: str) -> int | None:
    """Length of time in whole minutes: "30 minutes", "1.5 hrs", "half an hour", "1h30", "2:15".

    Days and weeks are calendar time (1 day = 1440 minutes), not working days: the
    duration entity measures meetings, outages and holds, not leave balances.
    """
    text = text.strip().lower()
    clock = _CLOCK.fullmatch(text)
    if clock:
        return int(clock.group(1)) * 60 + int(clock.group(2))
    minutes = round(_sum_duration_tokens(_TOKEN.findall(text)))
    return minutes if minutes > 0 else None


def _sum_duration_tokens(tokens: list[str]) -> float:
    """Add up "<amount> <unit>" pairs into minutes (0 when there are none).

    An amount is digits, number words, an article ("an hour") or a fraction ("half an
    hour", "two and a half hours"); "and a half" after a unit adds half of that unit; a
    bare number after hours ("1h30", "1 hour 30") counts minutes. Filler words ("about",
    "for") are skipped, but a unit with no amount before it ends the parse.
    """
    total, amount, last_unit, i = 0.0, None, None, 0
    while i < len(tokens):
        token = tokens[i]
        if (
            token == "and"
            and tokens[i + 1 : i + 2] in (["a"], ["an"])
            and tokens[i + 2 : i + 3]
            in (
                ["half"],
                ["quarter"],
            )
        ):
            fraction = _FRACTIONS[tokens[i + 2]]
            if amount is not None:
                amount += fraction
            elif last_unit is not None:
                total += fraction * last_unit
            i += 3
            continue
        if token in _UNIT_MINUTES:
            if amount is None:
                return 0.0
            last_unit = _UNIT_MINUTES[token]
            total += amount * last_unit
            amount = None
        elif token in _FRACTIONS:
            amount = _FRACTIONS[token] * (amount if amount is not None else 1)
        elif token in _ARTICLES:
            amount = 1 if amount is None else amount
        elif token[0].isdigit():
            amount = float(token)
        else:
            found = words_value(tokens, i)
            if found is not None:
                amount, i = float(found[0]), found[1]
                continue
        i += 1
    if amount is not None and last_unit == 60:
        total += amount
    return total
