"""Warm resources: a worker initializes the code location's resources once, not once per run.

Why: Dagster initializes a job's resources at the start of every run. For a ``ConfigurableResource``
that means resolving its ``dg.EnvVar`` settings and nested resources and rebuilding it, config
schema included: on the fast lane that was a sixth of a worker's CPU per run (BENCHMARKS.md), for
values that do not change while the worker lives. A warm worker builds each resource once
(``dg.build_resources``, which runs ``setup_for_execution``) and binds the built instances to its
copies of the jobs, so a run starts with them ready; their connector clients then live as long as
the worker, keeping their connections, tokens and look-ups between runs, like a warm pool should
(clients renew expired tokens themselves; business data they cache is bounded in time).

Only ``ConfigurableResource`` instances are warmed; anything else (the IO manager, which
``execute_in_process`` swaps for an in-memory one) is left to Dagster. A resource that cannot be
built here (a setting missing) leaves its job as it was: every run then builds it, and fails with
Dagster's own message if it cannot. Torn down when the worker closes.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

import dagster as dg

log = logging.getLogger(__name__)


def _is_configurable_resource(definition: dg.ResourceDefinition) -> bool:
    """Whether a job's resource is a ``ConfigurableResource`` (bound as the definition Dagster
    makes of it), and not an IO manager."""
    resource_cls = getattr(definition, "configurable_resource_cls", None)
    return (
        isinstance(resource_cls, type)
        and issubclass(resource_cls, dg.ConfigurableResource)
        and not isinstance(definition, dg.IOManagerDefinition)
    )


class WarmResources:
    """The worker's built resources, shared by every job that names the same resource definition."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._built: dict[int, dg.ResourceDefinition] = {}
        self._jobs: dict[str, dg.JobDefinition] = {}

    def job(self, job: dg.JobDefinition) -> dg.JobDefinition:
        """``job`` with its configurable resources built once (the job itself if they cannot be)."""
        warm = self._jobs.get(job.name)
        if warm is None:
            warm = self._jobs[job.name] = self._warm(job)
        return warm

    def _warm(self, job: dg.JobDefinition) -> dg.JobDefinition:
        cold = {
            key: definition
            for key, definition in job.resource_defs.items()
            if _is_configurable_resource(definition) and id(definition) not in self._built
        }
        if cold:
            try:
                built = self._stack.enter_context(dg.build_resources(cold))
            except Exception as exc:  # noqa: BLE001 - the run will build them, and report why not
                log.warning("job %s keeps building its resources per run: %s", job.name, exc)
                return job
            for key, definition in cold.items():
                self._built[id(definition)] = dg.ResourceDefinition.hardcoded_resource(getattr(built, key))
        warm = {
            key: self._built[id(definition)]
            for key, definition in job.resource_defs.items()
            if id(definition) in self._built
        }
        return job.with_top_level_resources({**job.resource_defs, **warm})

    def close(self) -> None:
        """Tear the built resources down (their clients closed)."""
        self._jobs.clear()
        self._built.clear()
        self._stack.close()
