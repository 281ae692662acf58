"""``eas``: start EAS, submit and follow requests, decide approvals, run workers."""

from eas_pipelines.cli.main import app

__all__ = ["app"]
