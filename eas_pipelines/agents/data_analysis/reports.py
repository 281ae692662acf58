"""The reports and KPIs the data analysis agent knows, computed with pandas: rules free of Dagster.

Each :class:`Report` reads one system's records for a period as a data frame (its ``source``, see
:mod:`.sources` for the frames' columns) and turns it into a :class:`ReportTable`: the table to show,
the headline KPIs and the series to chart. The same functions serve the monthly assets and the
on-request jobs, so a report sent to a channel and the asset's partition agree.

Which report a request asks for is read from its ``report_name`` and ``metric`` entities, then its
text (:func:`report_for`); a KPI question names a metric (:func:`kpi_for`). The words are kept to
what a report really computes: an "AP aging" or "SLA compliance" report is not vendor spend or
ticket volume under another name, and is refused rather than approximated. Only what the connected
systems hold is offered: SAP *supplier* invoices are spend, not revenue, so "revenue", "sales" or
"churn" are refused with the list of reports there are rather than answered from the wrong data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

OPEN, RESOLVED = "open", "resolved"
RESOLVED_STATES = frozenset({"6", "7"})
"""ServiceNow incident states that count as resolved: 6 Resolved, 7 Closed (8 Canceled is neither)."""
CANCELED_STATES = frozenset({"8"})
DONE_STATUSES = frozenset({"succeeded"})
FAILED_STATUSES = frozenset({"failed", "rejected", "cancelled"})


@dataclass(frozen=True)
class ReportTable:
    """A computed report: its table (plain rows), headline KPIs and the series its chart plots."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kpis: dict[str, float | int]
    chart: dict[str, float]
    chart_label: str

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=list(self.columns))


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    source: str  # "sap", "servicenow" or "store": which frame of :mod:`.sources` it reads
    words: re.Pattern[str]  # how a request names it
    build: Callable[[pd.DataFrame], ReportTable]
    description: str


def _table(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
    """A frame as plain columns and rows (numpy scalars made Python ones, so they serialise)."""
    rows = tuple(
        tuple(value.item() if hasattr(value, "item") else value for value in row)
        for row in frame.itertuples(index=False)
    )
    return tuple(str(c) for c in frame.columns), rows


def vendor_spend(invoices: pd.DataFrame) -> ReportTable:
    """Posted supplier invoices by supplier and currency: how many, how much, the largest first."""
    if invoices.empty:
        grouped = pd.DataFrame(columns=["supplier", "currency", "invoices", "gross_amount"])
    else:
        grouped = (
            invoices.groupby(["supplier", "currency"], as_index=False)
            .agg(invoices=("invoice_number", "count"), gross_amount=("amount", "sum"))
            .sort_values(["gross_amount", "supplier"], ascending=[False, True], kind="stable")
        )
        grouped["gross_amount"] = grouped["gross_amount"].round(2)
    kpis: dict[str, float | int] = {
        "invoices": int(len(invoices)),
        "suppliers": int(invoices["supplier"].nunique()) if not invoices.empty else 0,
    }
    if not invoices.empty:
        for currency, total in invoices.groupby("currency")["amount"].sum().items():
            kpis[f"spend_{currency}"] = round(float(total), 2)
    several = grouped["currency"].nunique() > 1
    chart = {
        (f"{row.supplier} ({row.currency})" if several else str(row.supplier)): float(row.gross_amount)
        for row in grouped.itertuples()
    }
    currencies = "/".join(sorted(grouped["currency"].unique())) if not grouped.empty else ""
    return ReportTable(*_table(grouped), kpis, chart, f"gross amount {currencies}".strip())


def ticket_volume(incidents: pd.DataFrame) -> ReportTable:
    """Incidents opened in the period by assignment group: opened, resolved, still open, hours to resolve."""
    columns = ["assignment_group", "opened", "resolved", "open", "mean_hours_to_resolve"]
    if incidents.empty:
        grouped = pd.DataFrame(columns=columns)
        hours = pd.Series(dtype=float)
    else:
        frame = incidents.assign(
            group=incidents["assignment_group"].replace("", "(unassigned)"),
            is_resolved=incidents["state"].isin(RESOLVED_STATES),
            is_open=~incidents["state"].isin(RESOLVED_STATES | CANCELED_STATES),
            hours=(incidents["resolved_at"] - incidents["opened_at"]).dt.total_seconds() / 3600,
        )
        frame.loc[~frame["is_resolved"], "hours"] = float("nan")
        grouped = (
            frame.groupby("group", as_index=False)
            .agg(
                opened=("number", "count"),
                resolved=("is_resolved", "sum"),
                open=("is_open", "sum"),
                mean_hours_to_resolve=("hours", "mean"),
            )
            .rename(columns={"group": "assignment_group"})
            .sort_values(["opened", "assignment_group"], ascending=[False, True], kind="stable")
        )
        grouped["mean_hours_to_resolve"] = grouped["mean_hours_to_resolve"].round(1)
        hours = frame["hours"].dropna()
    kpis: dict[str, float | int] = {
        "opened": int(grouped["opened"].sum()) if not grouped.empty else 0,
        "resolved": int(grouped["resolved"].sum()) if not grouped.empty else 0,
        "backlog": int(grouped["open"].sum()) if not grouped.empty else 0,
    }
    if not hours.empty:
        kpis["mean_hours_to_resolve"] = round(float(hours.mean()), 1)
    grouped = grouped.astype({"opened": int, "resolved": int, "open": int}) if not grouped.empty else grouped
    grouped = grouped.astype(object).where(grouped.notna(), None)
    chart = {str(row.assignment_group): float(row.opened) for row in grouped.itertuples()}
    return ReportTable(*_table(grouped), kpis, chart, "incidents opened")


def request_volume(requests: pd.DataFrame) -> ReportTable:
    """EAS requests received in the period by agent: how many, how they ended, how long they took."""
    columns = ["agent", "requests", "succeeded", "failed", "in_progress", "success_rate", "median_seconds"]
    if requests.empty:
        grouped = pd.DataFrame(columns=columns)
    else:
        frame = requests.assign(
            agent=requests["agent"].fillna("(unrouted)").replace("", "(unrouted)"),
            ok=requests["status"].isin(DONE_STATUSES),
            failed=requests["status"].isin(FAILED_STATUSES),
            seconds=(requests["finished_at"] - requests["created_at"]).dt.total_seconds(),
        )
        frame["in_progress"] = ~(frame["ok"] | frame["failed"])
        grouped = (
            frame.groupby("agent", as_index=False)
            .agg(
                requests=("id", "count"),
                succeeded=("ok", "sum"),
                failed=("failed", "sum"),
                in_progress=("in_progress", "sum"),
                median_seconds=("seconds", "median"),
            )
            .sort_values(["requests", "agent"], ascending=[False, True], kind="stable")
        )
        ended = grouped["succeeded"] + grouped["failed"]
        grouped["success_rate"] = (grouped["succeeded"] / ended.where(ended > 0)).round(3)
        grouped["median_seconds"] = grouped["median_seconds"].round(1)
        grouped = grouped[columns].astype(
            {"requests": int, "succeeded": int, "failed": int, "in_progress": int}
        )
        grouped = grouped.astype(object).where(grouped.notna(), None)
    total = int(grouped["requests"].sum()) if not grouped.empty else 0
    succeeded = int(grouped["succeeded"].sum()) if not grouped.empty else 0
    failed = int(grouped["failed"].sum()) if not grouped.empty else 0
    kpis: dict[str, float | int] = {"requests": total, "succeeded": succeeded, "failed": failed}
    if succeeded + failed:
        kpis["success_rate"] = round(succeeded / (succeeded + failed), 3)
    chart = {str(row.agent): float(row.requests) for row in grouped.itertuples()}
    return ReportTable(*_table(grouped), kpis, chart, "requests")


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


REPORTS: dict[str, Report] = {
    report.key: report
    for report in (
        Report(
            "vendor_spend",
            "Vendor spend",
            "sap",
            _words(r"vendor spend", r"spend", r"suppliers?", r"invoices?"),
            vendor_spend,
            "SAP supplier invoices posted in the period, by supplier",
        ),
        Report(
            "ticket_volume",
            "Ticket volume",
            "servicenow",
            _words(r"tickets?", r"incidents?", r"backlog", r"time to resolve", r"mttr", r"resolution time"),
            ticket_volume,
            "ServiceNow incidents opened in the period, by assignment group",
        ),
        Report(
            "request_volume",
            "EAS request volume",
            "store",
            _words(
                r"request volume",
                r"requests (?:handled|received|processed)",
                r"eas",
                r"automations?",
                r"workflows?",
                r"success rate",
            ),
            request_volume,
            "requests EAS received in the period, by agent",
        ),
    )
}
"""The reports there are, in the order a request's words are tried against them."""


def available() -> str:
    """The reports on offer, for a refusal: "vendor spend (SAP ...), ..."."""
    return "; ".join(f"{r.title.lower()} ({r.description})" for r in REPORTS.values())


def report_for(names: Iterable[str], text: str) -> Report | None:
    """The report that the named reports/metrics, else the request's text, ask for; None if none.

    The names (entities) decide when one of them matches; the text is only read when none names a
    known report, since a sentence also carries words about delivery ("send it to #support").
    """
    named = [str(name) for name in names if name]
    for candidates in (named, [text]) if named else ([text],):
        for candidate in candidates:
            for report in REPORTS.values():
                if report.words.search(candidate):
                    return report
        if named:  # a report was named and it is none of ours: do not guess from the rest
            return None
    return None


@dataclass(frozen=True)
class Kpi:
    """One headline number of a report: which report computes it and under which KPI key."""

    report: str
    key: str
    title: str
    unit: str
    words: re.Pattern[str]


KPIS: tuple[Kpi, ...] = (
    Kpi("ticket_volume", "mean_hours_to_resolve", "Mean time to resolve", "hours",
        _words(r"mean time to resolve", r"mttr", r"time to resolve", r"resolution time")),
    Kpi("ticket_volume", "backlog", "Ticket backlog", "open incidents",
        _words(r"backlog", r"open tickets", r"open incidents")),
    Kpi("ticket_volume", "opened", "Tickets opened", "incidents", _words(r"tickets?", r"incidents?")),
    Kpi("request_volume", "success_rate", "Request success rate", "", _words(r"success rate")),
    Kpi("request_volume", "requests", "Requests handled", "requests",
        _words(r"request volume", r"requests (?:handled|received|processed)", r"how many requests",
               r"automations?", r"workflows?")),
    Kpi("vendor_spend", "spend", "Vendor spend", "",
        _words(r"vendor spend", r"spend", r"invoices?")),
)  # fmt: skip
"""The KPIs a question may ask for, most specific first ("time to resolve" before "tickets")."""


def kpi_for(names: Iterable[str], text: str) -> Kpi | None:
    """The KPI the ``metric`` entities, else the text, name; None when it is none of :data:`KPIS`."""
    named = [str(name) for name in names if name]
    for candidate in named or [text]:
        for kpi in KPIS:
            if kpi.words.search(candidate):
                return kpi
    return None


def kpi_values(kpi: Kpi, table: ReportTable) -> dict[str, float | int]:
    """The KPI's value(s) in a computed report: spend is one value per currency."""
    if kpi.key == "spend":
        return {k.removeprefix("spend_"): v for k, v in table.kpis.items() if k.startswith("spend_")}
    return {kpi.key: table.kpis[kpi.key]} if kpi.key in table.kpis else {}


def change(current: float | int, previous: float | int | None) -> str:
    """ "+12.5% vs the previous period", "unchanged", or "" when there is nothing to compare with."""
    if previous is None:
        return ""
    if previous == 0:
        return "" if current == 0 else "up from 0 in the previous period"
    delta = (current - previous) / abs(previous) * 100
    if abs(delta) < 0.05:
        return "unchanged from the previous period"
    return f"{delta:+.1f}% vs the previous period ({previous:g})"
