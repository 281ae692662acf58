"""Where an alert goes, by its severity (P0 most urgent .. P3 least).

- P0: paged through PagerDuty (critical) and posted to Slack at once.
- P1: paged through PagerDuty (error), an Opsgenie alert (its P2) and Slack.
- P2: an Opsgenie alert (its P3) and Slack; nobody is woken up.
- P3: kept for the daily digest (:mod:`.digest`), which posts them to Slack together: Slack still
  hears of every alert, a low one once a day rather than one message each.

Opsgenie's own scale is P1..P5 (P1 the highest); EAS's P0 is its P1, so each EAS level maps one
step down. PagerDuty's Events API takes a severity word instead.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES: tuple[str, ...] = ("P0", "P1", "P2", "P3")

PAGERDUTY_SEVERITY: dict[str, str] = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
OPSGENIE_PRIORITY: dict[str, str] = {"P0": "P1", "P1": "P2", "P2": "P3", "P3": "P4"}


@dataclass(frozen=True)
class Destinations:
    """Which systems an alert of one severity goes to."""

    pagerduty: bool
    opsgenie: bool
    slack: bool
    digest: bool

    def names(self) -> tuple[str, ...]:
        return tuple(name for name in ("pagerduty", "opsgenie", "slack", "digest") if getattr(self, name))


ROUTES: dict[str, Destinations] = {
    "P0": Destinations(pagerduty=True, opsgenie=False, slack=True, digest=False),
    "P1": Destinations(pagerduty=True, opsgenie=True, slack=True, digest=False),
    "P2": Destinations(pagerduty=False, opsgenie=True, slack=True, digest=False),
    "P3": Destinations(pagerduty=False, opsgenie=False, slack=False, digest=True),
}


def destinations(severity: str) -> Destinations:
    """Where an alert of ``severity`` goes; an unknown severity is an error (not a guess)."""
    try:
        return ROUTES[severity]
    except KeyError:
        raise ValueError(f"unknown alert severity {severity!r}; expected one of {SEVERITIES}") from None


def most_urgent(severities: list[str]) -> str | None:
    """The most urgent of ``severities`` (P0 before P3); None for none."""
    known = [s for s in severities if s in SEVERITIES]
    return min(known, key=SEVERITIES.index) if known else None
