"""Batch transformation with a report: which records mapped, which were refused and why, which enriched.

Why a report instead of an exception: a batch of invoices from one system should not stop at
its first bad record; the caller (the Integration agent) sends what mapped, returns the refused
ones with their field errors, and can tell a reviewer which records the vendor master completed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eas_pipelines.transform.enrich import VendorMaster, enrich
from eas_pipelines.transform.mapping import (
    FieldError,
    MappingError,
    dump,
    from_canonical,
    to_canonical,
)


@dataclass
class TransformReport:
    """``mapped`` target records (in input order, refused ones left out), ``rejected`` as
    ``(input index, field errors)``, ``enriched`` as ``{input index: fields filled}``."""

    mapped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, list[FieldError]]] = field(default_factory=list)
    enriched: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return f"{len(self.mapped)} mapped, {len(self.rejected)} rejected, {len(self.enriched)} enriched"


def transform_batch(
    records: Iterable[Mapping[str, Any]],
    *,
    source: str,
    target: str,
    vendor_master: VendorMaster | None = None,
) -> TransformReport:
    """Map each record ``source`` -> canonical -> (enriched) -> ``target``; refusals are reported.

    A rejected record's paths are those of the model that refused it: the source's as they are,
    a later step's prefixed by the step (``"canonical -> quickbooks: VendorRef.value"``), so a
    reviewer can tell a bad input from a gap the target needs filled.
    """
    report = TransformReport()
    for index, record in enumerate(records):
        try:
            invoice = to_canonical(record, source)
            if vendor_master is not None:
                invoice, filled = enrich(invoice, vendor_master)
                if filled:
                    report.enriched[index] = filled
            report.mapped.append(dump(from_canonical(invoice, target)))
        except MappingError as error:
            errors = error.errors
            if error.step != source:
                errors = [FieldError(f"{error.step}: {e.path}", e.reason) for e in errors]
            report.rejected.append((index, errors))
            report.enriched.pop(index, None)
    return report
