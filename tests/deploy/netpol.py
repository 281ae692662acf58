"""A small NetworkPolicy evaluator: may this endpoint open a connection to that one on that port?

Why not just look for the expected objects: a policy can exist and still miss, through a selector
that matches no pod, a wrong port, a namespace label nobody sets. Evaluating connections the way the
network plugin does (a pod selected by any policy of a direction is isolated in that direction and
gets only what some policy allows; both the source's egress and the destination's ingress must allow)
checks what the policies do. Named ports and SCTP are not needed by the chart and not modelled.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.chart import labels_match


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or, with ``namespace`` None, an address outside the cluster."""

    name: str
    namespace: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None

    def __str__(self) -> str:
        return self.name


def external(name: str, ip: str) -> Endpoint:
    return Endpoint(name=name, namespace=None, ip=ip)


def _peer_matches(peer: Mapping[str, Any], other: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        if other.ip is None:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(cidr) for cidr in block.get("except") or [])
    if other.namespace is None:  # an address outside the cluster is only ever matched by an ipBlock
        return False
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        namespace_ok = other.namespace == policy_namespace
    else:
        namespace_ok = labels_match(namespace_selector, {"kubernetes.io/metadata.name": other.namespace})
    pod_selector = peer.get("podSelector")
    return namespace_ok and (pod_selector is None or labels_match(pod_selector, other.labels))


def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        start = entry.get("port")
        if start is None:
            return True
        end = entry.get("endPort", start)
        if isinstance(start, int) and start <= port <= end:
            return True
    return False


def _rule_allows(
    rule: Mapping[str, Any], peers_key: str, other: Endpoint, namespace: str, port: int, protocol: str
) -> bool:
    peers = rule.get(peers_key)
    peer_ok = not peers or any(_peer_matches(peer, other, namespace) for peer in peers)
    return peer_ok and _port_matches(rule.get("ports"), port, protocol)


def _direction_allows(
    policies: Iterable[Mapping[str, Any]],
    direction: str,
    pod: Endpoint,
    other: Endpoint,
    port: int,
    protocol: str,
) -> bool:
    """Whether ``pod``'s policies of ``direction`` (Ingress/Egress) let it talk to ``other``."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = [
        policy
        for policy in policies
        if policy["metadata"].get("namespace", pod.namespace) == pod.namespace
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
        and labels_match(policy["spec"]["podSelector"], pod.labels)
    ]
    if not isolating:
        return True
    return any(
        _rule_allows(rule, peers_key, other, pod.namespace or "", port, protocol)
        for policy in isolating
        for rule in policy["spec"].get(rules_key) or []
    )


def allowed(
    policies: Sequence[Mapping[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
    *,
    governed_namespace: str,
) -> bool:
    """Whether ``source`` may connect to ``destination``:``port`` under ``policies``.

    Only pods of ``governed_namespace`` (the release's) are subject to the policies; endpoints
    elsewhere (the ingress controller, Prometheus, outside addresses) are not restricted by them.
    """
    egress_ok = source.namespace != governed_namespace or _direction_allows(
        policies, "Egress", source, destination, port, protocol
    )
    ingress_ok = destination.namespace != governed_namespace or _direction_allows(
        policies, "Ingress", destination, source, port, protocol
    )
    return egress_ok and ingress_ok
