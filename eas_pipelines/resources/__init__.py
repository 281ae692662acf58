"""Dagster resources: the request store, the fast lane, policy numbers, and the circuit breakers
(:mod:`.circuit`, shared in Redis) that every enterprise connector (``eas_pipelines.connectors``) uses.
"""

from eas_pipelines.resources.lanes import FastLaneResource
from eas_pipelines.resources.policy import WorkflowPolicyResource
from eas_pipelines.resources.store import RequestStoreResource

__all__ = [
    "FastLaneResource",
    "RequestStoreResource",
    "WorkflowPolicyResource",
]
