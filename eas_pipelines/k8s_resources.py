"""Per-agent pod resources of standard-lane runs on Kubernetes: the ``EAS_K8S_AGENT_RESOURCES`` format.

On Kubernetes, Dagster's ``K8sRunLauncher`` starts each standard-lane run as a Job; the run's
``dagster-k8s/config`` tag (built by :func:`eas_pipelines.runs.run_tags_for`) sets that pod's container
resources. Which resources each agent gets is deployment configuration, one JSON object::

    {"data_analysis": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}}

It is checked here, when the settings load, rather than when the launcher creates the Job: a typo
(``"memroy"``, ``"2 Gi"``, a limit below its request) would otherwise surface as a run that failed to
launch, minutes later and far from the variable that caused it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

AgentResources = dict[str, dict[str, dict[str, str]]]
"""agent -> ``requests``/``limits`` -> resource name -> quantity (Kubernetes notation, as a string)."""

SECTIONS = ("requests", "limits")

# Container resource names Kubernetes accepts: the standard ones (cpu, memory, ephemeral-storage,
# hugepages-<size>) unqualified, extended ones only domain-qualified (nvidia.com/gpu).
_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_HUGEPAGES = re.compile(r"^hugepages-\d+[KMG]i$")
_EXTENDED_RESOURCE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# Kubernetes quantities: a decimal number and an optional binary (Ki..Ei), decimal (n..E) or
# exponent suffix (k8s.io/apimachinery/pkg/api/resource).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def quantity_value(quantity: str) -> Decimal:
    """The amount a Kubernetes quantity stands for (``"500m"`` -> 0.5, ``"1Gi"`` -> 1073741824).

    Raises ``ValueError`` naming the quantity when it is not Kubernetes notation.
    """
    match = _QUANTITY.match(quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)")
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:  # an exponent: e3, E-2
        return number.scaleb(int(suffix[1:]))
    return number


def _is_resource_name(name: Any) -> bool:
    return isinstance(name, str) and (
        name in _STANDARD_RESOURCES or bool(_HUGEPAGES.match(name) or _EXTENDED_RESOURCE.match(name))
    )


def _section(agent: str, name: str, value: Any) -> dict[str, str]:
    where = f"{agent}.{name}"
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{where} must be a non-empty object of resource name -> quantity")
    checked: dict[str, str] = {}
    for resource, quantity in value.items():
        if not _is_resource_name(resource):
            raise ValueError(
                f"{where}: {resource!r} is not a container resource (cpu, memory, ephemeral-storage, "
                "hugepages-<size>, or a domain-qualified one such as nvidia.com/gpu)"
            )
        if isinstance(quantity, bool) or not isinstance(quantity, str | int | float):
            raise ValueError(f"{where}.{resource} must be a quantity string such as '500m' or '1Gi'")
        text = str(quantity).strip()
        try:
            if quantity_value(text) < 0:
                raise ValueError(f"{text!r} is negative")
        except ValueError as exc:
            raise ValueError(f"{where}.{resource}: {exc}") from None
        checked[resource] = text
    return checked


def parse_agent_resources(value: str | Mapping[str, Any] | None) -> AgentResources:
    """Check ``value`` (JSON text or an already parsed mapping) and return it normalised.

    Every agent maps to an object with ``requests`` and/or ``limits`` and nothing else; quantities
    become strings; a limit below its request is refused (Kubernetes would refuse the pod).
    Empty text or ``None`` is ``{}``: no agent gets resources of its own.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc})") from None
    if not isinstance(value, Mapping):
        raise ValueError('must be a JSON object: {"agent": {"requests": {...}, "limits": {...}}}')
    parsed: AgentResources = {}
    for agent, spec in value.items():
        if not isinstance(agent, str) or not agent.strip():
            raise ValueError("agent names must be non-empty strings")
        if not isinstance(spec, Mapping) or not spec:
            raise ValueError(f"{agent} must be an object with 'requests' and/or 'limits'")
        unknown = sorted(set(spec) - set(SECTIONS))
        if unknown:
            raise ValueError(
                f"{agent}: unknown key(s) {', '.join(map(str, unknown))}; allowed: requests, limits"
            )
        sections = {name: _section(agent, name, spec[name]) for name in SECTIONS if name in spec}
        for resource, limit in sections.get("limits", {}).items():
            request = sections.get("requests", {}).get(resource)
            if request is not None and quantity_value(limit) < quantity_value(request):
                raise ValueError(
                    f"{agent}: limits.{resource} ({limit}) is below requests.{resource} ({request})"
                )
        parsed[agent] = sections
    return parsed
