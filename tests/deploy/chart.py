"""The Helm chart (helm/eas) rendered and linted offline, for the deploy tests.

``helm-python-sdk`` embeds Helm 4 as a shared library loaded with ctypes: no helm binary, no cluster
(``lookup`` answers nothing, so generated secrets are fresh on every render). Where the library
cannot load on this platform, every chart test skips and says why instead of failing on an import.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "eas"
ENVIRONMENTS = ("development", "staging", "production")
RELEASE = "eas"
MONITORING_KINDS = frozenset({"ServiceMonitor", "PrometheusRule"})
"""monitoring.coreos.com (Prometheus operator) kinds: not in the Kubernetes schemas, not validated there."""
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob"})


def helm() -> Any:
    """The ``helm_python`` module, or a skip naming why Helm cannot run here."""
    try:
        import helm_python

        helm_python.helm_sdk_version()
    except (ImportError, OSError) as exc:
        pytest.skip(
            f"helm-python-sdk cannot load its Helm library on this platform ({exc}); chart not rendered"
        )
    except Exception as exc:  # HelmLibraryError and kin: the library is there but unusable
        pytest.skip(f"helm-python-sdk's Helm library does not work here ({exc}); chart not rendered")
    return helm_python


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in, recursively for mappings (what ``-f a.yaml -f b.yaml`` does)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def env_values(environment: str) -> dict[str, Any]:
    """The values file of ``environment`` (values-<environment>.yaml), as ``helm -f`` reads it."""
    return yaml.safe_load((CHART / f"values-{environment}.yaml").read_text()) or {}


@dataclass(frozen=True)
class Rendered:
    """One ``helm template`` of the chart: its objects and the values they were rendered from."""

    environment: str
    values: dict[str, Any]
    """The chart's defaults coalesced with the environment's file and overrides (what the templates saw)."""
    objects: tuple[dict[str, Any], ...]

    @property
    def namespace(self) -> str:
        return self.environment

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def pod_templates(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(workload, pod template) for every object that runs pods."""
        for obj in self.objects:
            if obj["kind"] in WORKLOAD_KINDS:
                yield obj, obj["spec"]["template"]

    def config_map_data(self, name: str) -> dict[str, str]:
        return self.get("ConfigMap", name)["data"]

    def dagster_instance(self) -> dict[str, Any]:
        """The rendered dagster.yaml, parsed."""
        return yaml.safe_load(self.config_map_data(f"{RELEASE}-dagster-instance")["dagster.yaml"])


def render(environment: str, overrides: Mapping[str, Any] | None = None, *, chart: Path = CHART) -> Rendered:
    """Render ``chart`` for ``environment`` (its values file, then ``overrides``) as release ``eas``."""
    return _render(environment, json.dumps(overrides or {}, sort_keys=True), str(chart))


@functools.lru_cache(maxsize=32)
def _render(environment: str, overrides_json: str, chart: str) -> Rendered:
    helm_python = helm()
    values = deep_merge(env_values(environment), json.loads(overrides_json))
    with helm_python.Chart.load(chart) as loaded:
        manifests = loaded.render(values=values, name=RELEASE, namespace=environment, is_install=True)
        effective = loaded.merge_values(values)
    objects: list[dict[str, Any]] = []
    for template, text in sorted(manifests.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Rendered(environment=environment, values=effective, objects=tuple(objects))


def lint(environment: str) -> dict[str, Any]:
    """``helm lint --strict`` of the chart with ``environment``'s values file."""
    return helm().lint(CHART, env_values(environment), strict=True, namespace=environment)


def containers(pod_template: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = pod_template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def labels_match(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels, matchExpressions) selects ``labels``."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
