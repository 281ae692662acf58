"""What metrics and tracing cost: fast-lane runs/min and NLP P95 with observability on and off, side by side.

    .venv/bin/python benchmarks/observability_overhead.py --model .eas/models/nlp-default \\
        --json benchmarks/results/observability_overhead.json
    .venv/bin/python benchmarks/observability_overhead.py --phases nlp --model .eas/models/nlp-default \\
        --sampler parentbased_traceidratio --sampler-arg 0.2 --rounds 4 --json /tmp/obs-nlp.json

Each round runs the same two measurements once per mode, the modes' order alternating between rounds
(off, on / on, off, ...) so that a machine that drifts (thermal, a neighbour) does not favour one mode:

- **fast lane**: ``benchmarks/orchestration.py --phases fast`` (its own PostgreSQL database, Redis
  keys, emulators and warm workers; ``--job``, ``--workers``, ``--fast-requests``): ``fast_runs_per_min``.
- **NLP**: ``benchmarks/nlp_latency.py`` (in-process and one-at-a-time HTTP through a real
  ``eas-nlp serve``): ``http_p95_ms`` and ``inprocess_p95_ms``. Skipped without ``--model``.

The modes are environments, nothing else differs:

- **off**: ``OTEL_SDK_DISABLED=true`` (no tracer provider: no span, no id) and
  ``EAS_WORKER_METRICS_PORT=0`` (no ``/metrics`` server on the workers, nothing scrapes them). The
  counters and histograms themselves are still updated in-process: prometheus_client has no switch,
  so their cost (a lock and an add each) is in both modes.
- **on**: spans sampled by ``--sampler`` (default every span; ``--sampler parentbased_traceidratio
  --sampler-arg 0.2`` is what the production values run) and exported over OTLP/HTTP
  (``OTEL_TRACES_EXPORTER=otlp``) to a
  collector stand-in in this process that decodes each export and counts its spans; each worker serves
  ``/metrics`` on a port of its own and is scraped every ``--scrape-interval`` seconds.

The target (issue 16): at most 5 % cost on both figures. The JSON holds every run's figures, the
medians per mode and the overhead in percent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parents[1]
TARGET_OVERHEAD_PERCENT = 5.0


class CollectorStandIn:
    """An OTLP/HTTP traces endpoint on 127.0.0.1: decodes each export (protobuf) and counts its spans,
    so the exporters do all their real work (batching, encoding, HTTP) against a receiver that answers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exports = self.spans = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                count = sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)
                with stand_in.lock:
                    stand_in.exports += 1
                    stand_in.spans += count
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> CollectorStandIn:
        self.thread.start()
        return self

    def take(self) -> dict[str, int]:
        """Exports and spans received since the last call."""
        with self.lock:
            counts = {"exports": self.exports, "spans": self.spans}
            self.exports = self.spans = 0
        return counts

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def mode_environment(
    mode: str, collector: CollectorStandIn, sampler: str = "always_on", sampler_arg: str | None = None
) -> dict[str, str]:
    """The process environment of one mode (see the module docstring)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key != "EAS_WORKER_METRICS_PORT"
    }
    if mode == "off":
        env.update({"OTEL_SDK_DISABLED": "true", "EAS_WORKER_METRICS_PORT": "0"})
    else:
        env.update(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_TRACES_SAMPLER": sampler,
            }
        )
        if sampler_arg is not None:
            env["OTEL_TRACES_SAMPLER_ARG"] = sampler_arg
    return env


def run_child(command: list[str], env: dict[str, str], json_path: Path, what: str) -> dict[str, Any]:
    """Run one benchmark script to completion (its output streams through) and read its JSON."""
    print(f"\n=== {what}: {' '.join(command[1:])}", flush=True)
    completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if not json_path.exists():
        raise RuntimeError(f"{what} wrote no JSON (exit code {completed.returncode})")
    return json.loads(json_path.read_text())


def overhead(off: float | None, on: float | None, higher_is_better: bool) -> float | None:
    """The cost of 'on' in percent of 'off' (positive: 'on' is worse)."""
    if not off or on is None:
        return None
    change = (off - on) / off if higher_is_better else (on - off) / off
    return round(change * 100, 2)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def run_fast_lane(
    args: argparse.Namespace, env: dict[str, str], tmp: Path, round_index: int, mode: str
) -> dict[str, Any]:
    """One fast-lane burst through ``orchestration.py --phases fast`` in the mode's environment."""
    fast_json = tmp / f"fast-{round_index}-{mode}.json"
    fast = run_child(
        [
            sys.executable,
            "benchmarks/orchestration.py",
            "--phases",
            "fast",
            "--job",
            args.job,
            "--workers",
            str(args.workers),
            "--fast-requests",
            str(args.fast_requests),
            "--scrape-interval",
            str(args.scrape_interval if mode == "on" else 0),
            "--json",
            str(fast_json),
        ],
        env,
        fast_json,
        f"round {round_index + 1}, {mode}: fast lane",
    )
    return {
        "fast_runs_per_min": fast.get("fast_runs_per_min"),
        "fast_start_p95_ms": fast.get("fast_start_p95_ms"),
        "worker_metrics_scrapes": fast.get("worker_metrics_scrapes"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="write every figure here")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (off, on) in alternating order")
    parser.add_argument("--job", default="invoice", help="orchestration.py --job")
    parser.add_argument("--workers", type=int, default=3, help="warm fast-lane workers")
    parser.add_argument("--fast-requests", type=int, default=1000, help="fast-lane burst size")
    parser.add_argument("--scrape-interval", type=float, default=5.0, help="seconds between scrapes (on)")
    parser.add_argument("--model", type=Path, default=None, help="NLP model directory; none: no NLP figures")
    parser.add_argument(
        "--phases", default="fast,nlp", help="comma-separated: fast (the fast lane), nlp (needs --model)"
    )
    parser.add_argument(
        "--sampler",
        default="always_on",
        help="OTEL_TRACES_SAMPLER of the on mode (the chart's: parentbased_traceidratio)",
    )
    parser.add_argument(
        "--sampler-arg", default=None, help="OTEL_TRACES_SAMPLER_ARG (production values: 0.2)"
    )
    parser.add_argument("--nlp-requests", type=int, default=1000, help="nlp_latency.py --requests")
    args = parser.parse_args(argv)
    phases = {phase.strip() for phase in args.phases.split(",") if phase.strip()}
    if not phases or phases - {"fast", "nlp"}:
        parser.error(f"--phases {args.phases!r}: name fast, nlp or both")
    if phases == {"nlp"} and args.model is None:
        parser.error("--phases nlp needs --model")
    if args.model is not None and not (args.model / "model.onnx").exists():
        parser.error(f"--model {args.model}: no model.onnx there (train one: `eas-nlp train`, or `make run`)")

    collector = CollectorStandIn().start()
    runs: list[dict[str, Any]] = []
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
        },
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "target_overhead_percent": TARGET_OVERHEAD_PERCENT,
        "runs": runs,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="eas-obs-bench-") as tmp:
            for round_index in range(args.rounds):
                modes = ("off", "on") if round_index % 2 == 0 else ("on", "off")
                for mode in modes:
                    env = mode_environment(mode, collector, args.sampler, args.sampler_arg)
                    record: dict[str, Any] = {"round": round_index + 1, "mode": mode}
                    if "fast" in phases:
                        record.update(run_fast_lane(args, env, Path(tmp), round_index, mode))
                        record["fast_spans"] = collector.take()
                    if args.model is not None and "nlp" in phases:
                        nlp_json = Path(tmp) / f"nlp-{round_index}-{mode}.json"
                        nlp = run_child(
                            [
                                sys.executable,
                                "benchmarks/nlp_latency.py",
                                "--model",
                                str(args.model),
                                "--requests",
                                str(args.nlp_requests),
                                "--json",
                                str(nlp_json),
                            ],
                            env,
                            nlp_json,
                            f"round {round_index + 1}, {mode}: NLP",
                        )
                        record["nlp_http_p95_ms"] = nlp.get("http_p95_ms")
                        record["nlp_inprocess_p95_ms"] = nlp.get("inprocess_p95_ms")
                        record["nlp_spans"] = collector.take()
                    runs.append(record)
                    print(f"--- {record}", flush=True)
    finally:
        collector.stop()
        summary: dict[str, Any] = {}
        for key, higher_is_better in (
            ("fast_runs_per_min", True),
            ("fast_start_p95_ms", False),
            ("nlp_http_p95_ms", False),
            ("nlp_inprocess_p95_ms", False),
        ):
            off = median([r.get(key) for r in runs if r["mode"] == "off"])
            on = median([r.get(key) for r in runs if r["mode"] == "on"])
            summary[key] = {"off": off, "on": on, "overhead_percent": overhead(off, on, higher_is_better)}
        result["summary"] = summary
        result["completed"] = len(runs) == 2 * args.rounds
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(summary, indent=2))
        print(f"wrote {args.json}")
    return 0 if result["completed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
