"""The agents: one folder each, exposed as its own ``dg.Definitions``.

An agent's folder holds its rules (plain functions), its workflow steps and jobs (``jobs.py``,
built with :func:`~eas_pipelines.agents.common.workflow_job`) and ``definitions.py``: ``defs``
(its jobs, schedules, sensors) and ``CONNECTORS`` (the resource keys it needs). ``common`` holds
what every workflow shares (claiming and completing the request, the step and job factories,
refusals, the approval gate); ``approvals`` the escalation of overdue approvals. Which intents a job
serves is :mod:`eas_pipelines.routing`; how a run is configured and tagged, :mod:`eas_pipelines.runs`.

Adding an agent: its folder, its routes' ``job`` in the routing table, and one line in
:data:`AGENTS`. :mod:`eas_pipelines.definitions` merges them all.
"""

from types import ModuleType

import dagster as dg

from eas_pipelines.agents.approvals import definitions as approvals
from eas_pipelines.agents.approvals import workflows as approval_workflows
from eas_pipelines.agents.audit import definitions as audit
from eas_pipelines.agents.communication import definitions as communication
from eas_pipelines.agents.customer_service import customer_service_ticket_routing
from eas_pipelines.agents.customer_service import definitions as customer_service
from eas_pipelines.agents.data_analysis import definitions as data_analysis
from eas_pipelines.agents.deferred import definitions as deferred
from eas_pipelines.agents.documents import definitions as documents
from eas_pipelines.agents.finance import definitions as finance
from eas_pipelines.agents.finance import finance_invoice_processing
from eas_pipelines.agents.hr import definitions as hr
from eas_pipelines.agents.hr import hr_leave_request
from eas_pipelines.agents.integration import definitions as integration
from eas_pipelines.agents.learning import definitions as learning
from eas_pipelines.agents.monitoring import definitions as monitoring
from eas_pipelines.agents.operations import definitions as operations
from eas_pipelines.agents.recovery import definitions as recovery
from eas_pipelines.agents.recovery import saga_definitions as recovery_saga
from eas_pipelines.agents.scheduling import definitions as scheduling
from eas_pipelines.agents.security import definitions as security

AGENTS: tuple[ModuleType, ...] = (
    finance,
    hr,
    customer_service,
    documents,
    communication,
    scheduling,
    security,
    data_analysis,
    operations,
    monitoring,
    integration,
    approval_workflows,
    audit,
    recovery,
    learning,
)
"""Each agent's ``definitions`` module (``defs``, ``CONNECTORS``): the one list of agents."""

SHARED: tuple[ModuleType, ...] = (approvals, recovery_saga, deferred)
"""Parts every agent shares that are not a workflow (the approval escalation, the failed-run saga,
the sensor that queues deferred work when it is due)."""

AGENT_DEFS: tuple[dg.Definitions, ...] = tuple(part.defs for part in (*AGENTS, *SHARED))

AGENT_JOBS: tuple[dg.JobDefinition, ...] = tuple(job for agent in AGENTS for job in agent.defs.jobs or ())
"""The workflow jobs (what the lanes launch and the failure sensor recovers)."""


def warm_agents() -> None:
    """Run each agent's optional ``warm()`` (in its ``definitions`` module): the first-use costs of a
    process (a library's caches, not connections) that a process serving many runs pays once, before
    its first run, instead of inside a step."""
    for agent in AGENTS:
        warm = getattr(agent, "warm", None)
        if callable(warm):
            warm()


__all__ = [
    "AGENTS",
    "AGENT_DEFS",
    "AGENT_JOBS",
    "SHARED",
    "warm_agents",
    "customer_service_ticket_routing",
    "finance_invoice_processing",
    "hr_leave_request",
]
