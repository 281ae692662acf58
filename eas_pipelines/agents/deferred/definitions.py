"""The deferred-work part of the code location: the sensor that queues due work (a shared part, no agent)."""

import dagster as dg

from eas_pipelines.agents.deferred.work import deferred_work_sensor

CONNECTORS: dict[str, type[dg.ConfigurableResource]] = {}
"""No connector of its own: the store and the fast lane are every job's."""

defs = dg.Definitions(jobs=[], sensors=[deferred_work_sensor])
