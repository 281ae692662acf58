"""Fixtures of the Dagster code location's tests (see tests/eas_pipelines/dagster_support.py)."""

from tests.eas_pipelines.dagster_support import (  # noqa: F401 - re-exported fixtures
    dagster_instance,
    eas_resources,
    store,
)
