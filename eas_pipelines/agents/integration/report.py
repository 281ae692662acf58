"""The report every integration request ends with: what was mapped, written, rejected and enriched.

Why one shape for both intents: the requester (and a reviewer fixing the source data) reads the
same thing whether a sync or a file conversion ran: counts, each rejected record with its field
and the layer's reason, each enriched record with the fields filled, and where the output is.
The report is stored as JSON next to the output (``<output>.report.json``), so it stays with the
data it describes; the message to the requester carries its summary and the first rejections.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from eas_pipelines.agents.integration.records import Batch

SHOWN_REJECTIONS = 20
"""Rejected fields quoted in the message; the stored report lists them all."""


@dataclass(frozen=True)
class IntegrationReport:
    request_id: str
    source: str
    target: str
    output: str
    batch: Batch
    written: dict[str, int] = field(default_factory=dict)
    """Target outcomes by kind: ``{"created": 3, "already_present": 1}`` or ``{"rows": 12}``."""

    def counts(self) -> dict[str, int]:
        return {
            "records": self.batch.total,
            "mapped": len(self.batch.mapped),
            "rejected": self.batch.rejected_count,
            "enriched": len(self.batch.enriched),
        }

    def summary(self) -> str:
        c = self.counts()
        written = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.written.items() if n)
        return (
            f"{self.source} -> {self.target}: {c['records']} records, {c['mapped']} mapped, "
            f"{c['rejected']} rejected, {c['enriched']} enriched" + (f" ({written})" if written else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "source": self.source,
            "target": self.target,
            "output": self.output,
            "counts": self.counts(),
            "written": dict(self.written),
            "mapped": [{"index": m.index, "ref": m.ref} for m in self.batch.mapped],
            "rejected": [asdict(r) for r in self.batch.rejected],
            "enriched": [
                {"index": e.index, "ref": e.ref, "fields": list(e.fields)} for e in self.batch.enriched
            ],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.as_dict(), indent=2, sort_keys=False).encode()

    def message(self, report_location: str) -> str:
        """The requester's message: the summary, where things are, and the rejections to fix."""
        lines = [self.summary() + ".", f"Output: {self.output}", f"Report: {report_location}"]
        if self.batch.rejected:
            lines.append("Rejected (fix these in the source and sync again):")
            for r in self.batch.rejected[:SHOWN_REJECTIONS]:
                lines.append(f"- {r.ref} (#{r.index + 1}): {r.field}: {r.reason}")
            if len(self.batch.rejected) > SHOWN_REJECTIONS:
                lines.append(f"- ... and {len(self.batch.rejected) - SHOWN_REJECTIONS} more in the report")
        if self.batch.enriched:
            filled = sorted({f for e in self.batch.enriched for f in e.fields})
            lines.append(f"Enriched {len(self.batch.enriched)} record(s): {', '.join(filled)} filled.")
        return "\n".join(lines)
