"""The business rules' numbers: thresholds, deadlines, notice periods, retry limits.

One resource so that every op and sensor reads the same values and a test can change one rule
without touching the environment. :meth:`WorkflowPolicyResource.from_env` reads the ``EAS_*``
variables once, when the code location loads (the defaults match :mod:`eas_pipelines.settings`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
from pydantic import Field


@dataclass(frozen=True)
class Blackout:
    """A window no vacation may overlap: yearly ("12-24:01-01", may wrap the new year) or dated."""

    spec: str

    def windows(self, around: date) -> list[tuple[date, date]]:
        """The concrete windows near ``around`` (last, this and next year for a yearly window)."""
        start_text, _, end_text = self.spec.partition(":")
        if len(start_text) == 10:  # YYYY-MM-DD:YYYY-MM-DD
            return [(date.fromisoformat(start_text), date.fromisoformat(end_text))]
        (sm, sd), (em, ed) = (tuple(int(p) for p in t.split("-")) for t in (start_text, end_text))
        windows = []
        for year in (around.year - 1, around.year, around.year + 1):
            start = date(year, sm, sd)
            end = date(year + 1 if (em, ed) < (sm, sd) else year, em, ed)
            windows.append((start, end))
        return windows

    def overlaps(self, start: date, end: date) -> bool:
        return any(w_start <= end and start <= w_end for w_start, w_end in self.windows(start))


def parse_blackouts(text: str) -> list[str]:
    """ "12-24:01-01, 2026-07-01:2026-07-03" -> the list, each one validated."""
    specs = [part.strip() for part in text.split(",") if part.strip()]
    for spec in specs:
        if ":" not in spec:
            raise ValueError(f"blackout {spec!r}: expected START:END (MM-DD or YYYY-MM-DD)")
        Blackout(spec).windows(date(2000, 1, 1))  # raises on a bad date
    return specs


class WorkflowPolicyResource(dg.ConfigurableResource):
    """Rules the agents apply; every field has an ``EAS_*`` variable (see :meth:`from_env`)."""

    approval_amount_threshold: float = Field(10000.0, description="invoices above this need approval")
    approval_deadline_hours: float = Field(24.0, description="approvals past this are escalated")
    po_match_tolerance: float = Field(0.05, description="an invoice may exceed its PO's open amount by this")
    default_currency: str = Field("USD", description="currency of an amount typed without one")
    leave_notice_days: int = Field(3, description="days of notice before leave starts (sick leave exempt)")
    leave_blackouts: list[str] = Field(
        default_factory=lambda: ["12-24:01-01"], description="windows vacation may not overlap"
    )
    max_attempts: int = Field(3, description="failed runs of a request before it fails for good")
    retry_backoff_seconds: float = Field(
        10.0, description="base of the retry backoff (recovery.backoff_delay: doubles, capped, jittered)"
    )
    fast_lane_fallback_seconds: float = Field(30.0, description="fast-lane work older than this, no worker")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkflowPolicyResource:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        names = {
            "approval_amount_threshold": "EAS_APPROVAL_AMOUNT_THRESHOLD",
            "approval_deadline_hours": "EAS_APPROVAL_DEADLINE_HOURS",
            "po_match_tolerance": "EAS_PO_MATCH_TOLERANCE",
            "default_currency": "EAS_DEFAULT_CURRENCY",
            "leave_notice_days": "EAS_LEAVE_NOTICE_DAYS",
            "max_attempts": "EAS_MAX_ATTEMPTS",
            "retry_backoff_seconds": "EAS_RETRY_BACKOFF_SECONDS",
            "fast_lane_fallback_seconds": "EAS_FAST_LANE_FALLBACK_SECONDS",
        }
        for field, variable in names.items():
            if env.get(variable, "").strip():
                values[field] = env[variable].strip()
        if "EAS_LEAVE_BLACKOUT" in env:  # set but empty: no blackout at all
            values["leave_blackouts"] = parse_blackouts(env["EAS_LEAVE_BLACKOUT"])
        return cls(**values)

    @property
    def approval_deadline(self) -> timedelta:
        return timedelta(hours=self.approval_deadline_hours)

    def blackouts(self) -> list[Blackout]:
        return [Blackout(spec) for spec in self.leave_blackouts]
