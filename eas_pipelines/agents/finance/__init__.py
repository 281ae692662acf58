"""Finance agent workflows."""

from eas_pipelines.agents.finance.jobs import finance_invoice_processing

__all__ = ["finance_invoice_processing"]
