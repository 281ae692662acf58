"""The code location's tests run their workflows' connectors against the vendors' emulators."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def connector_environment(sandbox_session):
    """Every test here sees the emulators' connector settings in the environment (see ``sandbox_session``)."""
    return sandbox_session.env
