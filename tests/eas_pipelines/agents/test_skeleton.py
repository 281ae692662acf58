"""The shape every agent shares: one folder exposing its ``Definitions``, jobs built from one skeleton."""

from __future__ import annotations

import pytest

from eas_pipelines.agents import AGENT_JOBS, AGENTS, SHARED
from eas_pipelines.agents.common import (
    RETRY_POLICY,
    Step,
    WorkItem,
    WorkResult,
    settling_step,
    workflow_job,
    workflow_step,
)
from eas_pipelines.definitions import defs
from eas_pipelines.routing import JOBS
from eas_pipelines.runs import TAG_AGENT

SHARED_KEYS = {"store", "fast_lane", "policy", "io_manager"}  # configured by eas_pipelines.definitions


def test_every_routed_job_is_an_agents_job():
    assert sorted(job.name for job in AGENT_JOBS) == sorted(JOBS)


@pytest.mark.parametrize("part", [*AGENTS, *SHARED], ids=lambda part: part.__name__)
def test_an_agent_names_the_connectors_its_jobs_need(part):
    for job in part.defs.jobs:
        assert job.required_resource_keys <= SHARED_KEYS | set(part.CONNECTORS), job.name
        assert defs.get_job_def(job.name) is not None


def test_a_workflow_whose_last_step_hands_on_the_result_completes_the_request_in_that_step():
    """One op fewer per run: no ``complete_request`` after a step that hands on the WorkResult."""

    @workflow_step(WorkItem)
    def check(item: WorkItem) -> Step:
        """Check."""
        return Step.passed(item, "checked")

    @workflow_step(WorkResult, optional=False)
    def finish(item: WorkItem) -> Step:
        """Finish."""
        return Step.passed(WorkResult(item, "done"), "finished")

    job = workflow_job(name="settles_job", agent="example", description="An example.", steps=(check, finish))
    nodes = [node.name for node in job.graph.nodes_in_topological_order]
    assert nodes == ["start_request", "check", "finish"]
    settling = job.graph.node_named("finish").definition
    assert settling is not finish and settling is settling_step(finish), "built once, reused by every job"
    assert settling.name == finish.name and settling.description == finish.description
    assert settling_step(check) is None, "only a step that hands on the WorkResult can complete the request"
    again = workflow_job(name="settles_too", agent="example", description="Again.", steps=(finish,))
    assert again.graph.node_named("finish").definition is settling


def test_a_workflow_is_start_steps_complete_with_the_agents_tag_and_retry_policy():
    @workflow_step(WorkItem, optional=False)
    def look(item: WorkItem) -> Step:
        """Look."""
        return Step.passed(item, "looked")

    job = workflow_job(name="example_job", agent="example", description="An example.", steps=(look,))
    assert [node.name for node in job.graph.nodes_in_topological_order] == [
        "start_request",
        "look",
        "complete_request",
    ]
    assert job.tags[TAG_AGENT] == "example"
    assert job.op_retry_policy == RETRY_POLICY
    assert job.graph.node_named("look").definition.description == "Look."
    assert job.graph.node_named("look").definition.required_resource_keys == {
        "store",
        "notifications",
        "policy",
    }
