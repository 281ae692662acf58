"""The recognizers EAS masks with: Presidio's pattern recognizers, two of them adjusted.

A module of its own so that importing :mod:`eas_pipelines.pii` stays cheap: Presidio (and spaCy,
which it imports) costs seconds, paid only when :func:`eas_pipelines.pii.engine.engines` first
builds the analyzer, which imports this module.

* e-mail: Presidio validates the domain with ``tldextract``'s default extractor, which fetches the
  public-suffix list over the network the first time; ours uses the snapshot shipped inside
  ``tldextract`` (``suffix_list_urls=()``, no cache directory).
* US SSN: Presidio drops the published sample numbers (``078-05-1120``, ``123-45-6789``); a
  masker must not, since a real person was issued 078-05-1120 and a "sample" in a log is still a
  well-formed SSN. The other validity rules (no 000/666 area, no zero group) stay.
* phone: Presidio's, for the regions named in :data:`eas_pipelines.pii.engine.PHONE_REGIONS`
  (its default set), which :mod:`eas_pipelines.pii.gate` validates against too.
"""

from __future__ import annotations

import tldextract
from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    NhsRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)

from eas_pipelines.pii.engine import PHONE_REGIONS

_OFFLINE_TLDS = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer validating the domain against the bundled public-suffix snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDS(pattern_text).fqdn != ""


class MaskingSsnRecognizer(UsSsnRecognizer):
    """Presidio's SSN recognizer without its exemption of the published sample numbers."""

    SAMPLES = frozenset({"078051120", "123456789", "987654320"})

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(c for c in pattern_text if c.isdigit())
        if digits in self.SAMPLES and len(digits) != len(pattern_text):  # formatted: 078-05-1120
            return False
        return super().invalidate_result(pattern_text)


def recognizers() -> list[EntityRecognizer]:
    """One instance of each recognizer EAS uses (see ``engine.ENTITIES`` for what they find)."""
    return [
        OfflineEmailRecognizer(),
        PhoneRecognizer(supported_regions=PHONE_REGIONS),
        CreditCardRecognizer(),
        IbanRecognizer(),
        MaskingSsnRecognizer(),
        UsItinRecognizer(),
        UkNinoRecognizer(),
        NhsRecognizer(),
    ]
