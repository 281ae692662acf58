"""Alertmanager's configuration (helm/eas/files/alertmanager/alertmanager.yaml): routes by severity.

Each severity goes where the monitoring agent sends its own alerts (``agents/monitoring/severity.py``,
the one rule: P0 pages through PagerDuty and Slack, P1 PagerDuty, Opsgenie and Slack, P2 Opsgenie and
Slack, P3 the daily digest); a P0 silences the lower alerts of the same service. Checked three ways:
the file's structure in Python (no secret inline, every severity of the rules routed), ``amtool check-config``
and ``amtool config routes test`` (Debian ``prometheus-alertmanager``), and a real Alertmanager on
127.0.0.1 that receives alerts and delivers them to local stand-ins of PagerDuty, Opsgenie and Slack.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from eas_pipelines.agents.monitoring.severity import (
    OPSGENIE_PRIORITY,
    PAGERDUTY_SEVERITY,
    SEVERITIES,
    destinations,
)
from tests.deploy.promql import FILES, load_rules

CONFIG = FILES / "alertmanager" / "alertmanager.yaml"
SECRETS_DIR = "/etc/alertmanager/secrets/eas-alerting/"
AMTOOL = shutil.which("amtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None, reason="amtool not found (Debian `prometheus-alertmanager`)"
)

RECEIVER_OF = {"P0": "eas-p0-page", "P1": "eas-p1-oncall", "P2": "eas-p2-notify", "P3": "eas-p3-digest"}
INTEGRATION_OF_DESTINATION = {
    "pagerduty": "pagerduty_configs",
    "opsgenie": "opsgenie_configs",
    "slack": "slack_configs",
    "digest": "slack_configs",  # the daily digest is a Slack message on its own channel
}
INTEGRATIONS_OF = {
    RECEIVER_OF[severity]: {INTEGRATION_OF_DESTINATION[name] for name in destinations(severity).names()}
    for severity in SEVERITIES
}
"""Each receiver's integrations, from the monitoring agent's destinations of its severity."""
SECRET_KEYS = {"routing_key", "service_key", "api_key", "api_url", "slack_api_url", "opsgenie_api_key"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) of a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def test_no_secret_is_inline(config: dict[str, Any]) -> None:
    """Keys and webhook URLs come from files (a Kubernetes Secret), never from this file."""
    inline = [f"{path}.{key}" for path, key, _ in walk(config) if key in SECRET_KEYS]
    assert inline == []
    files = [value for _, key, value in walk(config) if key.endswith("_file")]
    assert files and all(value.startswith(SECRETS_DIR) for value in files)


def test_receivers_integrate_by_severity(config: dict[str, Any]) -> None:
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    for name, integrations in INTEGRATIONS_OF.items():
        assert {key for key in receivers[name] if key.endswith("_configs")} == integrations, name
    for severity in SEVERITIES:
        receiver = receivers[RECEIVER_OF[severity]]
        for pagerduty in receiver.get("pagerduty_configs", []):
            assert pagerduty["routing_key_file"].startswith(SECRETS_DIR)  # Events API v2: a routing key
            assert pagerduty["severity"] == PAGERDUTY_SEVERITY[severity]
        for opsgenie in receiver.get("opsgenie_configs", []):
            assert opsgenie["priority"] == OPSGENIE_PRIORITY[severity]
    channels = {
        name: [slack["channel"] for slack in receiver.get("slack_configs", [])]
        for name, receiver in receivers.items()
    }
    assert channels["eas-p3-digest"] == ["#eas-digest"]
    assert all(channel == ["#eas-alerts"] for name, channel in channels.items() if name != "eas-p3-digest")


def test_every_severity_of_the_rules_has_a_route(config: dict[str, Any]) -> None:
    """The rules' severities and the routes' matchers are the same set: no alert falls to the default."""
    severities = {
        rule["labels"]["severity"]
        for group in load_rules()["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    routed = {route["matchers"][0]: route["receiver"] for route in config["route"]["routes"]}
    assert routed == {f'severity="{severity}"': RECEIVER_OF[severity] for severity in sorted(severities)}


def test_the_digest_is_daily(config: dict[str, Any]) -> None:
    (digest,) = [route for route in config["route"]["routes"] if route["receiver"] == "eas-p3-digest"]
    assert digest["group_interval"] == "24h"
    assert digest["repeat_interval"] == "24h"


def test_p0_inhibits_lower_alerts_of_its_service(config: dict[str, Any]) -> None:
    rules = config["inhibit_rules"]
    by_source = {rule["source_matchers"][0]: rule for rule in rules}
    p0 = by_source['severity="P0"']
    assert p0["target_matchers"] == ['severity=~"P1|P2|P3"']
    assert set(p0["equal"]) == {"namespace", "service"}
    # The lower tiers of one alert are silenced by its higher tier only (same alertname).
    for source in ('severity="P1"', 'severity="P2"'):
        assert "alertname" in by_source[source]["equal"]


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AMTOOL, *args], capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )


@needs_amtool
def test_amtool_accepts_the_config() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_amtool
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=P0", "alertname=EASGatewayDown", "service=gateway"], "eas-p0-page"),
        (["severity=P1", "alertname=EASClassificationFailing", "service=nlp"], "eas-p1-oncall"),
        (["severity=P2", "alertname=EASConnectorErrorRatioHigh", "system=sap"], "eas-p2-notify"),
        (["severity=P3", "alertname=EASApprovalsBacklogAging"], "eas-p3-digest"),
        (["alertname=SomeoneElsesAlert"], "eas-p2-notify"),  # no severity: seen, not dropped
        (["severity=critical", "alertname=Watchdog"], "eas-p2-notify"),
    ],
)
def test_amtool_routes_each_severity(labels: list[str], receiver: str) -> None:
    result = amtool("config", "routes", "test", f"--config.file={CONFIG}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


@needs_amtool
def test_every_template_renders(config: dict[str, Any], tmp_path: Path) -> None:
    """Each Go template of the config renders with a firing alert (a typo fails only at 3 a.m. otherwise)."""
    alert = {
        "status": "firing",
        "labels": {
            "alertname": "EASGatewayDown",
            "severity": "P0",
            "namespace": "production",
            "service": "gateway",
        },
        "annotations": {
            "summary": "The EAS intake API is down in production",
            "description": "No eas-gateway target has answered.",
            "runbook_url": "README.md#easgatewaydown",
        },
        "startsAt": "2026-01-05T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "0123456789abcdef",
    }
    data = {
        "receiver": "eas-p0-page",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {"alertname": "EASGatewayDown"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager",
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "none.tmpl").write_text("")
    templates = sorted({value for _, _, value in walk(config) if isinstance(value, str) and "{{" in value})
    assert len(templates) >= 5
    rendered = {}
    for template in templates:
        result = amtool(
            "template",
            "render",
            f"--template.glob={tmp_path / 'none.tmpl'}",
            f"--template.data={tmp_path / 'data.json'}",
            f"--template.text={template}",
        )
        assert result.returncode == 0, f"{template!r}: {result.stderr}"
        rendered[template] = result.stdout
    title = next(text for template, text in rendered.items() if template.startswith("[{{ .Status"))
    assert title.strip() == "[FIRING:1] P0 EASGatewayDown (production)"


# ---------------------------------------------------------------------------------------------- live


@dataclass
class Capture:
    """What the stand-ins of PagerDuty, Opsgenie and Slack received: (path, headers, JSON body)."""

    calls: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, prefix: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        with self.lock:
            return [(headers, body) for path, headers, body in self.calls if path.startswith(prefix)]


def serve_capture(capture: Capture) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with capture.lock:
                capture.calls.append((self.path, dict(self.headers), json.loads(body or b"{}")))
            answer = b'{"status": "success", "message": "Event processed", "dedup_key": "x"}'
            self.send_response(202 if self.path.startswith("/pagerduty") else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(what: str, check: Callable[[], Any], deadline_s: float = 60.0) -> Any:
    """``check()``'s first truthy answer, asked every 0.2 s until ``deadline_s``; else fail on ``what``."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if answer := check():
            return answer
        time.sleep(0.2)
    pytest.fail(f"timed out after {deadline_s:.0f}s waiting for {what}")


def local_config(tmp_path: Path, stand_ins: str) -> Path:
    """The config as deployed, its secrets read from files in ``tmp_path`` and its vendors at ``stand_ins``.

    Only timings shrink (group_wait 1 s, the digest included) so that the test does not wait an hour.
    """
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "pagerduty-routing-key").write_text("test-routing-key-0123456789abcdef")
    (secrets / "opsgenie-api-key").write_text("test-opsgenie-key")
    (secrets / "slack-webhook-url").write_text(f"{stand_ins}/slack/hook")
    config = yaml.safe_load(CONFIG.read_text().replace(SECRETS_DIR, f"{secrets}/"))
    config["global"]["pagerduty_url"] = f"{stand_ins}/pagerduty/v2/enqueue"
    config["global"]["opsgenie_api_url"] = f"{stand_ins}/opsgenie/"
    for route in [config["route"], *config["route"]["routes"]]:
        route["group_wait"] = "1s"
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def alert(name: str, severity: str, service: str, summary: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": severity, "service": service, "namespace": "production"},
        "annotations": {
            "summary": summary,
            "description": f"{summary}.",
            "runbook_url": f"README.md#{name.lower()}",
        },
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


@pytest.mark.skipif(ALERTMANAGER is None, reason="Alertmanager not found (Debian `prometheus-alertmanager`)")
def test_live_alertmanager_pages_notifies_and_inhibits(tmp_path: Path) -> None:
    capture = Capture()
    server = serve_capture(capture)
    stand_ins = f"http://127.0.0.1:{server.server_address[1]}"
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={local_config(tmp_path, stand_ins)}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"Alertmanager exited: {(tmp_path / 'alertmanager.log').read_text()}")
            try:
                return httpx.get(f"{api}/-/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        poll("Alertmanager to be ready", ready)
        posted = [
            alert("EASGatewayDown", "P0", "gateway", "The EAS intake API is down in production"),
            alert("EASGatewayHTTPErrors", "P1", "gateway", "40% of the intake API's answers are 5xx"),
            alert("EASClassificationFailing", "P1", "nlp", "Requests cannot be classified"),
            alert("EASConnectorErrorRatioHigh", "P2", "connectors", "20% of the calls to sap fail"),
            alert("EASApprovalsBacklogAging", "P3", "approvals", "An approval has waited 1d 8h 0m 0s"),
        ]
        httpx.post(f"{api}/api/v2/alerts", json=posted, timeout=10).raise_for_status()

        def states() -> dict[str, dict[str, Any]] | None:
            found = {a["labels"]["alertname"]: a["status"] for a in httpx.get(f"{api}/api/v2/alerts").json()}
            return (
                found if len(found) == len(posted) and found["EASGatewayHTTPErrors"]["inhibitedBy"] else None
            )

        status = poll("the P0 to inhibit the P1 of its service", states)
        assert status["EASGatewayHTTPErrors"]["state"] == "suppressed"
        assert [name for name, s in status.items() if s["state"] != "active"] == ["EASGatewayHTTPErrors"]

        # P0: PagerDuty, with the routing key read from its file, and Slack (the P1 pages too, as an error).
        def critical_pages() -> list[tuple[dict[str, str], dict[str, Any]]]:
            return [
                (h, body)
                for h, body in capture.to("/pagerduty/")
                if body["payload"]["severity"] == "critical"
            ]

        (headers, event), *_ = poll("the PagerDuty event", critical_pages)
        assert event["routing_key"] == "test-routing-key-0123456789abcdef"
        assert event["event_action"] == "trigger"
        assert event["payload"]["severity"] == "critical"
        assert "The EAS intake API is down in production" in event["payload"]["summary"]

        # P1 of another service: Opsgenie with its key (the P2 is there too, one step lower).
        def p1_opsgenie() -> list[tuple[dict[str, str], dict[str, Any]]]:
            return [(h, body) for h, body in capture.to("/opsgenie/") if body.get("priority") == "P2"]

        (headers, opsgenie), *_ = poll("the Opsgenie alert", p1_opsgenie)
        assert headers["Authorization"] == "GenieKey test-opsgenie-key"
        assert opsgenie["message"].startswith("EASClassificationFailing")

        # Slack: every severity but the inhibited alert; the digest on its own channel.
        def slack_titles() -> dict[str, str] | None:
            titles = {}
            for _, body in capture.to("/slack/"):
                for attachment in body.get("attachments", []):
                    titles[attachment["title"]] = body["channel"]
            return titles if len(titles) >= 4 else None

        titles = poll("four Slack messages", slack_titles)
        assert titles == {
            "[FIRING:1] P0 EASGatewayDown (production)": "#eas-alerts",
            "[FIRING:1] P1 EASClassificationFailing (production)": "#eas-alerts",
            "[FIRING:1] P2 EASConnectorErrorRatioHigh (production)": "#eas-alerts",
            "[FIRING:1] P3 EASApprovalsBacklogAging (production)": "#eas-digest",
        }
        everything = json.dumps([body for _, _, body in capture.calls])
        assert "EASGatewayHTTPErrors" not in everything
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()
        server.shutdown()
        server.server_close()
