"""Documents agent workflows: reading documents (text, OCR, invoice fields) and generating them."""

from eas_pipelines.agents.documents.jobs import documents_extract, documents_generate

__all__ = ["documents_extract", "documents_generate"]
