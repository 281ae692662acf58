"""Fixtures of the observability tests: the lane tests' (a queue on its own prefix, a Dagster instance,
the lane jobs' environment) and the gateway tests' (a real NLP service, gateway apps)."""

from tests.eas_pipelines.gateway.conftest import (  # noqa: F401 - re-exported fixtures
    build_gateway_app,
    gateway_settings,
    make_gateway,
    nlp_parser,
    nlp_server,
)
from tests.eas_pipelines.lane_support import *  # noqa: F403 - its fixtures (its __all__)
