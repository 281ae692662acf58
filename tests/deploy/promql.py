"""Metric names in PromQL, and the metrics EAS exports: what the dashboard and alert-rule tests compare.

Why: a dashboard panel or an alert naming a metric nobody exports shows "No data" or never fires,
silently. The tests extract every metric name from each PromQL expression with a small tokenizer
(:func:`metric_names`) and look each up in :func:`exported_metrics`, which is built from the code
(the gateway's and the NLP service's metric classes, the process catalog, the exporter's collector),
never from a hand-written list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "helm" / "eas" / "files"
RULES = FILES / "prometheus" / "eas-rules.yaml"
DASHBOARDS = FILES / "grafana" / "dashboards"

# Series Prometheus writes itself rather than scrapes: each target's `up`, the alerts' state.
PROMETHEUS_SERIES: dict[str, str] = {"up": "gauge", "ALERTS": "gauge", "ALERTS_FOR_STATE": "gauge"}

KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
)
NUMBER_WORDS = frozenset({"inf", "nan"})
HISTOGRAM_SUFFIXES: dict[str, tuple[str, ...]] = {
    "_bucket": ("histogram",),
    "_sum": ("histogram", "summary"),
    "_count": ("histogram", "summary"),
}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
# An identifier that does not continue a number (5m, 1e3, 0x1f) or another name.
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects, as written (``foo_bucket`` stays ``foo_bucket``).

    Strings, Grafana variables (``$__rate_interval``, ``${namespace}``), label matchers, ranges and
    grouping label lists (``by (le, agent)``) are removed first; what remains is a name unless it is
    called (a function or an aggregation), a keyword, or ``Inf``/``NaN``.
    """
    text = _VARIABLE.sub("", _STRING.sub('""', expr))
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENTIFIER.finditer(text):
        name, called = match.group(1), match.group(2)
        if called or name in KEYWORDS or name.lower() in NUMBER_WORDS:
            continue
        names.add(name)
    return names


def family_of(name: str, catalog: dict[str, str]) -> str | None:
    """The exported family ``name`` reads, or None when EAS exports no such series.

    ``catalog`` maps family names (counters with ``_total``) to their type. A histogram is only read
    through ``_bucket``/``_sum``/``_count`` (its bare name is no series); a summary through
    ``_sum``/``_count``.
    """
    if catalog.get(name) not in (None, "histogram", "summary"):
        return name
    for suffix, kinds in HISTOGRAM_SUFFIXES.items():
        base = name.removesuffix(suffix)
        if base != name and catalog.get(base) in kinds:
            return base
    return None


def grafana_query_expr(query: str) -> str | None:
    """The PromQL inside a Grafana template-variable query, or None when it has none.

    ``label_values(<expr>, <label>)`` and ``query_result(<expr>)`` hold one; ``label_values(<label>)``
    and ``label_names()`` do not.
    """
    query = query.strip()
    if match := re.fullmatch(r"label_values\((.*),\s*[A-Za-z_]\w*\s*\)", query, re.DOTALL):
        return match.group(1)
    if re.fullmatch(r"label_values\(\s*[A-Za-z_]\w*\s*\)|label_names\(\s*\)", query):
        return None
    if match := re.fullmatch(r"query_result\((.*)\)", query, re.DOTALL):
        return match.group(1)
    raise ValueError(f"unsupported Grafana variable query {query!r}")


def _families(collector: Collector) -> Iterable[Metric]:
    describe = getattr(collector, "describe", None)
    described = list(describe()) if describe is not None else []
    return described or list(collector.collect())


def _add_families(catalog: dict[str, str], families: Iterable[Metric]) -> None:
    for family in families:
        if family.type == "counter":
            catalog[f"{family.name}_total"] = "counter"
        elif family.type == "info":
            catalog[f"{family.name}_info"] = "gauge"
        else:
            catalog[family.name] = family.type


@functools.cache
def exported_metrics() -> dict[str, str]:
    """Every metric family an EAS process exports (name as PromQL writes it -> type), from the code.

    The gateway's ``GatewayMetrics`` (whose registry also carries the process catalog and the
    ``process_*`` figures), the NLP service's ``ServerMetrics``, the worker's registry
    (``eas_pipelines.observability.metrics.REGISTRY``) and the exporter's collector and registry,
    each instantiated as its process does; plus the series Prometheus writes itself (``up``, ``ALERTS``).
    Cached: importing the exporter loads Dagster, which takes seconds. Callers must not mutate it.
    """
    from eas_pipelines.gateway.metrics import GatewayMetrics
    from eas_pipelines.observability import metrics as catalog_module
    from eas_pipelines.workers.exporter import EASCollector, build_registry
    from nlp_service.server.metrics import ServerMetrics

    catalog: dict[str, str] = dict(PROMETHEUS_SERIES)
    collector = EASCollector()  # no source configured: nothing is read
    try:
        registries = [
            GatewayMetrics().registry,
            ServerMetrics().registry,
            catalog_module.REGISTRY,
            build_registry(collector),
        ]
        for registry in registries:
            _add_families(catalog, registry.collect())
        _add_families(catalog, _families(collector))
    finally:
        collector.close()
    return catalog


def recording_rules(rules: dict[str, Any]) -> set[str]:
    """The names of the recording rules of a Prometheus rule file."""
    return {rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}


def load_rules(path: Path = RULES) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def unknown_names(exprs: Iterable[tuple[str, str]], known: dict[str, str]) -> Iterator[str]:
    """``"<where>: <name>"`` for each metric name in ``exprs`` (pairs of where, PromQL) not in ``known``."""
    for where, expr in exprs:
        for name in sorted(metric_names(expr)):
            if family_of(name, known) is None:
                yield f"{where}: {name}"
