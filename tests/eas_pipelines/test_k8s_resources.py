"""EAS_K8S_AGENT_RESOURCES: the per-agent pod resources of standard-lane runs, and the run tag they become."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from eas_pipelines.k8s_resources import parse_agent_resources, quantity_value
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.runs import K8S_CONFIG_TAG, k8s_config_tag, run_tags_for
from eas_pipelines.settings import SettingsError, load_settings
from eas_pipelines.store import RequestRecord
from tests.support.records import queued_record


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("EAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EAS_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("1Gi", Decimal(2**30)),
        ("512Mi", Decimal(512 * 2**20)),
        ("1G", Decimal(10**9)),
        ("1e3", Decimal(1000)),
    ],
)
def test_quantities_in_kubernetes_notation(quantity: str, value: Decimal) -> None:
    assert quantity_value(quantity) == value


@pytest.mark.parametrize("quantity", ["2 Gi", "1GB", "one", "", "1.2.3", "Gi"])
def test_malformed_quantities_are_refused(quantity: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity_value(quantity)


def test_parses_json_and_normalises_numbers_to_strings() -> None:
    text = json.dumps(
        {
            "data_analysis": {"requests": {"cpu": 1, "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
            "learning": {"limits": {"nvidia.com/gpu": 1}},
        }
    )
    assert parse_agent_resources(text) == {
        "data_analysis": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        "learning": {"limits": {"nvidia.com/gpu": "1"}},
    }
    assert parse_agent_resources("") == {} and parse_agent_resources(None) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"hr": {}}', "hr must be an object with 'requests' and/or 'limits'"),
        ('{"hr": {"request": {"cpu": "1"}}}', "hr: unknown key(s) request"),
        ('{"hr": {"requests": {"memroy": "1Gi"}}}', "hr.requests: 'memroy' is not a container resource"),
        ('{"hr": {"requests": {"cpu": "lots"}}}', "hr.requests.cpu: 'lots' is not a Kubernetes quantity"),
        ('{"hr": {"requests": {"cpu": "-1"}}}', "hr.requests.cpu: '-1' is negative"),
        ('{"hr": {"requests": {"cpu": true}}}', "hr.requests.cpu must be a quantity string"),
        (
            '{"hr": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}',
            "limits.memory (1Gi) is below",
        ),
    ],
)
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_agent_resources(text)
    assert message in str(info.value)


def test_setting_is_validated_at_load_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(generate_secrets=False).k8s_agent_resources == {}
    monkeypatch.setenv(
        "EAS_K8S_AGENT_RESOURCES", '{"hr": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}'
    )
    with pytest.raises(SettingsError) as info:
        load_settings(generate_secrets=False)
    assert "EAS_K8S_AGENT_RESOURCES: hr: limits.cpu (1) is below requests.cpu (2)" in str(info.value)
    monkeypatch.setenv("EAS_K8S_AGENT_RESOURCES", '{"hr": {"requests": {"cpu": "500m"}}}')
    settings = load_settings(generate_secrets=False)
    assert settings.k8s_agent_resources == {"hr": {"requests": {"cpu": "500m"}}}
    assert WorkflowPolicyResource.from_settings(settings).k8s_agent_resources == settings.k8s_agent_resources


def record(agent: str | None) -> RequestRecord:
    return queued_record(agent, workflow="hr_leave_request")


def test_the_tag_gives_the_agents_runs_its_resources_and_label() -> None:
    resources = {"hr": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}}
    tag = json.loads(k8s_config_tag("hr", resources)[K8S_CONFIG_TAG])
    assert tag == {
        "container_config": {"resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}},
        "pod_template_spec_metadata": {"labels": {"eas/agent": "hr"}},
    }
    assert k8s_config_tag("finance", resources) == {}


def test_run_tags_carry_the_k8s_tag_only_when_asked_and_configured() -> None:
    resources = {"hr": {"requests": {"cpu": "500m"}}}
    assert K8S_CONFIG_TAG in run_tags_for(record("hr"), k8s_resources=resources)
    assert K8S_CONFIG_TAG not in run_tags_for(record("hr"))  # the fast lane runs in-process
    assert K8S_CONFIG_TAG not in run_tags_for(record("finance"), k8s_resources=resources)
    assert K8S_CONFIG_TAG not in run_tags_for(record(None), k8s_resources=resources)
