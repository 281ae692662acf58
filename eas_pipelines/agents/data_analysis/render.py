"""A computed report made presentable: a PNG bar chart (matplotlib, Agg), a CSV, a Markdown table.

The chart is drawn on a bare :class:`~matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``: pyplot keeps global state and picks a GUI backend, neither of which belongs in a worker
that renders reports from several threads. The Markdown (table and chart embedded as a data URI) is
what the asset's metadata shows in the Dagster UI; the CSV is what goes to S3 next to the PNG.
"""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dagster as dg
import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import NullLocator
from PIL import Image

from eas_pipelines.agents.data_analysis.periods import Period
from eas_pipelines.agents.data_analysis.reports import Report, ReportTable

MAX_BARS = 15
"""Bars a chart shows at most (the largest; the table has every row)."""
LABEL_CHARS = 40
"""Characters a bar's label shows at most (a longer one ends in an ellipsis; the table has it whole)."""
CHART_WIDTH_IN, CHART_DPI = 8.0, 100
PNG_COLOURS, PNG_COMPRESS_LEVEL = 64, 1
"""The PNG is written with a palette of 64 colours (a chart has a few flat colours and the
anti-aliasing between them; it looks the same) at zlib level 1: 18 KB written in 7 ms, against 61 KB
in 11 ms as RGBA at level 1 and 65 KB in 19 ms at level 6. The chart travels base64-encoded in every
materialisation's metadata, so its size is paid again in the event log."""
CHART_TEXT = {"text.hinting": "none", "text.hinting_factor": 1}
_CHARTS_DRAWN_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class RenderedReport:
    """One report for one period, ready to show, store and send.

    Its chart is drawn when first asked for (``png``) and kept: a chart is most of a report's
    cost, and a request's months are drawn only where they are shown (the materialisations of
    months inside the asset's partitions), the period's only where it is stored. The drawn PNG
    travels with the report from op to op (pickled with it), so nothing is drawn twice.
    """

    report: str
    title: str
    period: Period
    table: ReportTable
    csv: bytes

    @property
    def heading(self) -> str:
        return f"{self.title}, {self.period.label}"

    @cached_property
    def png(self) -> bytes:
        return chart_png(self.table, self.heading)


def chart_png(table: ReportTable, heading: str) -> bytes:
    """A horizontal bar chart of the report's series (largest on top, each bar labelled with its
    value), as PNG bytes.

    Drawn once, with nothing left for matplotlib to lay out by measuring the drawing: the left
    margin comes from the widest label (labels past :data:`LABEL_CHARS` are shortened), the title
    and the axis label sit at fixed places, and the x axis has no ticks (every bar carries its
    value). Glyphs are rendered unhinted (:data:`CHART_TEXT`). ``tight_layout``, the title's
    automatic placement, a second draw inside ``savefig`` and hinting made a chart cost twice as
    much (BENCHMARKS.md). ``rcParams`` are process-wide, so charts are drawn one at a time.
    """
    with _CHARTS_DRAWN_ONE_AT_A_TIME, matplotlib.rc_context(CHART_TEXT):
        return _draw_chart(table, heading)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"


def _draw_chart(table: ReportTable, heading: str) -> bytes:
    items = sorted(table.chart.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_BARS]
    width, height = CHART_WIDTH_IN, 1.2 + 0.4 * max(len(items), 1)
    figure = Figure(figsize=(width, height), dpi=CHART_DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    widest = 0.0
    if items:
        labels = [_short(label) for label, _value in reversed(items)]
        values = [value for _label, value in reversed(items)]
        positions = range(len(items))  # by position, so two labels shortened alike stay two bars
        bars = axes.barh(positions, values, color="#2f6db5")
        axes.set_yticks(positions, labels)
        axes.bar_label(
            bars, fmt="{:,.2f}".format if any(v % 1 for v in values) else "{:,.0f}".format, padding=3
        )
        axes.margins(x=0.15)
        font = axes.yaxis.get_ticklabels()[0].get_fontproperties()
        widest = max(_text_width(canvas, label, font) for label in labels)
    else:
        axes.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    axes.xaxis.set_major_locator(NullLocator())
    axes.set_title(heading, y=1.0, pad=8)
    axes.set_xlabel(table.chart_label)
    axes.xaxis.set_label_coords(0.5, -0.2 / (height - 1.2), transform=axes.transAxes)
    axes.spines[["top", "right"]].set_visible(False)
    left = (widest + 16) / (width * CHART_DPI)  # the labels, the tick marks and a few pixels
    figure.subplots_adjust(left=left, right=0.97, top=1 - 0.6 / height, bottom=0.6 / height)
    canvas.draw()
    buffer = io.BytesIO()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(PNG_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette.save(buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _text_width(canvas: FigureCanvasAgg, text: str, font: FontProperties) -> float:
    """Pixels ``text`` takes in ``font``, measured without drawing anything."""
    width, _height, _descent = canvas.get_renderer().get_text_width_height_descent(text, font, ismath=False)
    return width


def render(report: Report, period: Period, table: ReportTable) -> RenderedReport:
    csv = table.frame().to_csv(index=False).encode()
    return RenderedReport(report.key, report.title, period, table, csv)


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
