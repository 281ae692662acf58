"""The Helm chart (helm/eas), rendered for each environment without a cluster.

Every environment's values file is linted (``helm lint --strict``) and rendered (``helm template``),
each core object validated against the Kubernetes schemas (``kubernetes-validate``, strict: unknown
fields fail), and what matters asserted on the objects themselves: GPUs on the NLP pods (none in
the CPU variant), the worker HPA, what the NetworkPolicies let through (evaluated connection by
connection), no container running as root, secrets only by reference, TLS on every ingress, the
scrape jobs of the metric contract, and the monitoring files provisioned into the monitoring
namespace. The run launcher's dagster.yaml and Jobs: test_dagster_instance.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer.main
import yaml

from tests.deploy.chart import (
    CHART,
    ENVIRONMENTS,
    MONITORING_KINDS,
    RELEASE,
    Rendered,
    containers,
    labels_match,
    lint,
    render,
)
from tests.deploy.netpol import Endpoint, allowed, external

K8S_VERSION = kubernetes_validate.utils.latest_version()
SCRAPE_JOBS = {"eas-gateway", "eas-worker", "eas-nlp", "eas-exporter"}
GPU = "nvidia.com/gpu"


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(request.param)


def name(component: str) -> str:
    return f"{RELEASE}-{component}"


def pod_labels(chart: Rendered, deployment: str) -> dict[str, str]:
    return chart.get("Deployment", name(deployment))["spec"]["template"]["metadata"]["labels"]


def main_container(chart: Rendered, kind: str, workload: str) -> dict[str, Any]:
    return chart.get(kind, name(workload))["spec"]["template"]["spec"]["containers"][0]


# --- lint and schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_strict_passes(environment: str) -> None:
    report = lint(environment)
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert report["errors"] == [] and problems == [], problems or report["errors"]
    assert report["total_charts_linted"] == 1


def test_every_core_object_is_valid_for_kubernetes(rendered: Rendered) -> None:
    failures = []
    for obj in rendered.objects:
        if obj["kind"] in MONITORING_KINDS:  # CRDs of the Prometheus operator: checked further below
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert failures == []


def test_objects_are_named_once_and_placed_in_their_namespace(rendered: Rendered) -> None:
    keys = [
        (o["kind"], o["metadata"].get("namespace", rendered.namespace), o["metadata"]["name"])
        for o in rendered.objects
    ]
    assert len(keys) == len(set(keys)), "two objects share kind, namespace and name"
    monitoring = rendered.values["monitoring"]["namespace"]
    for obj in rendered.objects:
        namespace = obj["metadata"].get("namespace")
        in_monitoring = obj["kind"] in MONITORING_KINDS or "grafana_dashboard" in obj["metadata"]["labels"]
        if (
            in_monitoring
            or obj["metadata"]["name"] == rendered.values["monitoring"]["alertmanager"]["secretName"]
        ):
            assert namespace == monitoring, obj["metadata"]["name"]
        else:
            assert namespace in (None, rendered.namespace), obj["metadata"]["name"]


# --- workloads -------------------------------------------------------------------------------------


def test_every_workload_runs_a_real_command(rendered: Rendered) -> None:
    from eas_pipelines.cli import app as eas_app
    from nlp_service.cli import app as nlp_app

    eas_commands = set(typer.main.get_command(eas_app).commands)
    nlp_commands = set(typer.main.get_command(nlp_app).commands)
    commands = {
        component: main_container(rendered, "Deployment", component)["command"]
        for component in ("gateway", "worker", "exporter", "nlp", "code-location", "webserver", "daemon")
    }
    for component, command in commands.items():
        if command[0] == "eas":
            assert command[1] in eas_commands, f"{component}: eas has no command {command[1]!r}"
        elif command[0] == "eas-nlp":
            assert command[1] in nlp_commands, f"{component}: eas-nlp has no command {command[1]!r}"
    assert commands["gateway"] == ["eas", "gateway"]
    assert commands["worker"] == ["eas", "worker"]
    assert commands["exporter"] == ["eas", "exporter"]
    assert commands["nlp"] == ["eas-nlp", "serve"]
    grpc = commands["code-location"]
    assert grpc[:3] == ["dagster", "api", "grpc"]
    assert grpc[grpc.index("-m") + 1] == "eas_pipelines.definitions" and grpc[grpc.index("-a") + 1] == "defs"
    assert commands["webserver"][0] == "dagster-webserver"
    assert commands["daemon"][:2] == ["dagster-daemon", "run"]


def test_probes_watch_every_long_running_container(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        for container in containers(deployment["spec"]["template"]):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            assert "livenessProbe" in container, where
            if container.get("ports"):
                assert "readinessProbe" in container, where
            assert container["resources"].get("requests"), f"{where} requests no resources"
            assert container["resources"].get("limits", {}).get("memory"), f"{where} has no memory limit"
    gateway = main_container(rendered, "Deployment", "gateway")
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    nlp = main_container(rendered, "Deployment", "nlp")
    assert nlp["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_env_the_chart_gives_eas_processes_is_valid_settings(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every EAS_* value the chart sets (the shared ConfigMap, the gateway's own) passes EAS's validation."""
    from eas_pipelines.settings import load_settings

    env = dict(rendered.config_map_data(name("env")))
    for entry in main_container(rendered, "Deployment", "gateway")["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        elif "secretKeyRef" in entry.get("valueFrom", {}):  # a stand-in for what the Secret holds
            env[entry["name"]] = {
                "EAS_DATABASE_URL": "postgresql://eas:pw@db:5432/eas",
                "EAS_DAGSTER_PG_URL": "postgresql+psycopg2://eas:pw@db:5432/eas",
                "EAS_REDIS_URL": "redis://redis:6379/0",
                "EAS_NLP_REDIS_URL": "redis://redis:6379/0",
                "EAS_JWT_SECRET": "x" * 48,
                "EAS_NLP_ADMIN_TOKEN": "y" * 32,
            }[entry["name"]]
    env["EAS_DATA_DIR"] = str(tmp_path)
    for key in [k for k in os.environ if k.startswith("EAS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(generate_secrets=False)
    assert settings.gateway_host == "0.0.0.0"
    assert settings.nlp_urls == [f"http://{name('nlp')}:{rendered.values['nlp']['port']}"]
    assert settings.k8s_agent_resources == rendered.values["agents"]["resources"]
    assert settings.metrics_host == "0.0.0.0", "Prometheus scrapes the workers and exporter from outside"
    # The OpenTelemetry variables are ones EAS's tracing accepts: an exporter exactly when an endpoint is set.
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio, _get_from_env_or_default

    from eas_pipelines.observability.tracing import exporter_from_env

    exporter = exporter_from_env()
    assert (exporter is not None) == bool(rendered.values["tracing"]["otlpEndpoint"])
    if exporter is not None:
        exporter.shutdown()
    assert isinstance(_get_from_env_or_default(), ParentBasedTraceIdRatio)


# --- NLP on GPUs, or not ---------------------------------------------------------------------------


def test_production_nlp_pods_request_gpus_on_gpu_nodes() -> None:
    chart = render("production")
    pod = chart.get("Deployment", name("nlp"))["spec"]["template"]["spec"]
    resources = pod["containers"][0]["resources"]
    count = str(chart.values["nlp"]["gpu"]["count"])
    assert resources["requests"][GPU] == count and resources["limits"][GPU] == count
    assert pod["nodeSelector"] == chart.values["nlp"]["gpu"]["nodeSelector"]
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["containers"][0]["image"].endswith("-cuda")
    # Nothing else asks for a GPU.
    others = [
        c["name"]
        for workload, template in chart.pod_templates()
        if workload["metadata"]["name"] != name("nlp")
        for c in containers(template)
        if GPU in json.dumps(c.get("resources", {}))
    ]
    assert others == []


@pytest.mark.parametrize(
    ("environment", "overrides"),
    [("production", {"nlp": {"gpu": {"enabled": False}, "image": {"tag": ""}}}), ("development", {})],
    ids=["production-cpu-variant", "development"],
)
def test_cpu_variant_requests_no_gpu(environment: str, overrides: dict[str, Any]) -> None:
    chart = render(environment, overrides)
    pod = chart.get("Deployment", name("nlp"))["spec"]["template"]["spec"]
    assert GPU not in json.dumps(pod["containers"][0]["resources"])
    assert "nodeSelector" not in pod and "tolerations" not in pod
    assert pod["containers"][0]["image"] == main_container(chart, "Deployment", "gateway")["image"]


@pytest.mark.parametrize(
    ("environment", "overrides", "expected"),
    [
        ("production", {}, None),
        ("production", {"nlp": {"gpu": {"modelDir": "nlp-mpnet"}}}, "/models/nlp-mpnet"),
        ("production", {"nlp": {"gpu": {"modelDir": "/srv/teacher"}}}, "/srv/teacher"),
        ("development", {"nlp": {"gpu": {"modelDir": "nlp-mpnet"}}}, None),
    ],
    ids=["unset", "under-the-models-volume", "absolute", "cpu-variant-ignores-it"],
)
def test_gpu_variant_sets_the_gpu_model_dir_from_its_value(
    environment: str, overrides: dict[str, Any], expected: str | None
) -> None:
    chart = render(environment, overrides)
    env = {e["name"]: e.get("value") for e in main_container(chart, "Deployment", "nlp")["env"]}
    assert env.get("EAS_NLP_GPU_MODEL_DIR") == expected
    assert env["EAS_NLP_MODEL_DIR"] == "/models/nlp-default"


# --- the worker pool -------------------------------------------------------------------------------


def test_hpa_scales_the_worker_deployment_within_its_bounds(rendered: Rendered) -> None:
    (hpa,) = rendered.of_kind("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    worker = rendered.get("Deployment", target["name"])
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"] == ["eas", "worker"]
    assert "replicas" not in worker["spec"], "the HPA owns the replica count"
    bounds = rendered.values["worker"]["autoscaling"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        bounds["minReplicas"],
        bounds["maxReplicas"],
    )
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (cpu,) = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource"]
    assert cpu["resource"]["target"]["averageUtilization"] == bounds["targetCPUUtilizationPercentage"]
    # CPU utilisation needs a CPU request to be computed against.
    assert worker["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]


def test_worker_without_autoscaling_has_fixed_replicas() -> None:
    chart = render("staging", {"worker": {"autoscaling": {"enabled": False}, "replicas": 3}})
    assert chart.of_kind("HorizontalPodAutoscaler") == []
    assert chart.get("Deployment", name("worker"))["spec"]["replicas"] == 3


def test_pod_disruption_budgets_cover_the_replicated_services(rendered: Rendered) -> None:
    budgets = rendered.of_kind("PodDisruptionBudget")
    for component in ("gateway", "nlp", "worker"):
        labels = pod_labels(rendered, component)
        matching = [b for b in budgets if labels_match(b["spec"]["selector"], labels)]
        assert len(matching) == 1, component
        assert matching[0]["spec"]["maxUnavailable"] >= 1


# --- security --------------------------------------------------------------------------------------


def test_no_container_runs_as_root(rendered: Rendered) -> None:
    for workload, template in rendered.pod_templates():
        pod_context = template["spec"].get("securityContext", {})
        for container in containers(template):
            where = f"{workload['kind']}/{workload['metadata']['name']}/{container['name']}"
            effective = {**pod_context, **container.get("securityContext", {})}
            assert effective.get("runAsNonRoot") is True, where
            assert isinstance(effective.get("runAsUser"), int) and effective["runAsUser"] != 0, where
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not context.get("privileged", False), where


def test_read_only_root_filesystems_get_a_writable_tmp(rendered: Rendered) -> None:
    for workload, template in rendered.pod_templates():
        if workload["metadata"]["name"].endswith(("-postgres", "-redis")):
            continue
        volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
        for container in containers(template):
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], container["name"]


def test_only_dagster_gets_a_kubernetes_api_token(rendered: Rendered) -> None:
    """The webserver and daemon launch run Jobs; nothing else talks to the API."""
    dagster_account = name("dagster")
    for workload, template in rendered.pod_templates():
        spec = template["spec"]
        if spec.get("serviceAccountName") == dagster_account:
            assert workload["metadata"]["name"] in (name("webserver"), name("daemon"))
        else:
            assert spec.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
    (role,) = rendered.of_kind("Role")
    jobs_rule = next(r for r in role["rules"] if "jobs" in r["resources"])
    assert {"create", "delete", "watch"} <= set(jobs_rule["verbs"])
    (binding,) = rendered.of_kind("RoleBinding")
    assert binding["subjects"][0]["name"] == dagster_account
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_secrets_are_passed_by_reference_only(rendered: Rendered) -> None:
    secret_names = {
        "EAS_DATABASE_URL",
        "EAS_DAGSTER_PG_URL",
        "EAS_REDIS_URL",
        "EAS_JWT_SECRET",
        "EAS_NLP_ADMIN_TOKEN",
    }
    for config_map in rendered.of_kind("ConfigMap"):
        assert not secret_names & set(config_map.get("data", {})), config_map["metadata"]["name"]
    for workload, template in rendered.pod_templates():
        for container in containers(template):
            for entry in container.get("env", []):
                if entry["name"] in secret_names:
                    assert "secretKeyRef" in entry["valueFrom"], (
                        f"{workload['metadata']['name']}: {entry['name']}"
                    )
    gateway_env = {e["name"]: e for e in main_container(rendered, "Deployment", "gateway")["env"]}
    database = gateway_env["EAS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    jwt = gateway_env["EAS_JWT_SECRET"]["valueFrom"]["secretKeyRef"]
    created = {s["metadata"]["name"] for s in rendered.of_kind("Secret")}
    if rendered.values["postgres"]["mode"] == "external":
        assert database == {"name": rendered.values["postgres"]["existingSecret"], "key": "database-url"}
        assert database["name"] not in created, "an existing Secret must not be created by the chart"
    else:
        assert database["name"] in created
    if not rendered.values["secrets"]["generate"]:
        assert (
            jwt["name"] == rendered.values["secrets"]["jwt"]["existingSecret"] and jwt["name"] not in created
        )


def test_development_generates_its_secrets_and_in_cluster_datastores() -> None:
    chart = render("development")
    secret = chart.get("Secret", name("generated"))
    data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert data["database-url"].startswith(
        f"postgresql+psycopg2://eas:{data['postgres-password']}@{name('postgres')}:5432/"
    )
    assert data["redis-url"] == f"redis://{name('redis')}:6379/0"
    assert len(data["jwt-secret"]) >= 32 and len(data["admin-token"]) >= 16
    for store in ("postgres", "redis"):
        statefulset = chart.get("StatefulSet", name(store))
        service = chart.get("Service", name(store))
        assert labels_match(
            {"matchLabels": service["spec"]["selector"]},
            statefulset["spec"]["template"]["metadata"]["labels"],
        )
    assert render("production").of_kind("StatefulSet") == []


def test_istio_sidecars_only_where_enabled() -> None:
    production = render("production")
    assert production.values["istio"]["enabled"]
    for component in ("gateway", "nlp", "worker", "webserver"):
        assert pod_labels(production, component)["sidecar.istio.io/inject"] == "true"
    migrations = production.get("Job", name("migrations"))["spec"]["template"]["metadata"]["labels"]
    assert migrations["sidecar.istio.io/inject"] == "false", "a sidecar would keep the Job from completing"
    development = render("development")
    assert all(
        "sidecar.istio.io/inject" not in t["metadata"]["labels"] for _, t in development.pod_templates()
    )


# --- ingress ---------------------------------------------------------------------------------------


def test_ingresses_serve_tls_for_every_host_and_keep_metrics_inside(rendered: Rendered) -> None:
    ingresses = {i["metadata"]["name"]: i for i in rendered.of_kind("Ingress")}
    assert set(ingresses) == {name("gateway"), name("webserver")}
    for ingress in ingresses.values():
        tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
        assert all(entry["secretName"] for entry in ingress["spec"]["tls"])
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] in tls_hosts
    paths = {p["path"] for r in ingresses[name("gateway")]["spec"]["rules"] for p in r["http"]["paths"]}
    assert "/v1" in paths and not {"/", "/metrics", "/readyz"} & paths


# --- NetworkPolicies -------------------------------------------------------------------------------


def test_network_policies_deny_by_default(rendered: Rendered) -> None:
    deny = rendered.get("NetworkPolicy", name("default-deny"))["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


class Network:
    """The rendered policies, and the endpoints of the release and around it."""

    def __init__(self, chart: Rendered) -> None:
        self.chart = chart
        self.policies = chart.of_kind("NetworkPolicy")
        self.namespace = chart.namespace
        values = chart.values
        self.ingress_controller = Endpoint(
            "ingress-controller",
            values["networkPolicy"]["ingressController"]["namespace"],
            {"app": "ingress-nginx"},
        )
        self.prometheus = Endpoint(
            "prometheus", values["monitoring"]["namespace"], {"app.kubernetes.io/name": "prometheus"}
        )
        self.stranger = Endpoint("a pod of another namespace", "other-team", {"app": "curious"})
        self.dns = Endpoint(
            "kube-dns",
            values["networkPolicy"]["dns"]["namespace"],
            values["networkPolicy"]["dns"]["podSelector"],
        )
        launcher = chart.dagster_instance()["run_launcher"]["config"]
        # A run pod as dagster-k8s labels it: its own labels, then the launcher's (test_dagster_instance.py
        # checks these on a Job built by dagster_k8s itself).
        self.run_pod = Endpoint(
            "run pod", self.namespace, {"app.kubernetes.io/component": "run_worker", **launcher["labels"]}
        )

    def pod(self, component: str) -> Endpoint:
        return Endpoint(component, self.namespace, pod_labels(self.chart, component))

    def pod_of_statefulset(self, store: str) -> Endpoint:
        labels = self.chart.get("StatefulSet", name(store))["spec"]["template"]["metadata"]["labels"]
        return Endpoint(store, self.namespace, labels)

    def can(self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
        return allowed(self.policies, source, destination, port, protocol, governed_namespace=self.namespace)


def test_network_policies_allow_what_each_service_needs_and_nothing_else(rendered: Rendered) -> None:
    net = Network(rendered)
    values = rendered.values
    gateway, nlp, worker = net.pod("gateway"), net.pod("nlp"), net.pod("worker")
    webserver, daemon, code, exporter = (
        net.pod("webserver"),
        net.pod("daemon"),
        net.pod("code-location"),
        net.pod("exporter"),
    )
    gateway_port, nlp_port = values["gateway"]["port"], values["nlp"]["port"]
    grpc_port, ui_port = values["dagster"]["codeLocation"]["port"], values["dagster"]["webserver"]["port"]

    # From outside: the ingress controller reaches the gateway and the UI, nothing else.
    assert net.can(net.ingress_controller, gateway, gateway_port)
    assert net.can(net.ingress_controller, webserver, ui_port)
    assert not net.can(net.ingress_controller, nlp, nlp_port)
    assert not net.can(net.ingress_controller, code, grpc_port)
    assert not net.can(net.stranger, gateway, gateway_port)

    # Inside: gateway -> NLP; agents (workers, runs) -> gateway and NLP; UI and daemon -> code location.
    assert net.can(gateway, nlp, nlp_port)
    assert net.can(worker, nlp, nlp_port) and net.can(net.run_pod, nlp, nlp_port)
    assert net.can(worker, gateway, gateway_port) and net.can(net.run_pod, gateway, gateway_port)
    assert net.can(webserver, code, grpc_port) and net.can(daemon, code, grpc_port)
    assert not net.can(gateway, code, grpc_port)
    assert not net.can(exporter, nlp, nlp_port)
    assert not net.can(nlp, gateway, gateway_port)

    # DNS for every pod, the run pods included.
    for pod in (gateway, nlp, worker, webserver, daemon, code, exporter, net.run_pod):
        assert net.can(pod, net.dns, 53, "UDP"), pod

    # Every pod of the release -> PostgreSQL and Redis, wherever they are.
    if values["postgres"]["mode"] == "external":
        database = external("postgres", values["postgres"]["egressCidrs"][0].split("/")[0])
        redis = external("redis", values["redis"]["egressCidrs"][0].split("/")[0])
    else:
        database, redis = net.pod_of_statefulset("postgres"), net.pod_of_statefulset("redis")
    for pod in (gateway, nlp, worker, webserver, daemon, code, exporter, net.run_pod):
        assert net.can(pod, database, values["postgres"]["port"]), pod
        assert net.can(pod, redis, values["redis"]["port"]), pod

    # The enterprise systems: the agents' pods only.
    vendor = external("an enterprise system", "203.0.113.10")
    assert net.can(worker, vendor, 443) and net.can(net.run_pod, vendor, 443)
    assert not net.can(gateway, vendor, 443)
    assert not net.can(nlp, vendor, 443)

    # The run launcher: the webserver and daemon reach the Kubernetes API, others do not.
    api = external("kubernetes API", "10.96.0.1")
    assert net.can(daemon, api, 443) and net.can(webserver, api, 443)
    # (Agents' pods may reach any HTTPS address, the API's included, but hold no token for it.)
    assert not net.can(gateway, api, 443) and not net.can(nlp, api, 443) and not net.can(exporter, api, 443)

    # Prometheus in the monitoring namespace scrapes every metrics port; nobody else does.
    scrapes = [
        (gateway, gateway_port),
        (nlp, nlp_port),
        (worker, values["worker"]["metricsPort"]),
        (exporter, values["exporter"]["port"]),
    ]
    for pod, port in scrapes:
        assert net.can(net.prometheus, pod, port), pod
        assert not net.can(net.stranger, pod, port), pod


def test_in_cluster_datastores_accept_only_the_release() -> None:
    net = Network(render("development"))
    database = net.pod_of_statefulset("postgres")
    assert net.can(net.pod("gateway"), database, 5432)
    assert net.can(net.run_pod, database, 5432)
    foreign = Endpoint("another app of the namespace", net.namespace, {"app": "other"})
    assert not net.can(foreign, database, 5432)


# --- monitoring ------------------------------------------------------------------------------------


def test_service_monitors_scrape_the_contract_jobs(rendered: Rendered) -> None:
    monitors = rendered.of_kind("ServiceMonitor")
    services = rendered.of_kind("Service")
    jobs = {}
    for monitor in monitors:
        spec = monitor["spec"]
        assert monitor["metadata"]["namespace"] == rendered.values["monitoring"]["namespace"]
        assert spec["namespaceSelector"]["matchNames"] == [rendered.namespace]
        assert spec["jobLabel"] == "eas/scrape-job"
        (service,) = [s for s in services if labels_match(spec["selector"], s["metadata"]["labels"])]
        job = service["metadata"]["labels"]["eas/scrape-job"]
        (endpoint,) = spec["endpoints"]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        jobs[job] = service
    assert set(jobs) == SCRAPE_JOBS
    worker_port = jobs["eas-worker"]["spec"]["ports"][0]["port"]
    exporter_port = jobs["eas-exporter"]["spec"]["ports"][0]["port"]
    assert (worker_port, exporter_port) == (9101, 9102)
    assert jobs["eas-worker"]["spec"]["clusterIP"] == "None", "every worker pod is a target of its own"


def test_real_monitoring_files_are_provisioned() -> None:
    """What helm/eas/files/ holds today reaches the cluster: rules, Alertmanager config, dashboards."""
    chart = render("production")
    files = CHART / "files"
    dashboards = sorted((files / "grafana" / "dashboards").glob("*.json"))
    provisioned = [c for c in chart.of_kind("ConfigMap") if "grafana_dashboard" in c["metadata"]["labels"]]
    assert len(provisioned) == len(dashboards)
    rules = files / "prometheus" / "eas-rules.yaml"
    if rules.exists():
        (rule,) = chart.of_kind("PrometheusRule")
        assert rule["spec"] == yaml.safe_load(rules.read_text())
        alerts = {r.get("alert"): r for g in rule["spec"]["groups"] for r in g["rules"]}
        assert alerts["EASClassificationFailing"]["labels"]["severity"] == "P1"
    else:
        assert chart.of_kind("PrometheusRule") == []


SAMPLE_RULES = {
    "groups": [
        {
            "name": "eas-sample",
            "rules": [
                {
                    "alert": "EASClassificationFailing",
                    "expr": "sum(rate(eas_gateway_classification_failures_total[5m])) > 0",
                    "for": "15m",
                    "labels": {"severity": "P1"},
                    "annotations": {"summary": "{{ $labels.job }} cannot classify"},
                }
            ],
        }
    ]
}


def chart_copy(tmp_path: Path, with_files: bool) -> Path:
    """The chart's templates and values in a temporary folder, with sample monitoring files or none."""
    copy = tmp_path / "eas"
    shutil.copytree(CHART, copy, ignore=shutil.ignore_patterns("files"))
    if with_files:
        (copy / "files" / "prometheus").mkdir(parents=True)
        (copy / "files" / "prometheus" / "eas-rules.yaml").write_text(yaml.safe_dump(SAMPLE_RULES))
        (copy / "files" / "alertmanager").mkdir()
        (copy / "files" / "alertmanager" / "alertmanager.yaml").write_text("route:\n  receiver: slack\n")
        (copy / "files" / "alertmanager" / "eas.tmpl").write_text('{{ define "eas.title" }}EAS{{ end }}\n')
        (copy / "files" / "grafana" / "dashboards").mkdir(parents=True)
        for board in ("alpha", "beta"):
            (copy / "files" / "grafana" / "dashboards" / f"{board}.json").write_text(
                json.dumps({"title": board, "panels": [{"id": 1, "targets": [{"expr": "up"}]}]}, indent=2)
            )
    return copy


def test_monitoring_files_become_operator_and_grafana_objects(tmp_path: Path) -> None:
    chart = render("staging", chart=chart_copy(tmp_path, with_files=True))
    monitoring = chart.values["monitoring"]["namespace"]
    (rule,) = chart.of_kind("PrometheusRule")
    assert rule["metadata"]["namespace"] == monitoring
    assert rule["spec"] == SAMPLE_RULES  # templating of the annotations is left to Prometheus
    secret = chart.get("Secret", chart.values["monitoring"]["alertmanager"]["secretName"])
    assert secret["metadata"]["namespace"] == monitoring
    decoded = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert decoded == {
        "alertmanager.yaml": "route:\n  receiver: slack\n",
        "eas.tmpl": '{{ define "eas.title" }}EAS{{ end }}\n',
    }
    boards = {
        c["metadata"]["name"]: c
        for c in chart.of_kind("ConfigMap")
        if "grafana_dashboard" in c["metadata"]["labels"]
    }
    assert set(boards) == {name("dashboard-alpha"), name("dashboard-beta")}
    for board, config_map in boards.items():
        assert config_map["metadata"]["namespace"] == monitoring
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        (content,) = config_map["data"].values()
        assert json.loads(content)["title"] == board.rsplit("-", 1)[1]


def test_absent_monitoring_files_render_nothing(tmp_path: Path) -> None:
    chart = render("staging", chart=chart_copy(tmp_path, with_files=False))
    assert chart.of_kind("PrometheusRule") == []
    assert [s for s in chart.of_kind("Secret") if s["metadata"].get("namespace") == "monitoring"] == []
    assert [c for c in chart.of_kind("ConfigMap") if "grafana_dashboard" in c["metadata"]["labels"]] == []
    assert {
        m["spec"]["selector"]["matchLabels"]["eas/scrape-job"] for m in chart.of_kind("ServiceMonitor")
    } == SCRAPE_JOBS
