"""What an integration request asks for, read from its words and entities (rules, free of Dagster).

A sync names its systems in order ("push the invoices from SAP to QuickBooks": ``system``
entities, the source first, as the sentence says them); a transform names a file in S3 (an
``s3://bucket/key`` URL or a bare key with its extension, read in the documents bucket) and the
format it wants ("to CSV"). The NLP service extracts no file entity, so the location is read from
the text, as the documents agent does.

Which syncs exist is :data:`SYNCS`: a pair of systems EAS can read from and write to with a
mapping between them. Anything else is refused naming what is supported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

FORMATS = ("csv", "json", "xml")

_SYSTEM_NAMES: dict[str, str] = {
    "sap": "sap",
    "s/4hana": "sap",
    "the erp": "sap",
    "quickbooks": "quickbooks",
    "qbo": "quickbooks",
    "salesforce": "salesforce",
    "the crm": "salesforce",
    "s3": "s3",
    "the s3 bucket": "s3",
    "oracle": "oracle",
}
"""A ``system`` entity's normalised text -> the connector it means (lower-cased lookup)."""

SYNCS: dict[tuple[str, str], str] = {
    ("sap", "quickbooks"): "SAP supplier invoices -> QuickBooks bills",
    ("salesforce", "s3"): "Salesforce accounts -> a file in S3",
}
"""(source, target) -> what the sync moves; the supported syncs."""

INVOICE_SYSTEMS = frozenset({"sap", "quickbooks", "oracle"})
"""Systems with an invoice mapping in :mod:`eas_pipelines.transform.mapping` (a transform may remap)."""

_S3_URL = re.compile(r"\bs3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(\S+)", re.IGNORECASE)
_BARE_KEY = re.compile(r"(?<![\w/:.])((?:[\w.\-]+/)*[\w.\-]+\.(?:csv|json|xml))\b", re.IGNORECASE)
_TARGET_FORMAT = re.compile(r"\b(?:to|into|as|in)\s+(?:an?\s+)?(csv|json|xml)\b", re.IGNORECASE)
_ANY_FORMAT = re.compile(r"\b(csv|json|xml)\b", re.IGNORECASE)


@dataclass(frozen=True)
class S3Location:
    """An object in S3; ``str()`` is its ``s3://`` URL, which is what reports and messages quote."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.key).suffix.lower().lstrip(".")

    def sibling(self, name: str) -> S3Location:
        """An object next to this one (same bucket and folder)."""
        folder = str(PurePosixPath(self.key).parent)
        return S3Location(self.bucket, name if folder in ("", ".") else f"{folder}/{name}")

    def with_suffix(self, suffix: str, tag: str = "") -> S3Location:
        """This object's name with another extension (``tag`` before it: ``bills.quickbooks.json``)."""
        stem = PurePosixPath(self.key).stem
        return self.sibling(f"{stem}{'.' + tag if tag else ''}.{suffix}")


def system_of(value: Any) -> str | None:
    """The connector a ``system`` entity means ("SAP" -> "sap", "the CRM" -> "salesforce"), if known."""
    if not isinstance(value, str):
        return None
    return _SYSTEM_NAMES.get(" ".join(value.lower().split()))


def systems_in_order(entities: tuple[dict[str, Any], ...]) -> list[tuple[str, str]]:
    """The ``system`` entities in the order the sentence says them: ``[(text, connector or "")]``."""
    found = [e for e in entities if e.get("type") == "system" and e.get("value")]
    found.sort(key=lambda e: int(e.get("start") or 0))
    return [(str(e["value"]), system_of(e["value"]) or "") for e in found]


def s3_location(text: str, default_bucket: str) -> S3Location | None:
    """The file a request names: an ``s3://`` URL, else a bare key with a data extension."""
    url = _S3_URL.search(text)
    if url:
        return S3Location(url.group(1).lower(), url.group(2).rstrip(".,;:!?)\"'"))
    key = _BARE_KEY.search(text)
    return S3Location(default_bucket, key.group(1)) if key else None


def target_format(text: str, source_format: str | None) -> str | None:
    """The format asked for: the one after "to/into/as", else the only other one named."""
    stated = _TARGET_FORMAT.findall(text)
    if stated:
        return stated[-1].lower()
    named = [f.lower() for f in _ANY_FORMAT.findall(text) if f.lower() != source_format]
    return named[-1] if named else None


def sniff_format(data: bytes) -> str | None:
    """A file's format from its first character, when its name has no data extension."""
    head = data.lstrip()[:1]
    if head in (b"[", b"{"):
        return "json"
    if head == b"<":
        return "xml"
    return "csv" if head else None


@dataclass(frozen=True)
class SyncPlan:
    source: str
    target: str
    what: str
    invoice_refs: tuple[str, ...] = ()
    supplier: str | None = None
    file_format: str = "csv"


def plan_sync(text: str, entities: tuple[dict[str, Any], ...]) -> SyncPlan | str:
    """The sync a request asks for, or why it cannot be done (a refusal's reason)."""
    named = systems_in_order(entities)
    known = [system for _, system in named if system]
    unknown = [name for name, system in named if not system]
    supported = "; ".join(f"{s} to {t} ({what})" for (s, t), what in SYNCS.items())
    if len(known) < 2:
        missing = f" ({', '.join(unknown)} has no connector)" if unknown else ""
        return (
            f"the request names {len(known)} known system(s){missing}; "
            f"a sync needs a source and a target: {supported}"
        )
    source, target = known[0], known[1]
    if (source, target) not in SYNCS:
        return f"no sync from {source} to {target}; supported: {supported}"
    plan = SyncPlan(source, target, SYNCS[(source, target)], file_format=target_format(text, None) or "csv")
    if source == "sap":
        refs = tuple(
            dict.fromkeys(
                str(v) for e in entities if e.get("type") == "invoice_id" for v in [e.get("value")] if v
            )
        )
        suppliers = [str(e["value"]) for e in entities if e.get("type") == "vendor" and e.get("value")]
        if not refs or not suppliers:
            return (
                'name the SAP supplier and the invoice numbers to sync (e.g. "sync invoices INV-1042 '
                'and INV-1043 from Acme Corp in SAP to QuickBooks")'
            )
        plan = SyncPlan(source, target, plan.what, refs, suppliers[0], plan.file_format)
    return plan


@dataclass(frozen=True)
class TransformPlan:
    location: S3Location
    target_format: str | None
    source_system: str | None = None
    target_system: str | None = None


def plan_transform(
    text: str, entities: tuple[dict[str, Any], ...], default_bucket: str
) -> TransformPlan | str:
    """The file and the conversion a request asks for, or why it cannot be done."""
    location = s3_location(text, default_bucket)
    if location is None:
        return "the request names no file: give an s3:// URL or a key such as exports/vendors.json"
    source_format = location.suffix if location.suffix in FORMATS else None
    wanted = target_format(text, source_format)
    invoice_systems = [s for _, s in systems_in_order(entities) if s in INVOICE_SYSTEMS]
    if len(invoice_systems) >= 2 and invoice_systems[0] != invoice_systems[1]:
        return TransformPlan(location, wanted, invoice_systems[0], invoice_systems[1])
    if wanted is None:
        return f"say which format {location} should become: CSV, JSON or XML"
    return TransformPlan(location, wanted)
