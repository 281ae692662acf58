"""The Grafana dashboards the chart provisions (helm/eas/files/grafana/dashboards/*.json).

Each must load in Grafana as provisioned (a uid, a recent schema, the data source as a variable so it
works on any Prometheus), lay out its panels without collisions, query with PromQL that parses, and
name only metrics EAS exports (from the code: :func:`tests.deploy.promql.exported_metrics`) or
recording rules of eas-rules.yaml. Each board also shows what the issue asks of it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import (
    DASHBOARDS,
    exported_metrics,
    grafana_query_expr,
    load_rules,
    metric_names,
    recording_rules,
    unknown_names,
)

BOARDS = ("executive", "operations", "performance", "cost")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PROMTOOL = shutil.which("promtool")

# What the issue asks each board to show, as the metric names (or recording rules) its panels read.
REQUIRED_METRICS: dict[str, set[str]] = {
    # requests handled, success rate, time saved by agent
    "executive": {"eas_requests_total", "eas_time_saved_seconds_total"},
    # health, queues (lanes, Dagster), failures, breakers, approvals backlog
    "operations": {
        "up",
        "eas_lane_queue_depth",
        "eas_lane_oldest_age_seconds",
        "eas_dagster_run_queue_length",
        "eas_dagster_oldest_queued_run_age_seconds",
        "eas_dagster_runs",
        "eas:request_failure_ratio:rate15m",
        "eas_circuit_breaker_state",
        "eas_approvals_pending",
        "eas_approvals_oldest_age_seconds",
    },
    # latency percentiles (gateway HTTP, NLP, run start, steps) and throughput
    "performance": {
        "eas_gateway_http_request_duration_seconds_bucket",
        "eas_nlp_request_latency_seconds_bucket",
        "eas_run_start_latency_seconds_bucket",
        "eas_step_duration_seconds_bucket",
        "eas_gateway_http_requests_total",
        "eas_nlp_requests_total",
    },
    # resource use per job and namespace, step seconds by agent as the per-agent share
    "cost": {"process_cpu_seconds_total", "process_resident_memory_bytes", "eas_step_duration_seconds_sum"},
}
# Grouping each board must offer (in some `by (...)`), as the issue words it.
REQUIRED_GROUPING: dict[str, set[str]] = {
    "executive": {"agent"},
    "operations": {"job", "priority", "agent", "system"},
    "performance": {"le", "lane", "agent"},
    "cost": {"job", "namespace", "agent"},
}
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1d",
    "$namespace": ".*",
    "$agent": ".*",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((DASHBOARDS / f"{name}.json").read_text())


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable of ``board``."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield f"{board['uid']} panel {panel['id']} ({panel['title']}) {target['refId']}", target["expr"]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            if (expr := grafana_query_expr(query)) is not None:
                yield f"{board['uid']} variable {variable['name']}", expr


def test_the_four_boards_and_nothing_else() -> None:
    assert sorted(path.stem for path in DASHBOARDS.glob("*.json")) == sorted(BOARDS)


def test_uids_and_titles_are_unique() -> None:
    boards = [load(name) for name in BOARDS]
    assert len({board["uid"] for board in boards}) == len(BOARDS)
    assert len({board["title"] for board in boards}) == len(BOARDS)


@pytest.mark.parametrize("name", BOARDS)
def test_board_structure(name: str) -> None:
    board = load(name)
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), "Grafana uids: short, stable, URL-safe"
    assert board["title"].startswith("EAS / ")
    assert board["schemaVersion"] >= 36
    assert "id" not in board or board["id"] is None, "a provisioned board carries no database id"
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"

    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(board):
        if panel["type"] == "row":
            continue
        where = f"{name} panel {panel['id']} ({panel.get('title')})"
        assert panel.get("title"), where
        assert panel["datasource"] == DATASOURCE, f"{where}: data source not the variable"
        targets = panel.get("targets", [])
        assert targets and all(target.get("expr", "").strip() for target in targets), f"{where}: no PromQL"
        assert all(target["datasource"] == DATASOURCE for target in targets), where
        assert len({target["refId"] for target in targets}) == len(targets), where


def cells(panel: dict[str, Any]) -> set[tuple[int, int]]:
    grid = panel["gridPos"]
    return {
        (x, y)
        for x in range(grid["x"], grid["x"] + grid["w"])
        for y in range(grid["y"], grid["y"] + grid["h"])
    }


@pytest.mark.parametrize("name", BOARDS)
def test_panels_fit_the_grid_without_overlapping(name: str) -> None:
    taken: dict[tuple[int, int], int] = {}
    for panel in load(name)["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] >= 1 and grid["x"] + grid["w"] <= 24, panel["title"]
        for cell in cells(panel):
            assert cell not in taken, f"panels {taken[cell]} and {panel['id']} overlap at {cell}"
            taken[cell] = panel["id"]


@pytest.mark.parametrize("name", BOARDS)
def test_panels_name_only_exported_metrics(name: str) -> None:
    known = {**exported_metrics(), **{record: "gauge" for record in recording_rules(load_rules())}}
    assert list(unknown_names(exprs(load(name)), known)) == []


@pytest.mark.parametrize("name", BOARDS)
def test_board_shows_what_the_issue_asks(name: str) -> None:
    board = load(name)
    queries = [expr for _, expr in exprs(board)]
    used = set().union(*(metric_names(expr) for expr in queries))
    assert REQUIRED_METRICS[name] - used == set()
    grouped = set()
    for expr in queries:
        for labels in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
            grouped.update(label.strip() for label in labels.split(","))
    assert REQUIRED_GROUPING[name] - grouped == set()


def test_tokenizer_finds_metrics_not_labels_functions_or_numbers() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, agent) (rate(eas_step_duration_seconds_bucket{agent=~"$agent", '
        'step!="x y"}[$__rate_interval]))) / on (agent) group_left (team) eas:foo:rate5m > bool 1e3 '
        'or absent(up{job="eas-nlp"} == 1) unless sum(x offset 5m) without (instance) + Inf'
    )
    assert metric_names(expr) == {"eas_step_duration_seconds_bucket", "eas:foo:rate5m", "up", "x"}
    assert grafana_query_expr('label_values(up{job=~"eas-.*"}, namespace)') == 'up{job=~"eas-.*"}'
    assert grafana_query_expr("label_values(namespace)") is None


def test_an_unexported_metric_is_reported() -> None:
    """The check is not vacuous: a typo in a metric, or a histogram read by its bare name, is caught."""
    known = exported_metrics()
    found = list(
        unknown_names(
            [
                ("typo", "sum(rate(eas_request_total[5m]))"),
                ("bare histogram", "rate(eas_step_duration_seconds[5m])"),
                ("fine", "rate(eas_step_duration_seconds_sum[5m]) + eas_lane_queue_depth"),
            ],
            known,
        )
    )
    assert found == ["typo: eas_request_total", "bare histogram: eas_step_duration_seconds"]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not found (Debian package `prometheus`)")
def test_every_query_parses(tmp_path: Path) -> None:
    """Each board's PromQL, with Grafana's variables filled in, parses (promtool checks it as rules)."""
    rules = []
    for name in BOARDS:
        for index, (_, expr) in enumerate(exprs(load(name))):
            for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda item: -len(item[0])):
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
            rules.append({"record": f"dashboard:{name}:q{index}", "expr": expr})
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
