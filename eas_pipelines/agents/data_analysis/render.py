"""A computed report made presentable: a PNG bar chart (matplotlib, Agg), a CSV, a Markdown table.

The chart is drawn on a bare :class:`~matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``: pyplot keeps global state and picks a GUI backend, neither of which belongs in a worker
that renders reports from several threads. The Markdown (table and chart embedded as a data URI) is
what the asset's metadata shows in the Dagster UI; the CSV is what goes to S3 next to the PNG.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import dagster as dg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from eas_pipelines.agents.data_analysis.periods import Period
from eas_pipelines.agents.data_analysis.reports import Report, ReportTable

MAX_BARS = 15
"""Bars a chart shows at most (the largest; the table has every row)."""


@dataclass(frozen=True)
class RenderedReport:
    """One report for one period, ready to show, store and send."""

    report: str
    title: str
    period: Period
    table: ReportTable
    png: bytes
    csv: bytes

    @property
    def heading(self) -> str:
        return f"{self.title}, {self.period.label}"


def chart_png(table: ReportTable, heading: str) -> bytes:
    """A horizontal bar chart of the report's series (largest on top), as PNG bytes."""
    items = sorted(table.chart.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_BARS]
    figure = Figure(figsize=(8, 1.2 + 0.4 * max(len(items), 1)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if items:
        labels, values = zip(*reversed(items), strict=True)
        bars = axes.barh(labels, values, color="#2f6db5")
        axes.bar_label(
            bars, fmt="{:,.2f}".format if any(v % 1 for v in values) else "{:,.0f}".format, padding=3
        )
        axes.margins(x=0.15)
    else:
        axes.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    axes.set_title(heading)
    axes.set_xlabel(table.chart_label)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render(report: Report, period: Period, table: ReportTable) -> RenderedReport:
    heading = f"{report.title}, {period.label}"
    csv = table.frame().to_csv(index=False).encode()
    return RenderedReport(report.key, report.title, period, table, chart_png(table, heading), csv)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|")


def markdown_table(table: ReportTable) -> str:
    if not table.rows:
        return "_no records in this period_"
    lines = [
        "| " + " | ".join(table.columns) + " |",
        "| " + " | ".join("---" for _ in table.columns) + " |",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
    return "\n".join(lines)


def kpi_line(table: ReportTable) -> str:
    """ "invoices 3, suppliers 2, spend_EUR 1,234.50" """
    return ", ".join(f"{key} {_cell(value)}" for key, value in table.kpis.items())


def markdown(rendered: RenderedReport) -> str:
    """The report as the Dagster UI shows it: heading, KPIs, the chart embedded, the table."""
    image = base64.b64encode(rendered.png).decode()
    return (
        f"### {rendered.heading}\n\n{kpi_line(rendered.table)}\n\n"
        f"![{rendered.heading}](data:image/png;base64,{image})\n\n{markdown_table(rendered.table)}\n"
    )


def _column_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    return "string"


def metadata(rendered: RenderedReport) -> dict[str, Any]:
    """The asset materialisation's metadata: the Markdown view, the table, the KPIs, the period."""
    table = rendered.table
    columns = [
        dg.TableColumn(name, _column_type([row[i] for row in table.rows]))
        for i, name in enumerate(table.columns)
    ]
    records = [dg.TableRecord(dict(zip(table.columns, row, strict=True))) for row in table.rows]
    found: dict[str, Any] = {
        "report": dg.MetadataValue.md(markdown(rendered)),
        "table": dg.MetadataValue.table(records, schema=dg.TableSchema(columns=columns)),
        "period_start": rendered.period.start.isoformat(),
        "period_end": rendered.period.end.isoformat(),
        "rows": len(table.rows),
    }
    for key, value in table.kpis.items():
        found[f"kpi/{key}"] = dg.MetadataValue.float(float(value)) if isinstance(value, float) else value
    return found
