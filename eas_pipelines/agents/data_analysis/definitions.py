"""The data analysis agent's part of the code location: report assets, their schedule, its jobs.

- Assets ``data_analysis/vendor_spend`` (SAP supplier invoices), ``data_analysis/ticket_volume``
  (ServiceNow incidents) and ``data_analysis/request_volume`` (EAS's own requests), partitioned by
  month, each with its chart and table in the materialisation's metadata; materialised by
  ``data_analysis_monthly_reports_schedule`` on the 1st for the month that ended.
- ``data_analysis_report`` (``data_analysis.report_request``): the asked report for the asked period,
  recorded on its asset, stored in S3 (PNG and CSV), sent to the asked channel or person.
- ``data_analysis_kpi`` (``data_analysis.kpi_query``): one KPI, compared with the period before.
"""

import dagster as dg

from eas_pipelines.agents.data_analysis.assets import REPORT_ASSETS, monthly_reports_schedule
from eas_pipelines.agents.data_analysis.jobs import data_analysis_kpi, data_analysis_report
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource

CONNECTORS = {
    "sap": SapResource,
    "servicenow": ServiceNowResource,
    "s3": S3ConnectorResource,
    "notifications": NotificationsResource,
}
"""Resource key -> connector class; ``eas_pipelines.definitions`` configures each one once (the
request store, ``store``, is a resource every job already has)."""


def warm() -> None:
    """Draw one chart and write one CSV before the first run: matplotlib's first drawing in a process
    loads its fonts and builds the renderer's caches, a few hundred ms that the first report's
    chart paid (BENCHMARKS.md). Called by the processes that serve runs (the warm
    run server, whose runs fork with it done; the fast-lane workers)."""
    from eas_pipelines.agents.data_analysis.render import chart_png
    from eas_pipelines.agents.data_analysis.reports import ReportTable

    table = ReportTable(("item", "amount"), (("a", 1.5),), {"items": 1}, {"a": 1.5}, "amount")
    table.frame().to_csv(index=False)
    chart_png(table, "warm-up")


# The schedule brings its asset job (data_analysis_monthly_reports); it stays out of ``jobs``, which
# lists the request workflows that the lanes launch and the failure sensor watches (AGENT_JOBS).
defs = dg.Definitions(
    assets=REPORT_ASSETS,
    jobs=[data_analysis_report, data_analysis_kpi],
    schedules=[monthly_reports_schedule],
)
