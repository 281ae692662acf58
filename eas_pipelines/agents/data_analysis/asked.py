"""What a report or KPI request asks for: which report, which period, who gets it (rules, no Dagster).

- Report or KPI: :func:`~.reports.report_for` / :func:`~.reports.kpi_for` on the ``report_name`` and
  ``metric`` entities, then the text.
- Period: the first ``period`` or ``date_range`` entity (``{"start", "end"}``); without one, a report
  covers last month and a KPI the month so far. A period that has not started, or one named but not
  understood (no value), is refused rather than replaced by the default.
- Recipients: the ``channel`` entities ("#finance"; "the finance channel" is read as "#finance"),
  ``recipient`` and ``email`` entities; without any, the requester. A KPI answer always goes to the
  requester too, since they asked a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.data_analysis.periods import Period

_CHANNEL_WORDS = re.compile(r"^(?:the\s+)?#?(?P<name>[\w-]+?)(?:\s+(?:channel|room))?$", re.IGNORECASE)


def channel_name(value: str) -> str | None:
    """ "#finance" and "the finance channel" -> "#finance"; None when it names no channel."""
    found = _CHANNEL_WORDS.match(value.strip())
    return f"#{found.group('name').lower()}" if found else None


def recipients_of(item: WorkItem) -> list[str]:
    """Who the request names to receive the result, in order, each once; [] when it names nobody."""
    found: list[str] = []
    for value in item.values("channel"):
        name = channel_name(str(value))
        if name:
            found.append(name)
    for value in item.values("recipient"):
        text = str(value).strip()
        is_channel = text.startswith("#") or text.lower().endswith(" channel")
        found.append((channel_name(text) or text) if is_channel else text)
    found += [str(value) for value in item.values("email")]
    return list(dict.fromkeys(r for r in found if r))


@dataclass(frozen=True)
class PeriodAsked:
    period: Period | None
    problem: str | None = None


def period_of(item: WorkItem, default: Period, today: date) -> PeriodAsked:
    """The period the request names (else ``default``), or why it cannot be reported on."""
    named = [e for e in item.entities if e.get("type") in ("period", "date_range")]
    if not named:
        return PeriodAsked(default)
    period = Period.from_value(named[0].get("value"))
    if period is None:  # the NLP service found a period it could not normalise: do not guess one
        return PeriodAsked(None, f"the period {named[0].get('text')!r} could not be read as dates")
    if period.end < period.start:
        return PeriodAsked(None, f"the period {period.start} to {period.end} ends before it starts")
    if period.start > today:
        return PeriodAsked(None, f"the period {period.label} has not started yet")
    return PeriodAsked(period)
