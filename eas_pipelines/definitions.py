"""The EAS Dagster code location: every job, sensor, schedule and resource in one ``Definitions``.

Each agent brings its own ``Definitions`` (``eas_pipelines/agents/<agent>/definitions.py``, listed
in :data:`eas_pipelines.agents.AGENTS`); they are merged here with what drives them: the shared
resources (configured once, for every connector key an agent names) and the sensors.

Loaded by ``workspace.yaml`` (``python_module: eas_pipelines.definitions``), by the fast-lane
workers (``defs.get_job_def(name)``) and by the tests.

Configuration comes from the environment: ``EAS_DATABASE_URL`` and ``EAS_REDIS_URL`` through
``dg.EnvVar`` (read when a run or tick builds its resources, so loading the definitions needs
neither), the policy numbers (``EAS_APPROVAL_AMOUNT_THRESHOLD``, ``EAS_MAX_ATTEMPTS``...) from the
validated settings (:func:`~eas_pipelines.settings.load_settings`) when this module is imported: a
bad value stops the code location from loading, naming the variable.

Jobs run with the in-process executor: a workflow is a short chain of I/O-bound ops, and starting
one process per op (the multiprocess default) would cost more than the work on a 2-core machine;
it is also how the fast-lane workers run them.

Jobs log through :func:`~eas_pipelines.pii.dagster_logger.masked_console_logger` by default (under
Dagster's own ``"console"`` key): what an op logs with ``context.log`` is PII-masked on the console.
"""

import dagster as dg

from eas_pipelines.agents import AGENT_DEFS, AGENTS, SHARED
from eas_pipelines.observability.tracing import setup_tracing
from eas_pipelines.pii.dagster_logger import masked_console_logger
from eas_pipelines.resources import FastLaneResource, RequestStoreResource, WorkflowPolicyResource
from eas_pipelines.sensors import (
    approval_resume_sensor,
    request_failure_sensor,
    run_trace_sensor,
    standard_lane_sensor,
    stranded_request_sensor,
)

# Every process that loads the code location (a standard-lane run, the daemon's sensors) traces as the
# OTEL_* variables say; a process that set tracing up first (a worker) keeps its own.
setup_tracing("eas-dagster")

DATABASE_URL = dg.EnvVar("EAS_DATABASE_URL")
REDIS_URL = dg.EnvVar("EAS_REDIS_URL")

CONNECTORS: dict[str, type[dg.ConfigurableResource]] = {
    key: connector for part in (*AGENTS, *SHARED) for key, connector in part.CONNECTORS.items()
}
"""Every connector an agent names (resource key -> class), each configured once."""


def build_resources(
    database_url: str | dg.EnvVar = DATABASE_URL,
    redis_url: str | dg.EnvVar = REDIS_URL,
    policy: WorkflowPolicyResource | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """The resources every job and sensor uses, keyed as the ops and sensors name them.

    The defaults read the environment; tests and the fast-lane worker may pass URLs instead.
    """
    resources: dict[str, dg.ConfigurableResource] = {
        "store": RequestStoreResource(database_url=database_url),
        "fast_lane": FastLaneResource(redis_url=redis_url),
        "policy": policy or WorkflowPolicyResource.from_settings(),
    }
    for key, connector in CONNECTORS.items():
        if hasattr(connector, "from_env"):  # a vendor connector: its settings come from EAS_<SYSTEM>_*
            resources[key] = connector.from_env(redis_url)
        else:  # a sandbox-table connector, until the agents have moved to the vendor connectors
            resources[key] = connector(database_url=database_url, redis_url=redis_url)
    return resources


defs = dg.Definitions.merge(
    *AGENT_DEFS,
    dg.Definitions(
        sensors=[
            standard_lane_sensor,
            approval_resume_sensor,
            request_failure_sensor,
            stranded_request_sensor,
            run_trace_sensor,
        ],
        resources=build_resources(),
        executor=dg.in_process_executor,
        loggers={"console": masked_console_logger},
    ),
)
