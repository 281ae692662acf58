"""Templates for the data analysis agent: reports and KPI questions."""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "data_analysis.report_request": (
        "(generate|run|pull) the {report_name} (for {period}|)",
        "send me the {report_name}",
        "I need the {report_name} for {department}",
        "can I get the {report_name} (for {period}|) by {date}",
        "email the {report_name} to {email}",
        "build a report on {metric} (for {period}|by department)",
        "(please|) prepare the {report_name} for {location}",
        "where's the {report_name} for {period}",
        "run {report_name}",
        "report request: {report_name}, {period}, {department}",
        "schedule the {report_name} (weekly|every monday|monthly) to {email}",
        "export the {report_name} as (a PDF|a spreadsheet|CSV)",
        "could you put together {a} {metric} report (for {period}|)",
        "refresh the {report_name} with {period} numbers",
        "share the latest {report_name} in {channel}",
        "I'd like a breakdown of {metric} by region for {period}, as a report",
    ),
    "data_analysis.kpi_query": (
        "what (was|is) our {metric} (for {period}|{period})",
        "show me {metric} (by region|for {location})",
        "how did {metric} trend over {period}",
        "{metric} for {period}",
        "what's the current {metric}",
        "compare {metric} between {period} and {period}",
        "give me {metric} in {currency} for {period}",
        "what was the {metric} of {department} for {period}",
        "is {metric} up or down (vs|compared to) {period}",
        "KPI: {metric}, {period}",
        "tell me our {metric} (number|figure) for {period}",
        "how are we doing on {metric} (this quarter|so far)",
        "what's {metric} at {location} (for {period}|)",
        "did we hit our {metric} target (for {period}|)",
        "{metric} (vs|versus) target for {period} in {currency}",
        "quick number: {metric}, {department}, {period}",
        "show {metric} for {period} converted to {currency}",
    ),
}
