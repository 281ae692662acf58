"""The Dagster instance the chart renders (dagster.yaml) and the Kubernetes Jobs its run launcher builds.

The rendered dagster.yaml must load as a Dagster instance config (Dagster's own schema, and each
configurable class's), select dagster-k8s's ``K8sRunLauncher`` and keep the repository's run queue
(priorities by tag, per-agent limits). Then, with no cluster, the launcher is built from that very
config and the Job of a standard-lane run is constructed the way ``K8sRunLauncher`` does it
(container context from the launcher and the run's tags, then ``construct_dagster_k8s_job``), for a
run tagged by :func:`eas_pipelines.runs.run_tags_for` with the agent resources the chart hands the
code location (``EAS_K8S_AGENT_RESOURCES``): its pod must get those resources, the env, the service
account and the security context, and validate as a Kubernetes Job.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator.queued_run_coordinator import QueuedRunCoordinator
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import construct_dagster_k8s_job
from dagster_k8s.job import get_job_name_from_run_id
from dagster_k8s.launcher import K8sRunLauncher

from eas_pipelines.k8s_resources import parse_agent_resources
from eas_pipelines.runs import K8S_AGENT_LABEL, K8S_CONFIG_TAG, run_tags_for
from eas_pipelines.store import Priority, RequestRecord
from tests.deploy.chart import ENVIRONMENTS, RELEASE, Rendered, deep_merge, render
from tests.support.records import queued_record

K8S_VERSION = kubernetes_validate.utils.latest_version()


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(request.param)


def config_of(section: dict[str, Any], schema: Any) -> dict[str, Any]:
    """``section``'s config validated against ``schema`` (a configurable class's), with its defaults."""
    result = validate_config(schema, section.get("config", {}))
    assert result.success, [error.message for error in result.errors]
    return result.value


def test_rendered_dagster_yaml_is_a_valid_instance_config(rendered: Rendered, tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(
        rendered.config_map_data(f"{RELEASE}-dagster-instance")["dagster.yaml"]
    )
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"]["enabled"] is True
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        assert config[storage]["config"]["postgres_url"] == {"env": "EAS_DAGSTER_PG_URL"}
    assert (config["event_log_storage"]["module"], config["event_log_storage"]["class"]) == (
        "eas_pipelines.dagster_storage",
        "EventLogStorage",
    )
    assert (config["run_storage"]["module"], config["run_storage"]["class"]) == (
        "eas_pipelines.dagster_storage",
        "RunStorage",
    )
    assert config["compute_logs"]["class"] == "NoOpComputeLogManager"
    assert config["telemetry"]["enabled"] is False


def test_run_launcher_is_dagster_k8s_with_the_chart_wiring(rendered: Rendered) -> None:
    section = rendered.dagster_instance()["run_launcher"]
    assert (section["module"], section["class"]) == ("dagster_k8s.launcher", "K8sRunLauncher")
    config = config_of(section, K8sRunLauncher.config_type())
    assert config["job_namespace"] == rendered.namespace
    assert config["service_account_name"] == f"{RELEASE}-run"
    assert config["instance_config_map"] == f"{RELEASE}-dagster-instance"
    assert (
        config["job_image"]
        == rendered.get("Deployment", f"{RELEASE}-gateway")["spec"]["template"]["spec"]["containers"][0][
            "image"
        ]
    )
    assert config["env_config_maps"] == [f"{RELEASE}-env"]
    assert config["resources"] == rendered.values["agents"]["defaultRunResources"]
    # The accounts and config maps it names exist in the release.
    assert f"{RELEASE}-run" in {a["metadata"]["name"] for a in rendered.of_kind("ServiceAccount")}
    assert config["instance_config_map"] in {c["metadata"]["name"] for c in rendered.of_kind("ConfigMap")}


def test_run_queue_orders_by_priority_and_limits_each_agent(rendered: Rendered) -> None:
    section = rendered.dagster_instance()["run_coordinator"]
    assert (section["module"], section["class"]) == ("dagster.core.run_coordinator", "QueuedRunCoordinator")
    config = config_of(section, QueuedRunCoordinator.config_type())
    queue = rendered.values["dagster"]["runCoordinator"]
    assert config["max_concurrent_runs"] == queue["maxConcurrentRuns"]
    limits = config["tag_concurrency_limits"]
    assert {
        "key": "eas/agent",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": queue["perAgentLimit"],
    } in limits
    own = {item["value"]: item["limit"] for item in limits if isinstance(item.get("value"), str)}
    assert own == queue["agentLimits"]


def test_production_limits_its_heavy_agents() -> None:
    limits = render("production").dagster_instance()["run_coordinator"]["config"]["tag_concurrency_limits"]
    own = {item["value"]: item["limit"] for item in limits if isinstance(item.get("value"), str)}
    assert own["learning"] == 1


# --- the Job of a tagged run -----------------------------------------------------------------------

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "test", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "test", "user": {"token": "not-a-real-token"}}],
    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    "current-context": "test",
}


def launcher_from_chart(chart: Rendered, tmp_path: Path) -> K8sRunLauncher:
    """The chart's run launcher, built from its rendered config (a throwaway kubeconfig, not the pod's)."""
    config = config_of(chart.dagster_instance()["run_launcher"], K8sRunLauncher.config_type())
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(KUBECONFIG))
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    return K8sRunLauncher(**config)


def request_record(agent: str) -> RequestRecord:
    return queued_record(
        agent,
        workflow=f"{agent}_report",
        text="monthly sales report",
        intent="report_request",
        priority=Priority.P2,
        nlp_model_version="test",
    )


def job_for_run(launcher: K8sRunLauncher, job_name: str, tags: dict[str, str]) -> dict[str, Any]:
    """The Job ``launcher`` would create for a run with ``tags``, as the API receives it (camelCase).

    The steps of ``K8sRunLauncher._launch_k8s_job_with_args``, less the API call and the code origin
    (which adds only the image of the code location, the launcher's job_image here).
    """
    run = DagsterRun(job_name=job_name, run_id=str(uuid.uuid4()), tags=tags)
    context = launcher.get_container_context_for_run(run)
    k8s_job_name = get_job_name_from_run_id(run.run_id)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=None, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name=k8s_job_name,
        pod_name=k8s_job_name,
        component="run_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": job_name, "dagster/run-id": run.run_id},
        env_vars=[{"name": "DAGSTER_RUN_JOB_NAME", "value": job_name}],
    )
    manifest = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    manifest["metadata"]["namespace"] = context.namespace
    return manifest


def agent_resources_from_chart(chart: Rendered) -> dict[str, Any]:
    """``EAS_K8S_AGENT_RESOURCES`` as the code location (where the sensor runs) reads it."""
    return parse_agent_resources(chart.config_map_data(f"{RELEASE}-env")["EAS_K8S_AGENT_RESOURCES"])


def test_a_standard_lane_run_gets_its_agents_pod_resources(tmp_path: Path) -> None:
    chart = render("production")
    resources = agent_resources_from_chart(chart)
    assert resources == chart.values["agents"]["resources"] and "data_analysis" in resources
    tags = run_tags_for(request_record("data_analysis"), lane="standard", k8s_resources=resources)
    assert json.loads(tags[K8S_CONFIG_TAG])["container_config"]["resources"] == resources["data_analysis"]

    job = job_for_run(launcher_from_chart(chart, tmp_path), "data_analysis_report", tags)

    kubernetes_validate.validate(job, K8S_VERSION, strict=True)
    assert job["metadata"]["namespace"] == "production"
    pod = job["spec"]["template"]
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert container["resources"] == resources["data_analysis"]
    assert pod["metadata"]["labels"][K8S_AGENT_LABEL] == "data_analysis"
    # Labels the NetworkPolicies select run pods by (test_chart.py evaluates them with these).
    launcher_labels = chart.dagster_instance()["run_launcher"]["config"]["labels"]
    assert launcher_labels.items() <= pod["metadata"]["labels"].items()
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "run_worker"
    assert pod["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    # Service account without API access, the chart's image, non-root with a read-only root.
    assert spec["serviceAccountName"] == f"{RELEASE}-run"
    assert spec["automountServiceAccountToken"] is False
    assert container["image"] == chart.dagster_instance()["run_launcher"]["config"]["job_image"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/models"]]["persistentVolumeClaim"]["claimName"] == f"{RELEASE}-models"
    # Env: secrets by reference, the shared ConfigMap, the connectors' Secret, Dagster's home.
    env = {e["name"]: e for e in container["env"]}
    assert env["EAS_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "eas-postgres",
        "key": "database-url",
    }
    assert env["EAS_DAGSTER_PG_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "eas-postgres",
        "key": "dagster-url",
    }
    assert env["EAS_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "eas-redis", "key": "redis-url"}
    assert env["EAS_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "eas-jwt"
    assert env["DAGSTER_HOME"]["value"] == chart.values["dagster"]["home"]
    assert env["HOME"]["value"] == "/tmp"
    assert env["DAGSTER_RUN_JOB_NAME"]["value"] == "data_analysis_report"
    sources = container["envFrom"]
    assert {"configMapRef": {"name": f"{RELEASE}-env"}} in sources
    assert {"secretRef": {"name": "eas-connectors"}} in sources
    # Finished Jobs go away; a failed run is not re-run by Kubernetes (EAS's recovery decides).
    assert job["spec"]["backoffLimit"] == 0
    assert (
        job["spec"]["ttlSecondsAfterFinished"]
        == chart.values["dagster"]["runLauncher"]["ttlSecondsAfterFinished"]
    )


def test_an_agent_without_resources_of_its_own_gets_the_launchers_default(tmp_path: Path) -> None:
    chart = render("production")
    resources = agent_resources_from_chart(chart)
    assert "finance" not in resources
    tags = run_tags_for(request_record("finance"), lane="standard", k8s_resources=resources)
    assert K8S_CONFIG_TAG not in tags

    job = job_for_run(launcher_from_chart(chart, tmp_path), "finance_invoice_processing", tags)

    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == chart.values["agents"]["defaultRunResources"]
    assert K8S_AGENT_LABEL not in job["spec"]["template"]["metadata"]["labels"]


def test_an_agents_resources_merge_over_the_default(tmp_path: Path) -> None:
    """An agent that sets only requests keeps the default limits (dagster-k8s merges deeply)."""
    chart = render("staging", {"agents": {"resources": {"hr": {"requests": {"cpu": "3"}}}}})
    resources = agent_resources_from_chart(chart)
    tags = run_tags_for(request_record("hr"), lane="standard", k8s_resources=resources)
    job = job_for_run(launcher_from_chart(chart, tmp_path), "hr_leave_request", tags)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    default = chart.values["agents"]["defaultRunResources"]
    assert container["resources"] == deep_merge(default, {"requests": {"cpu": "3"}})
    kubernetes_validate.validate(job, K8S_VERSION, strict=True)
