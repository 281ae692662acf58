"""The data analysis agent's workflows: a report on request, and a KPI question answered.

``data_analysis_report`` ("Send the Q3 vendor spend report to #finance"):
plan (which report, period, recipients) -> compute it with the assets' functions (the whole period,
and each calendar month inside it) -> record materialisations of the report's asset for those
months, so the Catalog shows what was computed -> store the PNG chart and the CSV table in S3 ->
send the recipients the headline numbers, the table and links to both files.

``data_analysis_kpi`` ("what was our mean time to resolve last quarter?"): plan (which KPI, period)
-> compute it for the period and the one before -> answer the requester (and any channel named).

No approval: the routes' policy is ``never`` (reports are read-only). A report or KPI EAS has no data
for, or a period that cannot be read, is refused with the reason and what is on offer. A system that
refuses the read (other than for EAS's own credentials) refuses the request; an outage fails the run,
for the op's retries and then the failure sensor.
"""

import os
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg

from eas_pipelines.agents.common import (
    Step,
    WorkItem,
    WorkResult,
    audit,
    workflow_job,
    workflow_step,
)
from eas_pipelines.agents.data_analysis.asked import period_of, recipients_of
from eas_pipelines.agents.data_analysis.assets import asset_key
from eas_pipelines.agents.data_analysis.periods import PARTITIONS_START, Period
from eas_pipelines.agents.data_analysis.render import RenderedReport, kpi_line, metadata, render
from eas_pipelines.agents.data_analysis.reports import (
    KPIS,
    REPORTS,
    Kpi,
    ReportTable,
    available,
    change,
    kpi_for,
    kpi_values,
    report_for,
)
from eas_pipelines.agents.data_analysis.sources import loader, within
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.runs import now_utc

REPORT_JOB = "data_analysis_report"
KPI_JOB = "data_analysis_kpi"
AGENT = "data_analysis"
REPORTS_BUCKET_SETTING = "EAS_REPORTS_BUCKET"
DEFAULT_REPORTS_BUCKET = "eas-reports"
LINK_TTL_S = 7 * 24 * 3600
"""How long the links sent with a report stay valid (S3 presigned GETs: a week, SigV4's maximum)."""
TABLE_LINES = 10
"""Rows of the table written into the message (the CSV has them all)."""
_NOT_ABOUT_THE_REQUEST = frozenset({401, 403})
"""Refusals that are EAS's problem (the integration user's login or rights), not the request's."""


def reports_bucket() -> str:
    """The bucket reports go to (``EAS_REPORTS_BUCKET``, default ``eas-reports``)."""
    return os.environ.get(REPORTS_BUCKET_SETTING) or DEFAULT_REPORTS_BUCKET


def _refusal(system: str, exc: VendorRejected) -> str | None:
    """Why the request cannot be done when ``system`` refused; None when the run should fail."""
    if exc.status in _NOT_ABOUT_THE_REQUEST:
        return None
    return f"{system} refused the read: {exc}"


@dataclass(frozen=True)
class ReportCase:
    """A report request as the workflow carries it from op to op."""

    item: WorkItem
    report: str
    period: Period
    recipients: tuple[str, ...]
    rendered: RenderedReport | None = None
    months: tuple[RenderedReport, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # "png"/"csv" -> s3://bucket/key
    links: dict[str, str] = field(default_factory=dict)  # "png"/"csv" -> presigned URL

    def with_(self, **changes: Any) -> "ReportCase":
        return replace(self, **changes)


# --------------------------------------------------------------------------------------- report job


@workflow_step(ReportCase)
def plan_report(item: WorkItem) -> Step:
    """Which report, for which period, to whom; refused when EAS has no such report."""
    report = report_for([*item.values("report_name"), *item.values("metric")], item.text)
    if report is None:
        named = (item.texts("report_name") + item.texts("metric") + [item.text])[0]
        return Step.refused(f"there is no report for {named!r}; the reports are: {available()}")
    today = now_utc().date()
    asked = period_of(item, Period.previous_month(today), today)
    if asked.period is None:
        return Step.refused(str(asked.problem), report=report.key)
    recipients = tuple(recipients_of(item) or [item.requester])
    case = ReportCase(item, report.key, asked.period, recipients)
    return Step.passed(
        case,
        "report.planned",
        report=report.key,
        period_start=asked.period.start.isoformat(),
        period_end=asked.period.end.isoformat(),
        recipients=list(recipients),
    )


@workflow_step(ReportCase)
def compute_report(
    case: ReportCase,
    *,
    sap: SapResource,
    servicenow: ServiceNowResource,
    store: RequestStoreResource,
) -> Step:
    """The report for the period, and for each calendar month inside it (the asset's partitions; a
    period that is one month is its own). Tables only: charts are drawn where they are shown."""
    report = REPORTS[case.report]
    load = loader(report.source, sap=sap, servicenow=servicenow, store=store)
    try:
        frame = load(case.period)
    except VendorRejected as exc:
        if (reason := _refusal(report.source, exc)) is None:
            raise
        return Step.refused(reason, report=report.key)
    rendered = render(report, case.period, report.build(frame))
    months = [
        rendered
        if month == case.period
        else render(report, month, report.build(within(frame, report.source, month)))
        for month in case.period.months()
    ]
    return Step.passed(
        case.with_(rendered=rendered, months=tuple(months)),
        "report.computed",
        report=report.key,
        rows=len(rendered.table.rows),
        kpis=rendered.table.kpis,
        months=[m.period.partition_key for m in months],
    )


def _partition_of(rendered: RenderedReport) -> str | None:
    """The monthly partition a month's report is (None before the partitions start)."""
    key = rendered.period.partition_key
    return key if key is not None and key >= PARTITIONS_START else None


@dg.op(
    ins={"subject": dg.In(ReportCase)},
    out=dg.Out(ReportCase),
    required_resource_keys={"store"},
)
def record_report_materializations(context: dg.OpExecutionContext, subject: ReportCase) -> ReportCase:
    """Record the computed months as materialisations of the report's asset (the Catalog shows them).

    A period holding no whole month (a week) is recorded once, unpartitioned, with its dates in the
    metadata. Recording again on a retry only adds the same numbers to the asset's history.
    """
    case = subject
    assert case.rendered is not None  # set by compute_report
    key = asset_key(case.report)
    months = [m for m in case.months if _partition_of(m) is not None]
    for rendered in months or [case.rendered]:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                partition=_partition_of(rendered),
                description=f"{rendered.heading}, computed for request {case.item.request_id}",
                metadata={**metadata(rendered), "request_id": case.item.request_id},
            )
        )
    recorded = [m.period.partition_key for m in months]
    audit(
        context.resources.store.get_store(),
        case.item,
        "report.materialized",
        asset_key=key.to_user_string(),
        partitions=recorded,
    )
    return case


@workflow_step(ReportCase)
def store_report(case: ReportCase, *, s3: S3ConnectorResource) -> Step:
    """Put the chart (PNG) and the table (CSV) in the reports bucket, keyed by report, period and request."""
    assert case.rendered is not None
    bucket = reports_bucket()
    stem = f"reports/{case.report}/{case.period.slug}/{case.item.request_id}"
    client = s3.client()
    try:
        client.ensure_bucket(bucket)
        client.put(bucket, f"{stem}.png", case.rendered.png, "image/png")
        client.put(bucket, f"{stem}.csv", case.rendered.csv, "text/csv; charset=utf-8")
    except VendorRejected as exc:
        if exc.status in _NOT_ABOUT_THE_REQUEST:
            raise
        return Step.refused(f"S3 refused to store the report: {exc}", report=case.report)
    files = {kind: f"s3://{bucket}/{stem}.{kind}" for kind in ("png", "csv")}
    links = {
        kind: client.boto.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": f"{stem}.{kind}"}, ExpiresIn=LINK_TTL_S
        )
        for kind in ("png", "csv")
    }
    return Step.passed(case.with_(files=files, links=links), "report.stored", files=files)


def _text_table(table: ReportTable) -> str:
    """The first rows of the table as plain lines ("Acme Corp | EUR | 2 | 1,250.00")."""
    lines = [" | ".join(table.columns)]
    for row in table.rows[:TABLE_LINES]:
        lines.append(
            " | ".join("" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in row)
        )
    if len(table.rows) > TABLE_LINES:
        lines.append(f"... {len(table.rows) - TABLE_LINES} more rows in the CSV")
    return "\n".join(lines)


@workflow_step(WorkResult, optional=False)
def deliver_report(case: ReportCase, *, notifications: NotificationsResource) -> Step:
    """Send each recipient the headline numbers, the table and the links to the chart and the CSV."""
    assert case.rendered is not None
    item = case.item
    table = case.rendered.table
    body = (
        f"{case.rendered.heading}: {kpi_line(table)}.\n\n"
        f"{_text_table(table) if table.rows else 'No records in this period.'}\n\n"
        f"Chart: {case.files['png']}\n{case.links['png']}\n"
        f"Table (CSV): {case.files['csv']}\n{case.links['csv']}"
    )
    for recipient in case.recipients:
        notifications.send(
            recipient,
            f"Report: {case.rendered.heading}",
            body,
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:report:{recipient}"),
            detail={"report": case.report, "files": case.files},
        )
    summary = f"sent the {case.rendered.heading} report to {', '.join(case.recipients)}"
    detail = {"report": case.report, "period": case.period.label, "files": case.files, "kpis": table.kpis}
    return Step.passed(
        WorkResult(item, summary, detail), "report.delivered", recipients=list(case.recipients)
    )


data_analysis_report = workflow_job(
    name=REPORT_JOB,
    agent=AGENT,
    description="Compute a report for a period, record it on its asset, store PNG/CSV in S3, send it.",
    steps=(plan_report, compute_report, record_report_materializations, store_report, deliver_report),
)


# ------------------------------------------------------------------------------------------ KPI job


@dataclass(frozen=True)
class KpiCase:
    item: WorkItem
    kpi: Kpi
    period: Period
    recipients: tuple[str, ...]
    values: dict[str, float | int] = field(default_factory=dict)
    previous: dict[str, float | int] = field(default_factory=dict)
    answer: str = ""


@workflow_step(KpiCase)
def plan_kpi(item: WorkItem) -> Step:
    """Which KPI, for which period (default: this month so far), to whom (the requester first)."""
    kpi = kpi_for(item.values("metric"), item.text)
    if kpi is None:
        named = (item.texts("metric") + [item.text])[0]
        offered = ", ".join(dict.fromkeys(k.title.lower() for k in KPIS))
        return Step.refused(f"there is no KPI for {named!r}; the KPIs are: {offered}")
    today = now_utc().date()
    asked = period_of(item, Period.month_to_date(today), today)
    if asked.period is None:
        return Step.refused(str(asked.problem), kpi=kpi.key)
    recipients = tuple(dict.fromkeys([item.requester, *recipients_of(item)]))
    case = KpiCase(item, kpi, asked.period, recipients)
    return Step.passed(
        case, "kpi.planned", kpi=kpi.key, report=kpi.report, period_start=asked.period.start.isoformat(),
        period_end=asked.period.end.isoformat(),
    )  # fmt: skip


def _answer(case: KpiCase, values: dict[str, float | int], previous: dict[str, float | int]) -> str:
    title, period = case.kpi.title, case.period.label
    if not values:
        return f"{title} for {period}: no data (nothing recorded in that period)."
    parts = []
    for key, value in values.items():
        unit = key if case.kpi.key == "spend" else case.kpi.unit
        shown = f"{value:.1%}" if case.kpi.key == "success_rate" else f"{value:,.2f}".rstrip("0").rstrip(".")
        trend = change(value, previous.get(key))
        parts.append(f"{shown} {unit}".strip() + (f" ({trend})" if trend else ""))
    return f"{title} for {period}: {'; '.join(parts)}."


@workflow_step(KpiCase)
def compute_kpi(
    case: KpiCase,
    *,
    sap: SapResource,
    servicenow: ServiceNowResource,
    store: RequestStoreResource,
) -> Step:
    """The KPI for the period and for the period before it, with the report's own functions."""
    report = REPORTS[case.kpi.report]
    load = loader(report.source, sap=sap, servicenow=servicenow, store=store)
    try:
        values = kpi_values(case.kpi, report.build(load(case.period)))
        previous = kpi_values(case.kpi, report.build(load(case.period.previous())))
    except VendorRejected as exc:
        if (reason := _refusal(report.source, exc)) is None:
            raise
        return Step.refused(reason, kpi=case.kpi.key)
    answer = _answer(case, values, previous)
    return Step.passed(
        replace(case, values=values, previous=previous, answer=answer),
        "kpi.computed",
        kpi=case.kpi.key,
        values=values,
        previous=previous,
    )


@workflow_step(WorkResult, optional=False)
def deliver_kpi(case: KpiCase, *, notifications: NotificationsResource) -> Step:
    """Answer the question: to the requester, and to any channel or person the request named."""
    item = case.item
    for recipient in case.recipients:
        notifications.send(
            recipient,
            f"KPI: {case.kpi.title}, {case.period.label}",
            case.answer,
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:kpi:{recipient}"),
            detail={"kpi": case.kpi.key, "values": case.values},
        )
    detail = {"kpi": case.kpi.key, "period": case.period.label, "values": case.values}
    return Step.passed(
        WorkResult(item, case.answer, detail), "kpi.answered", recipients=list(case.recipients)
    )


data_analysis_kpi = workflow_job(
    name=KPI_JOB,
    agent=AGENT,
    description="Answer a KPI question for a period, compared with the period before.",
    steps=(plan_kpi, compute_kpi, deliver_kpi),
)
