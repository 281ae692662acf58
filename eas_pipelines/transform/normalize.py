"""Normalisation of the values every system spells its own way: currencies, amounts, dates, names.

Why one module with written-down rules: the same invoice arrives as ``"1.234,56 EUR"`` from one
system, ``"$1,234.56"`` from another and ``"/Date(1710460800000)/"`` as its date from SAP; matching,
mapping and the duplicate checks downstream only work when each value has one spelling. Each
function raises :class:`ValueError` naming the input it could not read, so a pydantic validator
built on it reports the field.

Amount rules (:func:`parse_amount`):

* currency symbols and ISO codes around the number are allowed and returned separately
  (:func:`parse_money`); spaces, non-breaking spaces and apostrophes (``1'234.50``) group digits;
* negative: a leading ``-``, a trailing ``-`` (SAP's ``100.00-``) or parentheses ``(100.00)``;
* with both ``,`` and ``.`` present, the one that comes last is the decimal separator;
* with one kind present more than once, it groups thousands (``1,234,567``);
* with one present once: it groups thousands when exactly three digits follow and the integer part
  is not ``0`` (``12,400`` -> 12400, ``1.234`` -> 1234), else it is the decimal separator
  (``12,5`` -> 12.5, ``0.125`` -> 0.125). A system that means ``1.234`` as one point two three four
  must send it with its currency's decimals or as a number;
* grouping must be well formed (groups of three), so ``1,23,4`` is refused rather than guessed.

Date rules (:func:`parse_date`): ISO dates and timestamps, compact ``20240315``, SAP OData V2
``/Date(ms)/``, dotted dates day first (``15.03.2024``, the European convention), slashed and
dashed numeric dates month first unless ``dayfirst=True`` (``03/04/2024`` is 4 March by
default), month names in any order. A date missing its day, month or year is refused, never
filled in from today.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal

from dateutil import parser as date_parser

ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XDR XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table, read as one
)
"""Active ISO 4217 codes (fund codes included; no precious metals, no ``XXX``/``XTS``)."""

CURRENCY_SYMBOLS: dict[str, str] = {
    # "$" alone is read as USD: EAS's ledgers are USD-first; other dollars must say so (C$, A$ ...).
    "$": "USD",
    "US$": "USD",
    "USD$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₪": "ILS",
    "₺": "TRY",
    "₽": "RUB",
    "R$": "BRL",
    "FR.": "CHF",
    "EURO": "EUR",
    "EUROS": "EUR",
    "DOLLAR": "USD",
    "DOLLARS": "USD",
    "POUND": "GBP",
    "POUNDS": "GBP",
}


def normalize_currency(value: str) -> str:
    """``"usd"``, ``" USD "``, ``"$"``, ``"€"``, ``"euros"`` -> the ISO 4217 code; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"currency must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value).strip().upper()
    code = CURRENCY_SYMBOLS.get(text, text)
    if code not in ISO_4217:
        raise ValueError(f"unknown currency {value!r} (expected an ISO 4217 code such as USD, EUR, GBP)")
    return code


_SYMBOL_PATTERN = "|".join(
    re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True) if len(s) <= 4
)
_MONEY = re.compile(
    rf"""^\s*
    (?P<pre>{_SYMBOL_PATTERN}|[A-Za-z]{{3}})?\s*
    (?P<number>[-(]?\s*(?:{_SYMBOL_PATTERN})?\s*[\d.,'\s\u00a0\u202f]*\d[\d.,'\s\u00a0\u202f]*\s*[-)]?)\s*
    (?P<post>{_SYMBOL_PATTERN}|[A-Za-z]{{3}})?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+$")


def parse_money(value: str | int | float | Decimal) -> tuple[Decimal, str | None]:
    """``"1.234,56 EUR"`` -> ``(Decimal("1234.56"), "EUR")``; ``"$12,400"`` -> ``(12400, "USD")``.

    The currency is None where the text names none. See the module docstring for the rules.
    """
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, Decimal | int):
        return _finite(Decimal(value), value), None
    if isinstance(value, float):
        return _finite(Decimal(repr(value)), value), None
    if not isinstance(value, str):
        raise ValueError(f"an amount must be a number or text, got {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value)
    match = _MONEY.match(text)
    if not match:
        raise ValueError(f"not an amount: {value!r}")
    pre, post = match["pre"], match["post"]
    if pre and post:
        raise ValueError(f"two currencies in one amount: {value!r}")
    currency = normalize_currency(pre or post) if (pre or post) else None
    number = match["number"]
    inner_symbol = re.search(_SYMBOL_PATTERN, number)
    if inner_symbol:  # "-$12.00": the sign came before the symbol
        if currency:
            raise ValueError(f"two currencies in one amount: {value!r}")
        currency = normalize_currency(inner_symbol.group(0))
        number = number.replace(inner_symbol.group(0), "", 1)
    number = re.sub(r"[\s']", "", number)
    negative = False
    if number.startswith("(") and number.endswith(")"):
        negative, number = True, number[1:-1]
    elif number.startswith("-"):
        negative, number = True, number[1:]
    elif number.endswith("-"):
        negative, number = True, number[:-1]
    if not re.fullmatch(r"[\d.,]+", number):
        raise ValueError(f"not an amount: {value!r}")
    amount = Decimal(_canonical_digits(number, value))
    return (-amount if negative else amount), currency


def parse_amount(value: str | int | float | Decimal) -> Decimal:
    """The amount of :func:`parse_money`, without its currency."""
    return parse_money(value)[0]


def _canonical_digits(number: str, original: object) -> str:
    """Digits with ``.`` as the only (decimal) separator, by the rules of the module docstring."""
    commas, dots = number.count(","), number.count(".")
    if commas and dots:
        decimal_sep = "," if number.rfind(",") > number.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        if number.count(decimal_sep) > 1:
            raise ValueError(f"ambiguous amount: {original!r}")
        whole, _, fraction = number.partition(decimal_sep)
        return _ungroup(whole, group_sep, original) + "." + fraction
    sep = "," if commas else "." if dots else ""
    if not sep:
        return number
    whole, _, fraction = number.rpartition(sep)
    if number.count(sep) > 1 or (len(fraction) == 3 and whole.lstrip("0") != ""):
        return _ungroup(number, sep, original)
    if not whole and not fraction:
        raise ValueError(f"not an amount: {original!r}")
    return (whole or "0") + "." + fraction


def _ungroup(whole: str, group_sep: str, original: object) -> str:
    if group_sep not in whole:
        return whole
    if not _GROUPED.match(whole.replace(group_sep, ",")):
        raise ValueError(f"badly grouped amount: {original!r}")
    return whole.replace(group_sep, "")


def _finite(amount: Decimal, original: object) -> Decimal:
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {original!r}")
    return amount


_SAP_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)/$")
_DOTTED = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}$")
_COMPACT = re.compile(r"^\d{8}$")
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))  # noqa: DTZ001 - only to detect missing parts


def parse_date(value: str | date | datetime, *, dayfirst: bool = False) -> date:
    """Many spellings of a date -> :class:`datetime.date` (rules in the module docstring)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a date must be text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    sap = _SAP_DATE.match(text)
    if sap:  # OData V2 Edm.DateTime: milliseconds since the epoch, UTC (the offset does not shift it)
        return datetime.fromtimestamp(int(sap["ms"]) / 1000, tz=UTC).date()
    if _COMPACT.match(text):
        try:
            return datetime.strptime(text, "%Y%m%d").date()
        except ValueError as error:
            raise ValueError(f"not a date: {value!r}") from error
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    dayfirst = dayfirst or bool(_DOTTED.match(text))
    try:
        first, second = (date_parser.parse(text, dayfirst=dayfirst, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not a date: {value!r}") from error
    if first.date() != second.date():
        raise ValueError(f"incomplete date (needs day, month and year): {value!r}")
    return first.date()


def normalize_whitespace(value: str) -> str:
    """NFKC-normalised, trimmed, with every run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "du", "del", "la", "le", "bin", "al"})


def normalize_person_name(value: str) -> str:
    """``"  JANE  O'NEIL-SMITH "`` -> ``"Jane O'Neil-Smith"``: whitespace tidied, re-cased if all one case.

    A name typed in one case throughout (``"JANE DOE"``, ``"jane doe"``) is title-cased per part,
    across hyphens and apostrophes, with particles (van, de, ...) after the first word lower case.
    A name in mixed case is kept as written (``"McDonald"``, ``"DeShawn"`` are the person's spelling).
    """
    text = normalize_whitespace(value)
    letters = [c for c in text if c.isalpha()]
    if not letters or not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return text
    words = []
    for index, word in enumerate(text.lower().split(" ")):
        if index and word in _PARTICLES:
            words.append(word)
        else:
            words.append(re.sub(r"(^|[-'’])(\w)", lambda m: m.group(1) + m.group(2).upper(), word))
    return " ".join(words)


_SUFFIXES: dict[str, str] = {
    "corp": "Corp",
    "corporation": "Corp",
    "inc": "Inc",
    "incorporated": "Inc",
    "ltd": "Ltd",
    "limited": "Ltd",
    "llc": "LLC",
    "l.l.c": "LLC",
    "plc": "PLC",
    "gmbh": "GmbH",
    "ag": "AG",
    "sa": "SA",
    "s.a": "SA",
    "bv": "BV",
    "b.v": "BV",
    "nv": "NV",
    "n.v": "NV",
    "srl": "SRL",
    "pty": "Pty",
    "co": "Co",
    "company": "Co",
    "lp": "LP",
    "llp": "LLP",
}
"""Legal-form suffixes: the spelling :func:`normalize_company_name` writes for each variant."""


def normalize_company_name(value: str) -> str:
    """Display form: whitespace tidied and legal suffixes spelt one way (``"ACME corp."`` -> ``"ACME Corp"``).

    Only trailing suffix words change; the rest keeps the company's own casing.
    """
    words = normalize_whitespace(value).split(" ")
    suffixes: list[str] = []
    while len(words) > 1 and words[-1].rstrip(".,").lower() in _SUFFIXES:
        suffixes.insert(0, _SUFFIXES[words.pop().rstrip(".,").lower()])
    if suffixes:
        words[-1] = words[-1].rstrip(",")
    return " ".join(words + suffixes)


def company_key(value: str) -> str:
    """The matching key of a company name: ``"ACME Corp."``, ``"Acme Corporation"`` -> ``"acme"``.

    Case-folded, accents removed, ``&`` read as ``and``, punctuation dropped, trailing legal
    suffixes removed (repeatedly: ``"Acme Co., Ltd."`` -> ``"acme"``), but never the whole name
    (``"Company"`` stays ``"company"``).
    """
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    words = re.sub(r"[^\w\s]", " ", text.replace(".", "")).split()
    while len(words) > 1 and (words[-1] in _SUFFIXES or words[-1].replace(".", "") in _SUFFIXES):
        words.pop()
    return " ".join(words)
