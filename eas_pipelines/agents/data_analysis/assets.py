"""The reports as monthly partitioned Dagster assets, and the schedule that materialises them.

One asset per report (:data:`.reports.REPORTS`), key ``data_analysis/<report>``, one partition per
calendar month: the month's report computed from the system's records, its chart and table in the
materialisation's metadata so that the Catalog shows them. Nothing is stored by an IO manager: the
report is its metadata (and, when someone asks for it, the PNG/CSV the request job puts in S3).

The on-request job (:mod:`.jobs`) computes with the same functions and records materialisations of
these keys for the months a request covers, so the Catalog also shows what was sent.
"""

import dagster as dg

from eas_pipelines.agents.data_analysis.periods import MONTHLY, Period
from eas_pipelines.agents.data_analysis.render import metadata, render
from eas_pipelines.agents.data_analysis.reports import REPORTS, Report
from eas_pipelines.agents.data_analysis.sources import loader
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.resources.store import RequestStoreResource

GROUP = "data_analysis"
SYSTEM_KIND = {"sap": "sap", "servicenow": "servicenow", "store": "postgres"}


def asset_key(report: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, report])


def _report_asset(report: Report) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key(report.key),
        partitions_def=MONTHLY,
        group_name=GROUP,
        kinds={"pandas", SYSTEM_KIND[report.source]},
        description=f"{report.title}: {report.description} (monthly).",
    )
    def monthly_report(
        context: dg.AssetExecutionContext,
        sap: SapResource,
        servicenow: ServiceNowResource,
        store: RequestStoreResource,
    ) -> dg.MaterializeResult:
        period = Period.of_window(context.partition_time_window)
        frame = loader(report.source, sap=sap, servicenow=servicenow, store=store)(period)
        rendered = render(report, period, report.build(frame))
        context.log.info(f"{rendered.heading}: {len(rendered.table.rows)} rows")
        return dg.MaterializeResult(metadata=metadata(rendered))

    return monthly_report


REPORT_ASSETS: list[dg.AssetsDefinition] = [_report_asset(report) for report in REPORTS.values()]

monthly_reports_job = dg.define_asset_job(
    "data_analysis_monthly_reports",
    selection=dg.AssetSelection.assets(*REPORT_ASSETS),
    description="Materialise every report asset for one month (partitioned as the assets are).",
)

monthly_reports_schedule = dg.build_schedule_from_partitioned_job(
    monthly_reports_job,
    hour_of_day=6,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 1st at 06:00 UTC: last month's reports.",
)
"""Monthly: each run materialises the month that just ended (the last complete partition)."""
