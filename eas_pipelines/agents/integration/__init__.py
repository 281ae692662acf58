"""Integration agent: records moved between systems and files converted between formats, with a report.

Rules in :mod:`.plan` (what the request asks for) and :mod:`.records` (records through the
transformation layer :mod:`eas_pipelines.transform`), the report in :mod:`.report`, the workflows
in :mod:`.jobs`.
"""

from eas_pipelines.agents.integration.jobs import integration_data_sync, integration_data_transform

__all__ = ["integration_data_sync", "integration_data_transform"]
