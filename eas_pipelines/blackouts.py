"""Leave blackout windows: the ``EAS_LEAVE_BLACKOUT`` format and the overlap rule.

Its own small module, below :mod:`eas_pipelines.settings`, because the format is validated where
every setting is (a bad window stops the process at start, naming the variable) and applied by
the HR agent through :class:`~eas_pipelines.resources.policy.WorkflowPolicyResource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
