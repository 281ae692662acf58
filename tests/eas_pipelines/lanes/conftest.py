"""Fixtures of the fast-lane and worker tests (see tests/eas_pipelines/lane_support.py)."""

from tests.eas_pipelines.lane_support import *  # noqa: F403 - its fixtures (its __all__)
