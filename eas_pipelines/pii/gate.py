"""The gate before the analyzer: which recognizers could find anything in a text, from cheap checks.

Why: every log record (Dagster's own lines included) and every audit value with a digit went
through Presidio's whole analyzer, and its phone recognizer (``phonenumbers``' matcher, run once
per supported region) was two thirds of that. Each check here is a *necessary* condition for its
recognizer to report anything :mod:`eas_pipelines.pii.masking` keeps (score at least
``SCORE_THRESHOLD``, a phone number as ``plausible_phone`` accepts it), so skipping a recognizer
whose check fails loses nothing; the analyzer still decides what is PII.

* :func:`might_hold_pii`: an ``@``, or four digits joined by at most four of ``phonenumbers``'
  separators (spaces, dashes, dots, slashes, brackets, ``x``, ``~``, ...), or an IBAN's start (two
  capitals, two digits). Four, not more: ``phonenumbers`` accepts German numbers of four digits
  (``16.88``, ``16 88``: pager numbers), and an IBAN may hold only its two check digits (Qatar's,
  Kuwait's and others' account parts may be all letters). ``Finished ... in 12.3ms`` and
  ``129`` stop here.
* :func:`candidate_entities`: per type, the recognizer's own pattern loosened (no ``\\b``, any
  leading digits): a card needs 13+ digits in at most four groups, SSN/ITIN ``ddd-dd-dddd``, an
  NHS number ten digits that pass its check digit, a NINO six digits after two letters and before
  a letter A-D, an IBAN its first three blocks, an e-mail an ``@``. Presidio's weaker patterns (a bare nine
  digits as an SSN: 0.05, 0.3) score under the threshold, and with no NLP model no context word
  raises them.
* the phone check (:func:`could_be_phone`) mirrors the matcher: a candidate is digits joined by
  at most four separators, optionally led by ``+`` or a bracket; the matcher tries it whole, then
  its pieces cut at a slash, bracket, dot, space or long dash, and starts the next one after an
  extension (``x12``, ``#12``). Each piece must pass ``plausible_phone`` and then could be valid
  in a supported region: ``is_valid_number``'s checks from the region's metadata (cheap regex
  matches), then the matcher's own verification of that piece alone. Timestamps
  (``2026-12-06T17:13:11.123+00:00``), amounts (``129.50``), run ids and purchase-order numbers
  (``4500000001``: valid in Germany only with its trunk prefix) no longer reach the recognizer.
  Where this check cannot be exact (letters in a piece, an extension after it, a run beyond the
  matcher's limits, more than a few pieces), it says yes and the recognizer decides. Two private
  functions of ``phonenumbers.phonenumbermatcher`` are used (the matcher's verification of a
  candidate, its national-prefix check); without them it only parses and validates (accepts more).

Pinned by tests: the separators equal ``phonenumbers``' own, the shortest valid number of every
supported region (and any number in international form) has at least :data:`MIN_DIGITS` digits,
and the gated analysis finds exactly what the ungated one finds over generated text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from eas_pipelines.pii.engine import ENTITIES, PHONE_REGIONS

EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"

PHONE_SEPARATORS = (
    "-xX\u2010-\u2015\u2212\u30fc\uff0d-\uff0f \u00a0\u00ad\u200b\u2060\u3000"
    "()\uff08\uff09\uff3b\uff3d.\\[\\]/~\u2053\u223c\uff5e"
)
"""A regex class body: ``phonenumbers``' punctuation between digits (its ``_VALID_PUNCTUATION``,
matched case-insensitively, hence ``X``)."""
_LEADS = "+\uff0b(\\[\uff08\uff3b"
"""What may open a ``phonenumbers`` candidate besides a digit: plus signs and opening brackets."""

MIN_DIGITS = 4
"""Fewest digits of any type's match: a German number (the shortest valid number of the phone
regions, see the tests); every other type needs more or an ``@`` or an IBAN's start."""
MAX_PHONE_DIGITS = 30
"""More digits than any number ``phonenumbers`` validates (17 national, 3 country code, the
international prefix): longer pieces are not phone numbers."""
_MAX_RUN = 20
_MAX_GAPS = 20
"""``phonenumbers`` reads at most 20 digits in a block and 21 blocks in a candidate; beyond that
its candidates may start mid-cluster, so :func:`could_be_phone` lets the recognizer decide."""
_MAX_PIECES = 6
"""Pieces validated per text before :func:`could_be_phone` stops and lets the recognizer decide."""

_GATE = re.compile(rf"\d(?:[{PHONE_SEPARATORS}]{{0,4}}\d){{{MIN_DIGITS - 1}}}|[A-Z]{{2}}\d\d")
_SHAPES: dict[str, re.Pattern[str]] = {
    "CREDIT_CARD": re.compile(r"\d{4}[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3,5}"),
    "IBAN_CODE": re.compile(r"[A-Z]{2}\d\d(?:[ -]?[A-Z\d]{4}){2}"),
    "US_SSN": re.compile(r"\d{3}[- .]\d\d[- .]\d{4}"),
    "US_ITIN": re.compile(r"9\d\d[- ]\d\d[- ]\d{4}"),
    "UK_NINO": re.compile(r"(?<![A-Za-z0-9_])[^\W\d_]{2} ?\d\d ?\d\d ?\d\d ?[A-Da-d](?![A-Za-z0-9_])"),
}
"""Loosened recognizer patterns (see the module docstring); only their medium patterns score enough."""

_NHS = re.compile(r"(?=(\d{3}[- ]?\d{3}[- ]?\d{4}))")
"""Every place an NHS number's pattern could match (overlapping), for :func:`_nhs_checksum`."""


def _nhs_checksum(value: str) -> bool:
    """The check the NHS recognizer validates with (weights 10..1, the sum divisible by 11)."""
    digits = [int(c) for c in value if c.isdigit()]
    return sum(d * w for d, w in zip(digits, range(10, 0, -1), strict=True)) % 11 == 0


_CLUSTER = re.compile(
    rf"(?:[{_LEADS}][{PHONE_SEPARATORS}]{{0,4}}){{0,2}}\d+(?:[{PHONE_SEPARATORS}]{{1,4}}\d+)*"
)
"""``phonenumbers``' candidate pattern without its limits (and without the extension)."""
_RUN = re.compile(r"\d+")
_SPLIT = re.compile(r"[/(.\u2012-\u2015\uff0d]|\s")
"""Separators at which the matcher tries the pieces of a candidate it could not validate whole."""
_EXTENSION_LABELS = (
    r"(?:e?xt(?:ensi(?:o\u0301?|\u00f3))?n?|\uff45?\uff58\uff54\uff4e?|\u0434\u043e\u0431|anexo"
    r"|[x\uff58#\uff03~\uff5e]|int|\uff49\uff4e\uff54)"
)
"""``phonenumbers``' extension labels (explicit, then one-character and ambiguous ones)."""
_EXTENSION = re.compile(
    rf"[ \u00a0\t,]*{_EXTENSION_LABELS}[:.\uff0e]?[ \u00a0\t,-]*\d|;ext=\d|[- ]+\d{{1,6}}#", re.IGNORECASE
)
"""An extension right after a number (``ext. 12``, ``x12``, ``#12``, ``;ext=12``, `` - 503#``)."""
_EXTENSION_DIGITS = re.compile(
    rf"\d(?:[ \u00a0\t,]*{_EXTENSION_LABELS}[:.\uff0e]?[ \u00a0\t,-]*|;ext=)$", re.IGNORECASE
)
"""A number and an extension label right before a run: the run may be that extension's digits
(``phonenumbers``' extension labels; a candidate then ends inside the cluster)."""
_MAX_AMBIGUOUS_EXTENSION = 9
"""Digits ``phonenumbers`` reads after a one-character label (``#``, ``x``, ``~``)."""
_PLUS = re.compile("[+\uff0b]")
_LEAD = re.compile(f"[{_LEADS}]")
_NOT_DIGITS_ONLY = re.compile(r"[^\W\d_]|[~\uff5e]")
"""Letters (``x``: an extension, a carrier code, a vanity 9) or a tilde (an extension) in a piece:
``parse`` would not read its digits as one number."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def plausible_phone(text: str, start: int, end: int) -> bool:
    """Whether a ``phonenumbers`` match is written like a phone number, not like a number.

    ``phonenumbers`` accepts 6- and 7-digit numbers of some regions, so without this, timestamps'
    fractions (``12:04:20.030533``), floats (``916269.835505``) and bare ids (``344275``) in logs
    and audit entries came out as ``<PHONE_NUMBER>``. Kept: ``+`` international form; digit groups
    split by spaces, dashes, parentheses or slashes (``(212) 555-0187``, ``07700 900123``); dotted
    groups of at most four digits (``212.555.0187``); a bare run of 10+ digits (``2125550187``).
    """
    value = text[start:end]
    if start > 0 and text[start - 1] in ":.,":  # the seconds or fraction of a time, a decimal's tail
        return False
    if value.startswith("+"):
        return True
    if "," in value or _DATE.search(value):
        return False
    groups = re.findall(r"\d+", value)
    if len(groups) == 1:
        return len(groups[0]) >= 10
    limit = 4 if "." in value else 8
    return all(len(group) <= limit for group in groups)


def might_hold_pii(text: str) -> bool:
    """The first gate: an ``@``, :data:`MIN_DIGITS` digits close together, or an IBAN's start."""
    return "@" in text or _GATE.search(text) is not None


def candidate_entities(text: str) -> tuple[str, ...]:
    """The types of :data:`~eas_pipelines.pii.engine.ENTITIES` worth asking the analyzer for."""
    if not might_hold_pii(text):
        return ()
    found = {kind for kind, shape in _SHAPES.items() if shape.search(text)}
    if any(_nhs_checksum(m.group(1)) for m in _NHS.finditer(text)):
        found.add("UK_NHS")
    if "@" in text:
        found.add(EMAIL)
    if could_be_phone(text):
        found.add(PHONE)
    return tuple(kind for kind in ENTITIES if kind in found)


def could_be_phone(text: str) -> bool:
    """Whether the phone recognizer could find a number in ``text`` that ``plausible_phone`` keeps."""
    budget = [_MAX_PIECES]
    return any(_cluster_could_be_phone(text, m.start(), m.end(), budget) for m in _CLUSTER.finditer(text))


def _cluster_could_be_phone(text: str, start: int, end: int, budget: list[int]) -> bool:
    runs = [m.span() for m in _RUN.finditer(text, start, end)]
    if len(runs) > _MAX_GAPS + 1 or any(e - s > _MAX_RUN for s, e in runs):
        return True
    # A piece of the cluster starts at its first run, after a gap the matcher splits at, or after
    # the digits of an extension ending the previous candidate ("0187 # 448-87..." tries "87...");
    # it ends at its last run or before such a start.
    extension = [_EXTENSION_DIGITS.search(text, max(0, s - 64), s) is not None for s, _ in runs]
    if any(ext and e - s > _MAX_AMBIGUOUS_EXTENSION for ext, (s, e) in zip(extension, runs, strict=True)):
        return True  # the extension may take part of the run: the next candidate starts inside it
    opens = [
        i == 0 or extension[i - 1] or _SPLIT.search(text, runs[i - 1][1], runs[i][0]) is not None
        for i in range(len(runs))
    ]
    closes = [opens[j + 1] if j + 1 < len(runs) else True for j in range(len(runs))]
    counts = [0]
    for s, e in runs:
        counts.append(counts[-1] + e - s)
    for i, (first_digit, _) in enumerate(runs):
        if not opens[i]:
            continue
        lead = start if i == 0 else runs[i - 1][1]  # leading brackets/plus, or the gap the piece follows
        for j in reversed(range(i, len(runs))):  # the longest first: a real number is found at once
            if not closes[j] or not MIN_DIGITS <= counts[j + 1] - counts[i] <= MAX_PHONE_DIGITS:
                continue
            if not _plausible_piece(text, lead, first_digit, runs[j][1]):
                continue
            budget[0] -= 1
            if budget[0] < 0 or _valid_piece(text, lead, first_digit, runs[j][1]):
                return True  # out of budget (a long list of numbers): the recognizer decides
    return False


def _plausible_piece(text: str, lead: int, first_digit: int, end: int) -> bool:
    """Whether a match ending at ``end`` and starting in ``[lead, first_digit]`` could be kept."""
    starts = range(lead, first_digit + 1)
    if any(plausible_phone(text, s, end) for s in starts):
        return True
    # One group and an extension ("3012345 ext. 12") are two groups to plausible_phone.
    return (
        end - first_digit <= 8
        and _RUN.fullmatch(text, first_digit, end) is not None
        and _EXTENSION.match(text, end) is not None
        and any(s == 0 or text[s - 1] not in ":.," for s in starts)
    )


def _valid_piece(text: str, lead: int, first_digit: int, end: int) -> bool:
    """Whether the piece could be a number the matcher accepts (at leniency VALID) in a supported region.

    International form: ``phonenumbers.parse`` and ``is_valid_number``. National form: first the
    checks ``is_valid_number`` makes, from the region's metadata (a few regex matches), then the
    matcher's own verification of the piece in its text (no Latin letter next to it, ``parse``,
    ``is_valid_number``, the national prefix where the number's format requires one:
    ``4500000001`` is a valid German number, but only written ``04500000001``). A piece with a
    letter or tilde in or before it (:data:`_NOT_DIGITS_ONLY`) or an extension after it: assumed
    so.
    """
    plus = _PLUS.search(text, lead, first_digit)
    if plus is not None and _accepted(text[plus.start() : end], None):
        return True  # international form: the region does not matter
    value = text[first_digit:end]
    if _NOT_DIGITS_ONLY.search(text, lead, end) or _EXTENSION.match(text, end):
        return True
    digits = "".join(str(unicodedata.decimal(c)) for c in value if c.isdecimal())
    starts = [m.start() for m in _LEAD.finditer(text, lead, first_digit)] + [first_digit]
    return any(
        _may_be_valid(digits, region) and _verified(text, starts, end, region)
        for region in _distinct_regions()
    )


def _verified(text: str, starts: list[int], end: int, region: str) -> bool:
    """Whether the matcher verifies the piece starting at one of ``starts`` (in its context: a
    Latin letter next to it, as in a UUID's ``d23f0824-128b``, rejects it)."""
    import phonenumbers

    verify = getattr(phonenumbers.PhoneNumberMatcher(text, region, leniency=1), "_parse_and_verify", None)
    if verify is None:  # not this version's private API: parse and validate only (accepts more)
        return any(_accepted(text[s:end], region) for s in starts)
    return any(verify(text[s:end], s) is not None for s in starts)


@functools.cache
def _distinct_regions() -> tuple[str, ...]:
    """:data:`PHONE_REGIONS`, one per numbering plan (Canada reads national numbers as the US does)."""
    plans: dict[tuple[Any, ...], str] = {}
    for region in PHONE_REGIONS:
        country_code, prefix, transform, international, _, _ = _numbering(region)
        key = (country_code, prefix and prefix.pattern, transform, international and international.pattern)
        plans.setdefault(key, region)
    return tuple(plans.values())


def _accepted(value: str, region: str | None) -> bool:
    import phonenumbers
    from phonenumbers import phonenumbermatcher

    try:
        number = phonenumbers.parse(value, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    prefix_present = getattr(phonenumbermatcher, "_is_national_prefix_present_if_required", None)
    return prefix_present is None or prefix_present(number)


def _may_be_valid(digits: str, region: str) -> bool:
    """Whether ``digits``, written in ``region``, could parse to a valid number: as written, or
    without the country code or a national prefix (``phonenumbers.parse`` strips both), they must
    match the general pattern and lengths and those of a number type of a region with that country
    code. After an international prefix the number is another country's: assumed possible."""
    country_code, prefix, transform, international, lengths, valid = _numbering(region)
    if international is not None and international.match(digits):
        return True
    numbers = [digits]
    if digits.startswith(country_code):
        numbers.append(digits[len(country_code) :])
    for number in numbers[:]:
        if prefix is not None and (match := prefix.match(number)):
            numbers.append(number[match.end() :])
            if transform:
                numbers.append(prefix.sub(transform, number, count=1))
    return any(len(number) in lengths and valid.fullmatch(number) for number in numbers)


_Numbering = tuple[
    str, re.Pattern[str] | None, str | None, re.Pattern[str] | None, frozenset[int], re.Pattern[str]
]


@functools.cache
def _numbering(region: str) -> _Numbering:
    """``region``'s country code, national prefix (and its transform) and international prefix,
    and one pattern of the national numbers ``is_valid_number`` accepts for that country code: for
    each region sharing it (``+1``: the US, Canada and the Caribbean), the general description's
    lengths and pattern and then those of any number type (and the lengths of them all)."""
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    def desc(d: Any) -> str:
        lengths = "|".join(rf"\d{{{n}}}" for n in sorted(set(d.possible_length or ())))
        return (rf"(?=(?:{lengths})\Z)" if lengths else "") + rf"(?=(?:{d.national_number_pattern})\Z)"

    metadata = PhoneMetadata.metadata_for_region(region)
    plans, lengths = [], set()
    for name in COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, (region,)):
        shared = PhoneMetadata.metadata_for_region(name)
        if shared is None or shared.general_desc is None or not shared.general_desc.national_number_pattern:
            continue
        kinds = [
            desc(d)
            for kind in _NUMBER_TYPES
            if (d := getattr(shared, kind, None)) is not None and d.national_number_pattern
        ]
        if kinds:
            plans.append(desc(shared.general_desc) + "(?:" + "|".join(kinds) + ")")
            general = set(shared.general_desc.possible_length or ())
            lengths |= general if general and -1 not in general else set(range(1, _MAX_NATIONAL + 1))
    if not plans:  # no metadata to check against: anything may be valid
        plans, lengths = [""], set(range(1, _MAX_NATIONAL + 1))
    return (
        str(metadata.country_code),
        re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else None,
        metadata.national_prefix_transform_rule or None,
        re.compile(metadata.international_prefix) if metadata.international_prefix else None,
        frozenset(lengths),
        re.compile("(?:" + "|".join(plans) + r")\d+\Z"),
    )


_MAX_NATIONAL = 17
"""``phonenumbers``' longest national number (``_MAX_LENGTH_FOR_NSN``)."""
_NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
"""The types ``phonenumbers.is_valid_number`` accepts (short codes and emergency numbers are not)."""
