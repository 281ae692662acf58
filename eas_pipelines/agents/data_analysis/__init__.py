"""Data analysis agent: reports and KPIs as monthly assets, and on request."""

from eas_pipelines.agents.data_analysis.jobs import data_analysis_kpi, data_analysis_report

__all__ = ["data_analysis_kpi", "data_analysis_report"]
