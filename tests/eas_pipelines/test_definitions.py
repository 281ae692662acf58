"""The code location loads: one Definitions with every job, sensor, schedule and resource."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from eas_pipelines.agents.common import RETRY_POLICY
from eas_pipelines.definitions import defs
from eas_pipelines.routing import JOBS

ROOT = Path(__file__).parents[2]


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    for name in JOBS:
        job = defs.get_job_def(name)
        assert job.executor_def.name == "in_process"
        assert job.graph.node_defs[0].name == "start_request"
        # One retry policy per workflow, set on the job: no op carries (or forgets) its own.
        assert job.op_retry_policy == RETRY_POLICY
        assert [node.name for node in job.graph.nodes if node.definition.retry_policy is not None] == []
    assert {s.name for s in defs.sensors} == {
        "standard_lane_sensor",
        "approval_resume_sensor",
        "request_failure_sensor",
        "stranded_request_sensor",
        "run_trace_sensor",
        "deferred_work_sensor",  # agents/deferred: scheduled work queued when due
    }
    schedules = {s.name: s for s in defs.schedules}
    assert "approval_escalation_schedule" in schedules
    for name in schedules:  # each agent's schedules start a job of this code location
        schedule = defs.resolve_schedule_def(name)
        assert defs.resolve_job_def(schedule.job_name).name == schedule.job_name, name
    for sensor in defs.sensors:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    by_name = {s.name: s for s in defs.sensors}
    assert (
        by_name["standard_lane_sensor"].minimum_interval_seconds <= 5
    )  # ticks on every loop of the sensor daemon
    assert 30 <= by_name["stranded_request_sensor"].minimum_interval_seconds <= 60


def test_every_required_resource_is_provided():
    provided = {*defs.resources, "io_manager"}  # Dagster provides a default io_manager
    for name in (*JOBS, "approval_escalation_job"):
        assert defs.get_job_def(name).required_resource_keys <= provided, name


def test_workspace_points_at_the_definitions():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    assert location["python_module"]["module_name"] == "eas_pipelines.definitions"


def test_dagster_yaml_builds_a_postgres_instance_with_the_queued_coordinator(
    postgres_database_factory, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("EAS_DAGSTER_PG_URL", postgres_database_factory())
    instance = dg.DagsterInstance.get()
    try:
        from dagster_postgres.run_storage import PostgresRunStorage

        assert isinstance(instance.run_storage, PostgresRunStorage)  # eas_pipelines.dagster_storage's
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert (
            type(instance.run_launcher).__name__ == "WarmRunLauncher"
        )  # DefaultRunLauncher when no run server
        limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
        assert limits == [{"key": "eas/agent", "value": {"applyLimitPerUniqueValue": True}, "limit": 3}]
        assert instance.get_runs() == []
    finally:
        instance.dispose()
