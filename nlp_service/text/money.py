"""Money amounts and currencies as ISO 4217 values.

Downstream workflows (payments, approvals) compare amounts and currencies exactly, so
"$12,400", "12,400 USD" and "12.4k dollars" must all become ``12400.0`` and ``"USD"``.
The number itself is read by ``price-parser``, which knows the thousands/decimal
separator conventions ("12.400,50 €" is twelve thousand four hundred and a half); the
currency and scale words ("k", "million") are read here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from price_parser import Price

from nlp_service.text.numbers import SCALE_SUFFIX_RE, SCALE_SUFFIXES, words_value

# Active ISO 4217 codes. Upper-case text matching one of them is a currency; lower-case
# text only counts for the common ones below, because "all", "top" and "try" are words too.
_ISO_CODE_LIST = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_CODES = frozenset(_ISO_CODE_LIST.split())
_COMMON_CODE_LIST = "USD EUR GBP JPY CNY INR CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF MXN BRL ZAR SGD HKD KRW"
_COMMON_CODES = frozenset(_COMMON_CODE_LIST.split())
_SYMBOLS = {
    "US$": "USD",
    "AU$": "AUD",
    "A$": "AUD",
    "CA$": "CAD",
    "C$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "Rs": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₱": "PHP",
    "₫": "VND",
    "₦": "NGN",
    "฿": "THB",
    "zł": "PLN",
}
# Currency names, singular; a qualified name ("canadian dollar") wins over the bare one.
_NAMES = {
    "us dollar": "USD",
    "american dollar": "USD",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
    "aussie dollar": "AUD",
    "new zealand dollar": "NZD",
    "hong kong dollar": "HKD",
    "singapore dollar": "SGD",
    "swiss franc": "CHF",
    "british pound": "GBP",
    "pound sterling": "GBP",
    "japanese yen": "JPY",
    "chinese yuan": "CNY",
    "indian rupee": "INR",
    "mexican peso": "MXN",
    "dollar": "USD",
    "buck": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "yen": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rmb": "CNY",
    "rupee": "INR",
    "franc": "CHF",
}


def _alternation(options: list[str]) -> str:
    """Regex alternation trying longer options first, so "US$" is not read as "$"."""
    return "|".join(re.escape(option) for option in sorted(options, key=len, reverse=True))


_CURRENCY = re.compile(
    rf"(?P<symbol>(?<![A-Za-z])(?:{_alternation(list(_SYMBOLS))})(?![A-Za-z]))"
    rf"|\b(?P<name>{_alternation(list(_NAMES))})s?\b"
    r"|\b(?P<code>[A-Za-z]{3})\b",
    re.IGNORECASE,
)
_SCALE = re.compile(rf"\d\s*({SCALE_SUFFIX_RE})\b", re.IGNORECASE)
_WORD_TOKEN = re.compile(r"[a-z]+")
# Past this a float loses whole units; no request moves that much, so it is not an amount.
_LARGEST_AMOUNT = Decimal(2**53)


def currency_code(text: str) -> str | None:
    """ISO 4217 code of the first currency mentioned: "$" -> "USD", "euros" -> "EUR", "usd" -> "USD".

    A bare "$" is taken as US dollars and "¥" as yen, the common readings in this
    product's (English-language) requests.
    """
    for match in _CURRENCY.finditer(text):
        if match.group("symbol"):
            symbol = match.group("symbol")
            return _SYMBOLS.get(symbol) or _SYMBOLS.get(symbol.upper()) or _symbol_ignoring_case(symbol)
        if match.group("name"):
            return _NAMES[match.group("name").lower()]
        code = match.group("code")
        if code.isupper() and code in ISO_CODES or code.upper() in _COMMON_CODES:
            return code.upper()
    return None


def _symbol_ignoring_case(symbol: str) -> str | None:
    """The code of a letter symbol typed in another case ("us$", "RS")."""
    return next((code for known, code in _SYMBOLS.items() if known.lower() == symbol.lower()), None)


def parse_amount(text: str) -> dict[str, Any] | None:
    """``{"amount": float, "currency": ISO code or None}`` for "$12,400", "3.2k dollars", "EUR 500".

    ``None`` when there is no number; the sign is dropped (a request says "refund $50",
    not "-$50"). Scale words multiply ("1.5M" -> 1500000.0).
    """
    amount = _number(text)
    if amount is None or not amount.is_finite() or amount > _LARGEST_AMOUNT:
        return None
    return {"amount": float(amount), "currency": currency_code(text)}


def _number(text: str) -> Decimal | None:
    """The amount in ``text`` with its scale applied, from digits or else from number words."""
    amount = Price.fromstring(text).amount
    if amount is None:
        found = words_value(_WORD_TOKEN.findall(text.lower()))
        return Decimal(found[0]) if found else None
    scale = _SCALE.search(text)
    if scale:
        amount *= SCALE_SUFFIXES[scale.group(1).lower()]
    return abs(amount)
