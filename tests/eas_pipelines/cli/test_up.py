"""``eas up``, the README's quick start, run the way a user runs it on a fresh machine.

One real ``eas up --workers 1`` on an empty data folder, with no ``EAS_*`` configuration but the
data folder and ports: it must start the embedded PostgreSQL and Redis itself, migrate, and bring
up the NLP service, the gateway, Dagster (webserver + daemon) and a warm worker; ``eas submit``,
typed as a user types it, must then take an invoice through the fast lane to a succeeded Dagster
run; and SIGTERM must stop every process it started, the daemonised PostgreSQL included. Until
this test that path was only tried by hand, and the parts' own tests (embedded servers, process
group, gateway, worker) cannot see a wrong wire between them.

A second test kills ``eas up`` with SIGKILL (the cheapest configuration: no Dagster, one worker):
its watchdog must stop every process it ran, the embedded servers included, and a new ``eas up``
must then start cleanly on the same folder (and be refused while the first one lives).

A tiny test model is copied in as ``models/nlp-default`` so that the NLP service skips its
first-start training (minutes); everything else is the production path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from eas_pipelines.cli.up import child_environment
from eas_pipelines.embedded._common import pid_alive
from eas_pipelines.embedded.leftovers import UpRecord
from eas_pipelines.routing import INVOICE_JOB
from eas_pipelines.settings import EASSettings
from tests.eas_pipelines.cli.up_support import (
    BIN,
    KILLED_GONE_TIMEOUT_S,
    SETTLE_TIMEOUT_S,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    TERMINAL,
    TEXT,
    UP_OUTPUT,
    alive,
    argv_of,
    argv_runs,
    describe,
    eas_json,
    http_probe,
    kill_leftovers,
    log_tails,
    new_ports,
    processes_of,
    run_ids_of,
    server_pids,
    start_up,
    up_environment,
    wait_for_record,
    wait_until_up,
    worker_probe,
)


def every_source_up(response: httpx.Response) -> bool:
    """Whether the exporter read all its sources: the embedded PostgreSQL and Redis, and Dagster."""
    up = {
        sample.labels["source"]: sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name == "eas_exporter_source_up"
        for sample in family.samples
    }
    return len(up) == 4 and all(value == 1.0 for value in up.values())


RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId jobName status tags { key value } }
  }
}
"""


def test_eas_up_serves_an_invoice_end_to_end_and_sigterm_leaves_nothing_running(
    data_dir: Path, invoice_model_dir: Path
) -> None:
    for tool in ("eas", "eas-nlp", "dagster"):
        assert (BIN / tool).exists(), f"{BIN / tool} is missing: install the project (pip install -e .)"
    shutil.copytree(invoice_model_dir, data_dir / "models" / "nlp-default")
    ports = new_ports()
    env = up_environment(data_dir, ports)
    nlp_url = f"http://127.0.0.1:{ports.nlp}"
    tracked: dict[int, psutil.Process] = {}
    started = time.monotonic()
    up = start_up(data_dir, env, ["--workers", "1"], UP_OUTPUT)
    try:
        tracked[up.pid] = psutil.Process(up.pid)
        wait_until_up(
            up,
            data_dir,
            {
                "gateway": http_probe(f"http://127.0.0.1:{ports.gateway}/healthz"),
                "NLP service": http_probe(f"{nlp_url}/readyz"),
                # The gateway must call the NLP server eas up started, on its port, and see it ready.
                "gateway's NLP replica": http_probe(
                    f"http://127.0.0.1:{ports.gateway}/readyz",
                    lambda response: response.json().get("nlp_replicas") == {nlp_url: True},
                ),
                "Dagster webserver": http_probe(f"http://127.0.0.1:{ports.dagster}/server_info"),
                "fast-lane worker": worker_probe(data_dir, ports.redis),
                "worker /metrics": http_probe(f"http://127.0.0.1:{ports.worker_metrics}/metrics"),
                # Every source readable: the embedded PostgreSQL and Redis, and Dagster's instance.
                "exporter": http_probe(f"http://127.0.0.1:{ports.exporter}/metrics", every_source_up),
            },
        )
        up_after = time.monotonic() - started

        submitted = eas_json(["submit", TEXT, "--timeout", str(SETTLE_TIMEOUT_S)], env, data_dir)
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        request = eas_json(["status", submitted["id"]], env, data_dir)
        while request["status"] not in TERMINAL and time.monotonic() < deadline:
            time.sleep(2.0)
            request = eas_json(["status", submitted["id"]], env, data_dir)
        assert request["status"] == "succeeded", (
            f"request ended {request['status']}: {json.dumps(request, indent=1)[:4000]}\n"
            f"{log_tails(data_dir)}"
        )
        assert (submitted["intent"], submitted["lane"]) == ("finance.invoice_process", "fast"), submitted
        assert (request["agent"], request["workflow"], request["lane"]) == ("finance", INVOICE_JOB, "fast")
        assert [step["to_status"] for step in request["history"]] == [
            "received",
            "classified",
            "queued",
            "running",
            "succeeded",
        ]
        run_ids = run_ids_of(request)
        assert len(run_ids) == 1, f"expected one Dagster run in the audit trail, got {run_ids}"
        run_id = run_ids.pop()
        # The run is in the Dagster instance the UI shows (PostgreSQL storage shared with the worker).
        response = httpx.post(
            f"http://127.0.0.1:{ports.dagster}/graphql",
            json={"query": RUN_QUERY, "variables": {"runId": run_id}},
            timeout=60.0,
        )
        assert response.status_code == 200, response.text
        run = response.json()["data"]["runOrError"]
        assert (run["__typename"], run["jobName"], run["status"]) == ("Run", INVOICE_JOB, "SUCCESS"), run
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert (tags.get("eas/request_id"), tags.get("eas/lane")) == (submitted["id"], "fast"), tags
        # The worker that ran it counted it, with the time it saved.
        worker_metrics = httpx.get(f"http://127.0.0.1:{ports.worker_metrics}/metrics", timeout=10.0).text
        assert (
            'eas_requests_total{agent="finance",intent="finance.invoice_process",status="completed"} 1.0'
            in worker_metrics
        ), worker_metrics[:4000]
        assert 'eas_time_saved_seconds_total{agent="finance"} 900.0' in worker_metrics
        settled_after = time.monotonic() - started - up_after

        # Everything eas up runs, as seen now; each kind must be found, or "nothing left" proves nothing.
        for process in [*psutil.Process(up.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)
        seen = argv_of(tracked.values())
        expected: dict[str, Callable[[str, list[str]], bool]] = {
            # the postmaster, daemonised by pg_ctl: no child of eas up
            "postgres -D": lambda name, argv: argv_runs(argv, "-D", str(data_dir / "postgres")),
            "redis-server": lambda name, argv: name == "redis-server",  # its title replaces its argv
            "eas-nlp serve": lambda name, argv: argv_runs(argv, "eas-nlp", "serve"),
            "eas gateway": lambda name, argv: argv_runs(argv, "eas", "gateway"),
            "eas worker": lambda name, argv: argv_runs(argv, "eas", "worker"),
            "eas exporter": lambda name, argv: argv_runs(argv, "eas", "exporter"),
            "eas run-server": lambda name, argv: argv_runs(argv, "eas", "run-server"),
            "dagster_webserver": lambda name, argv: argv_runs(argv, "-m", "dagster_webserver"),
            "dagster._daemon": lambda name, argv: argv_runs(argv, "-m", "dagster._daemon"),
            "eas_sandbox": lambda name, argv: argv_runs(argv, "-m", "eas_sandbox"),
        }
        for label, matches in expected.items():
            assert any(matches(name, argv) for name, argv in seen), (
                f"no process matching {label!r} among those of eas up:\n{describe(tracked.values())}"
            )

        stopping = time.monotonic()
        up.send_signal(signal.SIGTERM)
        try:
            status = up.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"eas up still runs {STOP_TIMEOUT_S:.0f}s after SIGTERM\n{log_tails(data_dir)}")
        stopped_after = time.monotonic() - stopping
        assert status == 0, f"eas up exited with status {status} after SIGTERM\n{log_tails(data_dir)}"
        left = {p.pid: p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)}
        assert not left, (
            f"still running after eas up exited:\n{describe(left.values())}\n{log_tails(data_dir)}"
        )
        print(
            f"eas up: all parts up after {up_after:.1f}s, invoice succeeded {settled_after:.1f}s later, "
            f"stopped {stopped_after:.1f}s after SIGTERM"
        )
    finally:
        kill_leftovers(up, data_dir, tracked)


def test_sigkilled_eas_up_leaves_nothing_running_and_the_next_one_starts_cleanly(
    data_dir: Path, invoice_model_dir: Path
) -> None:
    shutil.copytree(invoice_model_dir, data_dir / "models" / "nlp-default")
    ports = new_ports()
    env = up_environment(data_dir, ports)
    cheap = ["--workers", "1", "--no-dagster"]
    tracked: dict[int, psutil.Process] = {}
    first = start_up(data_dir, env, cheap, "eas-up-1.out")
    second: subprocess.Popen[bytes] | None = None
    try:
        record = wait_for_record(first, data_dir, {"nlp", "gateway", "worker-1"})
        servers = server_pids(data_dir)
        for process in [*psutil.Process(first.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)
        assert record.watchdog_pid in tracked, f"no watchdog among {describe(tracked.values())}"
        assert set(servers.values()) <= set(tracked), "the embedded servers belong to the data folder"

        refused = subprocess.run(
            [str(BIN / "eas"), "up", *cheap],
            env=env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert refused.returncode == 1, f"{refused.stdout}\n{refused.stderr}"
        assert (
            f"another eas up is running on this data folder ({data_dir}), pid {first.pid}" in refused.stderr
        )

        first.send_signal(signal.SIGKILL)
        first.wait()
        deadline = time.monotonic() + KILLED_GONE_TIMEOUT_S
        while True:
            left = [p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)]
            left_servers = [pid for pid in servers.values() if pid_alive(pid)]
            if not left and not left_servers:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{KILLED_GONE_TIMEOUT_S:.0f}s after eas up was killed, still running:\n"
                    f"{describe(left)}\nservers {left_servers}\n{log_tails(data_dir)}"
                )
            time.sleep(0.1)
        assert not UpRecord.path(data_dir).exists(), "the watchdog removes the record of what it stopped"
        watchdog_log = (data_dir / "logs" / "watchdog.log").read_text()
        assert f"eas up (pid {first.pid}) died; stopped what it left:" in watchdog_log, watchdog_log

        second = start_up(data_dir, env, cheap, "eas-up-2.out")
        tracked[second.pid] = psutil.Process(second.pid)
        wait_until_up(second, data_dir, {"gateway": http_probe(f"http://127.0.0.1:{ports.gateway}/healthz")})
        for process in [*psutil.Process(second.pid).children(recursive=True), *processes_of(data_dir)]:
            tracked.setdefault(process.pid, process)

        # A crash is not an outage: a worker killed with SIGKILL is restarted, the rest run on.
        def children_now() -> dict[str, int]:
            return {
                child.name: child.pid for child in wait_for_record(second, data_dir, {"worker-1"}).children
            }

        before = children_now()
        os.kill(before["worker-1"], signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        after = children_now()
        while after["worker-1"] == before["worker-1"]:
            assert time.monotonic() < deadline, f"worker-1 was not restarted\n{log_tails(data_dir)}"
            time.sleep(0.2)
            after = children_now()
        assert after["worker-1"] != before["worker-1"] and pid_alive(after["worker-1"])
        assert {name: pid for name, pid in after.items() if name != "worker-1"} == {
            name: pid for name, pid in before.items() if name != "worker-1"
        }
        assert all(pid_alive(after[name]) for name in ("nlp", "gateway"))
        tracked.setdefault(after["worker-1"], psutil.Process(after["worker-1"]))
        second.send_signal(signal.SIGTERM)
        try:
            status = second.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"eas up still runs {STOP_TIMEOUT_S:.0f}s after SIGTERM\n{log_tails(data_dir)}")
        output = (data_dir / "eas-up-2.out").read_text()
        assert status == 0, f"the second eas up exited with status {status}\n{log_tails(data_dir)}"
        assert "leftovers" not in output, output
        restarts = [line for line in output.splitlines() if line.startswith("restarting ")]
        assert restarts == [
            f"restarting worker-1 (pid {before['worker-1']} exited with status -9; restart 1 of 5) in 1.0s; "
            f"see {data_dir / 'logs' / 'worker-1.log'}"
        ], output
        left = [p for p in [*tracked.values(), *processes_of(data_dir)] if alive(p)]
        assert not left, f"still running after eas up exited:\n{describe(left)}\n{log_tails(data_dir)}"
    finally:
        kill_leftovers(first, data_dir, tracked)
        if second is not None:
            kill_leftovers(second, data_dir, tracked)


def test_argv_matching_survives_long_paths() -> None:
    """The interpreter and script paths of a deep checkout fill any cut-off, never the argv elements."""
    deep = "/" + "/".join(["a-rather-long-folder-name"] * 12)
    argv = [f"{deep}/.venv/bin/python", f"{deep}/.venv/bin/eas-nlp", "serve", "--port", "8081"]
    assert len(" ".join(argv[:2])) > 200
    assert argv_runs(argv, "eas-nlp", "serve")
    assert not argv_runs(argv, "eas", "serve") and not argv_runs(argv, "serve", "eas-nlp")
    assert argv_runs(["postgres", "-D", f"{deep}/postgres"], "-D", f"{deep}/postgres")


def test_children_call_the_nlp_server_eas_up_starts_unless_replicas_are_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default EAS_NLP_URLS names port 8081, whatever EAS_NLP_PORT says; configured replicas win.
    monkeypatch.delenv("EAS_NLP_URLS", raising=False)
    moved = child_environment(
        EASSettings(data_dir=tmp_path, nlp_port=18181), "postgresql://h/db", "redis://h"
    )
    assert moved["EAS_NLP_URLS"] == "http://127.0.0.1:18181"
    assert moved["EAS_NLP_PORT"] == "18181"

    configured = EASSettings(
        data_dir=tmp_path, nlp_port=18181, nlp_urls="http://nlp-a:8081,http://nlp-b:8081"
    )
    assert "EAS_NLP_URLS" not in child_environment(configured, "postgresql://h/db", "redis://h")
