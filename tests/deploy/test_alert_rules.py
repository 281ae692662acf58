"""The alert and recording rules of helm/eas/files/prometheus/eas-rules.yaml.

Checked without Prometheus: the severity policy of the design (P0 pages within 5 minutes, P1 after
15, P2 after an hour, P3 goes to the daily digest), the contract's EASClassificationFailing rule that
the live Prometheus test evaluates, runbooks that exist, metric names that EAS exports, and promtool
unit tests that make every alert fire and stay silent. With the Debian ``prometheus`` package
(``promtool``): ``promtool check rules`` and ``promtool test rules`` themselves, and a mutated rule
that the unit tests must catch.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import ROOT, RULES, exported_metrics, load_rules, recording_rules, unknown_names

UNIT_TESTS = (RULES.with_name("eas-rules.test.yaml"), RULES.with_name("eas-rules.daily.test.yaml"))
SEVERITIES = ("P0", "P1", "P2", "P3")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not found (Debian package `prometheus`); the rule files are not run"
)

# What the issue asks the rules to watch, by the alert that does.
REQUIRED_ALERTS = {
    "EASGatewayDown",  # gateway down
    "EASNLPDown",  # NLP service down
    "EASWorkerPoolEmpty",  # the warm pool is gone
    "EASClassificationFailing",  # the contract's rule
    "EASRequestFailureRatioHigh",  # failures by agent
    "EASFastLaneQueueStale",  # P0 queue age over 60 s
    "EASDagsterQueuedRunStale",  # Dagster's oldest queued run
    "EASDagsterRunQueueBacklog",  # Dagster's run queue length
    "EASCircuitBreakerOpen",  # a breaker open, per system
    "EASApprovalsBacklogAging",  # approvals waiting too long
    "EASNLPLatencyHigh",  # NLP P95
    "EASGatewayHTTPErrors",  # 5xx ratio at the gateway
    "EASExporterSourceDown",  # the exporter cannot read a source
    "EASExporterDown",
}

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def seconds(duration: str) -> float:
    """A Prometheus duration (``1h30m``) in seconds; a malformed one is an error naming it."""
    parts = _DURATION.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def alerts(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    return load_rules()


def test_every_alert_follows_the_severity_policy(rules: dict[str, Any]) -> None:
    """Severity label and ``for`` agree with the design; the labels and annotations routing needs are set."""
    problems = []
    for rule in alerts(rules):
        name, labels, notes = rule["alert"], rule.get("labels", {}), rule.get("annotations", {})
        severity = labels.get("severity")
        if severity not in SEVERITIES:
            problems.append(f"{name}: severity {severity!r} is not one of {SEVERITIES}")
            continue
        wait = seconds(rule.get("for", "0s"))
        allowed = {
            "P0": 0 < wait <= 5 * 60,  # pages within 5 minutes, but not on one bad scrape
            "P1": wait == 15 * 60,
            "P2": wait == 3600,
            "P3": wait >= 3600,  # the daily digest: only what lasts
        }[severity]
        if not allowed:
            problems.append(f"{name} ({severity}): `for: {rule.get('for')}` breaks the severity policy")
        for key in ("service", "team"):  # Alertmanager groups and inhibits on `service`
            if not labels.get(key):
                problems.append(f"{name} ({severity}): no `{key}` label")
        for key in ("summary", "description", "runbook_url"):
            if not notes.get(key):
                problems.append(f"{name} ({severity}): no `{key}` annotation")
        if not name.startswith("EAS"):
            problems.append(f"{name}: alert names start with EAS (dashboards select ALERTS by it)")
    assert not problems, "\n".join(problems)


def test_tiers_of_one_alert_have_distinct_severities(rules: dict[str, Any]) -> None:
    """An alert defined twice (P0 and P1 thresholds) differs by severity, or Alertmanager merges them."""
    seen: dict[tuple[str, str], int] = {}
    for rule in alerts(rules):
        key = (rule["alert"], rule["labels"]["severity"])
        seen[key] = seen.get(key, 0) + 1
    assert [key for key, count in seen.items() if count > 1] == []


def test_classification_rule_is_the_contracts(rules: dict[str, Any]) -> None:
    """The live Prometheus test evaluates this rule (``for`` rewritten to 0s): its shape is fixed."""
    (rule,) = [rule for rule in alerts(rules) if rule["alert"] == "EASClassificationFailing"]
    assert rule["expr"].strip() == "sum(rate(eas_gateway_classification_failures_total[5m])) > 0"
    assert rule["for"] == "15m"
    assert rule["labels"]["severity"] == "P1"


def test_what_the_issue_asks_is_watched(rules: dict[str, Any]) -> None:
    assert REQUIRED_ALERTS - {rule["alert"] for rule in alerts(rules)} == set()


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown`` (lower case, punctuation dropped)."""
    anchors = set()
    for line in markdown.splitlines():
        if match := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line):
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_runbooks_are_readme_sections(rules: dict[str, Any]) -> None:
    """Each ``runbook_url`` points at a heading of README.md that exists (its "Operations" section)."""
    anchors = github_anchors((ROOT / "README.md").read_text())
    missing = []
    for rule in alerts(rules):
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        if page != "README.md" or anchor not in anchors:
            missing.append(f"{rule['alert']}: {url}")
    assert not missing, "runbooks without a README heading:\n" + "\n".join(missing)


def test_rules_name_only_exported_metrics(rules: dict[str, Any]) -> None:
    known = {**exported_metrics(), **{name: "gauge" for name in recording_rules(rules)}}
    exprs = [
        (rule.get("alert") or rule["record"], rule["expr"])
        for group in rules["groups"]
        for rule in group["rules"]
    ]
    assert list(unknown_names(exprs, known)) == []


def test_recording_rules_are_named_and_used(rules: dict[str, Any]) -> None:
    """``eas:`` names (level:metric:operation) for rules that an alert or a dashboard reads."""
    records = recording_rules(rules)
    assert records, "no recording rules"
    assert [name for name in records if not re.fullmatch(r"eas:[a-z0-9_]+:[a-z0-9_]+", name)] == []
    readers = " ".join(rule["expr"] for rule in alerts(rules))
    readers += " ".join(
        path.read_text() for path in (RULES.parent.parent / "grafana" / "dashboards").glob("*.json")
    )
    assert sorted(name for name in records if name not in readers) == []


def unit_test_cases() -> list[dict[str, Any]]:
    cases = []
    for path in UNIT_TESTS:
        document = yaml.safe_load(path.read_text())
        assert document["rule_files"] == [RULES.name], f"{path.name} tests another rule file"
        for test in document["tests"]:
            cases.extend(test.get("alert_rule_test", []))
    return cases


def test_unit_tests_fire_and_silence_every_alert(rules: dict[str, Any]) -> None:
    """Every alert, each of its severity tiers, fires in some promtool case and stays silent in another."""
    fired: set[tuple[str, str]] = set()
    silent: set[str] = set()
    for case in unit_test_cases():
        expected = case.get("exp_alerts") or []
        if not expected:
            silent.add(case["alertname"])
        fired.update((case["alertname"], alert["exp_labels"]["severity"]) for alert in expected)
    tiers = {(rule["alert"], rule["labels"]["severity"]) for rule in alerts(rules)}
    assert sorted(tiers - fired) == [], "never fired in a promtool test"
    assert sorted({name for name, _ in tiers} - silent) == [], "never shown silent in a promtool test"


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def run_unit_tests(folder: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, "test", "rules", *(path.name for path in files)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    result = run_unit_tests(RULES.parent, *UNIT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The unit tests are not vacuous: a P0 fast-lane threshold raised from 60 s to 10 minutes fails them."""
    text = RULES.read_text()
    rule = '(eas_lane_oldest_age_seconds{priority="P0"}) > 60\n'
    assert text.count(rule) == 1
    (tmp_path / RULES.name).write_text(text.replace(rule, rule.replace("> 60", "> 600")))
    shutil.copy(UNIT_TESTS[0], tmp_path / UNIT_TESTS[0].name)
    result = run_unit_tests(tmp_path, tmp_path / UNIT_TESTS[0].name)
    assert result.returncode != 0
    assert "EASFastLaneQueueStale" in result.stdout + result.stderr
