"""Fixtures of the fast-lane and worker tests (see tests/eas_pipelines/lane_support.py)."""

from tests.eas_pipelines.lane_support import (  # noqa: F401 - re-exported fixtures
    dagster_home,
    dagster_instance,
    lane_env,
    make_request,
    queue,
)
