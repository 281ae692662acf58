"""Latency and throughput of the NLP service: in-process, over HTTP one at a time, and under load.

    .venv/bin/python benchmarks/nlp_latency.py --model .eas/models/nlp-default \\
        --json benchmarks/results/nlp_latency.json

Three measurements, on the same utterances (varied enterprise-style requests, seeded):

1. **In-process**: ``NLUParser.parse`` (batch size 1) on ONNX Runtime with ``--threads``
   intra-op threads and ``--precision`` (default ``auto``: the int8 copy when the model
   directory has one, as the server does), after a warm-up; P50/P95/P99 over
   ``--requests`` parses.
2. **HTTP, one at a time**: a real ``eas-nlp serve`` (uvicorn, uvloop, httptools; its own
   defaults for threads and model workers unless ``--server-threads``/``--model-workers``) started
   as a subprocess on a free port of 127.0.0.1; one request in flight at a time over one
   keep-alive connection; P50/P95/P99 of the client-side round trip.
3. **Throughput**: ``--concurrency`` keep-alive connections, each sending its next request
   as soon as the previous answer arrives, for ``--duration`` seconds after a short
   ramp-up; successful (200) parses per second, latency under load, and the distribution
   of the server's micro-batch sizes over that window (from ``/metrics``).

The load generator runs in a separate process so that it does not share the server's
interpreter. It is a minimal HTTP/1.1 client on asyncio streams (uvloop when installed):
pre-encoded requests, responses read by Content-Length, no per-request objects. That costs
a few tens of microseconds per request, far less than httpx or aiohttp, which matters when
generator and server share two cores; its correctness is limited to what uvicorn sends
(HTTP/1.1, Content-Length, no chunking), which is all it needs. The one-at-a-time HTTP
phase uses the same wire format over a blocking socket.

Timings include whatever else the machine is doing: the JSON records the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TARGETS = {"inprocess_p95_ms": 5.0, "http_p95_ms": 15.0, "throughput_per_s": 500.0}

# Enterprise-style requests over the service's domains; {slots} are filled at random.
TEMPLATES = [
    "process invoice {invoice} from {vendor} for {amount}",
    "please pay {vendor} invoice {invoice} of {amount} by {day}",
    "{vendor} sent invoice {invoice} for {amount}, can you process it",
    "I need PTO {range}",
    "{person} wants leave {range}",
    "book vacation for {person} {range}",
    "approve {person}'s sick leave for {day}",
    "reset the password for {email}",
    "open a ticket: VPN keeps dropping for {person}, priority {priority}",
    "escalate ticket {ticket} to {priority}",
    "order {qty} laptops for the new hires starting {day}",
    "create a purchase order for {qty} monitors from {vendor}",
    "what's the status of PO {po}",
    "track shipment {tracking}",
    "schedule a 30 minute meeting with {person} {day}",
    "expense report: taxi {amount} on {day}",
    "onboard {person} ({email}) starting {day}",
    "offboard {person} effective {day} and revoke badge access",
    "how many vacation days does {person} have left",
    "refund {amount} to {vendor} for invoice {invoice}",
    "tell me a joke",
    "what is the weather in Paris tomorrow",
    "hi there",
    "can you book a meeting room for {qty} people {day} afternoon, {person} is hosting and needs a projector",
    "same dates for {person}",
    "and for {vendor} too",
    "upgrade {person}'s laptop RAM, ticket {ticket}, not urgent",
    "pay all overdue invoices from {vendor} before {day} unless they exceed {amount}",
]
FILLS = {
    "invoice": lambda r: f"INV-{r.randint(1000, 99999)}",
    "vendor": lambda r: r.choice(
        ["Acme Corp", "Globex", "Initech Ltd", "Umbrella", "Stark Industries", "Wayne Co"]
    ),
    "amount": lambda r: r.choice(["$12,400", "$99", "€1,250.50", "3,000 USD", "$7.25", "£480", "1.2k EUR"]),
    "range": lambda r: r.choice(
        ["March 3 to 7", "next week", "June 10-14", "Dec 22 - Jan 2", "from Monday to Wed"]
    ),
    "day": lambda r: r.choice(["tomorrow", "next Friday", "2024-07-01", "May 5th", "end of month", "Monday"]),
    "person": lambda r: r.choice(["Bob", "Dana", "Maria Lopez", "Zoë Müller", "Ahmed", "Li Wei", "Carol"]),
    "email": lambda r: r.choice(["bob@example.com", "maria.lopez@acme.io", "li.wei@corp.example"]),
    "priority": lambda r: r.choice(["P1", "high", "low", "critical", "sev2"]),
    "ticket": lambda r: f"TCK-{r.randint(100, 9999)}",
    "qty": lambda r: str(r.randint(1, 40)),
    "po": lambda r: f"PO-{r.randint(10000, 99999)}",
    "tracking": lambda r: f"1Z{r.randint(10**9, 10**10 - 1)}",
}


def utterances(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        texts.append(template.format(**{k: fill(rng) for k, fill in FILLS.items()}))
    return texts


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    values = np.asarray(samples_ms, dtype=np.float64)
    if values.size == 0:
        return {
            "p50_ms": float("nan"),
            "p95_ms": float("nan"),
            "p99_ms": float("nan"),
            "mean_ms": float("nan"),
        }
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "p99_ms": round(float(p99), 3),
        "mean_ms": round(float(values.mean()), 3),
    }


# --- in-process -------------------------------------------------------------------------


def bench_inprocess(
    model: Path, texts: Sequence[str], warmup: int, threads: int, precision: str
) -> dict[str, Any]:
    from nlp_service.inference.parser import NLUParser

    parser = NLUParser.load(model, "onnx", threads, precision)
    for text in texts[:warmup]:
        parser.parse(text)
    timings = []
    cpu_started = time.process_time()
    for text in texts:
        started = time.perf_counter()
        parser.parse(text)
        timings.append((time.perf_counter() - started) * 1000.0)
    # All threads' CPU (ONNX Runtime's included): unlike wall time, other load barely moves it.
    cpu_ms = (time.process_time() - cpu_started) * 1000.0 / max(1, len(texts))
    return {
        "model_version": parser.model_version,
        "backend": parser.backend,
        "precision": parser.precision,
        **percentiles(timings),
        "cpu_ms_per_parse": round(cpu_ms, 3),
    }


# --- minimal HTTP/1.1 -------------------------------------------------------------------


def encode_request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def parse_head(head: bytes) -> tuple[int, int]:
    """Status code and Content-Length of a response head (status line + headers)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, length


class BlockingClient:
    """One keep-alive connection, one request at a time."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, payload: bytes) -> tuple[int, bytes]:
        self.sock.sendall(payload)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status, length = parse_head(head)
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def bench_http_sequential(port: int, texts: Sequence[str], warmup: int) -> dict[str, Any]:
    payloads = [encode_request("/v1/parse", json.dumps({"text": t}).encode()) for t in texts]
    client = BlockingClient(port)
    try:
        for payload in payloads[:warmup]:
            client.request(payload)
        timings, errors, server_ms = [], 0, []
        for payload in payloads:
            started = time.perf_counter()
            status, body = client.request(payload)
            timings.append((time.perf_counter() - started) * 1000.0)
            if status != 200:
                errors += 1
            else:
                server_ms.append(json.loads(body)["latency_ms"])
    finally:
        client.close()
    return {
        **percentiles(timings),
        "errors": errors,
        "server_side_p95_ms": percentiles(server_ms)["p95_ms"],
    }


# --- load generator (separate process) ----------------------------------------------------


async def _connection(
    port: int, payloads: list[bytes], offset: int, window: tuple[float, float], out: dict
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    clock = time.perf_counter  # not loop.time(): uvloop's clock has millisecond resolution
    start, end = window
    index = offset
    try:
        while True:
            sent = clock()
            if sent >= end:
                break
            writer.write(payloads[index % len(payloads)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status, length = parse_head(head[:-4])
            await reader.readexactly(length)
            done = clock()
            if start <= done < end:
                if status == 200:
                    out["ok"] += 1
                    out["latencies"].append((done - sent) * 1000.0)
                else:
                    out["errors"] += 1
    finally:
        writer.close()


async def _load(port: int, texts: list[str], concurrency: int, ramp_s: float, duration_s: float) -> dict:
    payloads = [encode_request("/v1/parse", json.dumps({"text": t}).encode()) for t in texts]
    out: dict[str, Any] = {"ok": 0, "errors": 0, "latencies": []}
    now = time.perf_counter()
    window = (now + ramp_s, now + ramp_s + duration_s)
    step = max(1, len(payloads) // concurrency)
    await asyncio.gather(*(_connection(port, payloads, i * step, window, out) for i in range(concurrency)))
    return out


def load_worker(
    port: int, texts: list[str], concurrency: int, ramp_s: float, duration_s: float, queue
) -> None:
    """Entry point of the load-generator process; puts its counts on ``queue``."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    try:
        out = asyncio.run(_load(port, texts, concurrency, ramp_s, duration_s))
        queue.put({"ok": out["ok"], "errors": out["errors"], **percentiles(out["latencies"])})
    except Exception as exc:
        queue.put({"failure": repr(exc)})


def bench_throughput(port: int, texts: list[str], concurrency: int, ramp_s: float, duration_s: float) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=load_worker, args=(port, texts, concurrency, ramp_s, duration_s, queue))
    worker.start()
    try:
        result = queue.get(timeout=ramp_s + duration_s + 120)
    except BaseException:
        worker.kill()  # interrupted: no point letting it finish its run
        raise
    finally:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()
            worker.join()
    if "failure" in result:
        raise RuntimeError(f"load generator failed: {result['failure']}")
    return {
        "concurrency": concurrency,
        "duration_s": duration_s,
        "ok": result["ok"],
        "errors": result["errors"],
        "throughput_per_s": round(result["ok"] / duration_s, 1),
        "loaded_p50_ms": result["p50_ms"],
        "loaded_p95_ms": result["p95_ms"],
        "loaded_p99_ms": result["p99_ms"],
    }


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    import httpx

    response = httpx.get(f"http://{HOST}:{port}{path}", timeout=timeout)
    return response.status_code, response.content


@contextlib.contextmanager
def serve(
    model: Path,
    threads: int | None,
    model_workers: int | None,
    precision: str,
    batch_wait_ms: float,
    log_path: Path,
) -> Iterator[tuple[int, int]]:
    """``eas-nlp serve`` on a free port until the block ends: yields (port, pid); stopped by PID
    in every case."""
    port = free_port()
    env = {
        **os.environ,
        "EAS_NLP_TRAIN_DEFAULT_IF_MISSING": "false",
        "EAS_NLP_BATCH_WAIT_MS": str(batch_wait_ms),
    }
    command = [sys.executable, "-m", "nlp_service.cli", "serve", "--model", str(model), "--host", HOST]
    command += ["--port", str(port), "--backend", "onnx", "--precision", precision]
    if threads is not None:
        command += ["--threads", str(threads)]
    if model_workers is not None:
        command += ["--model-workers", str(model_workers)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after 600 s:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(Exception):  # not up yet
                status, body = get(port, "/readyz", timeout=2.0)
                if status == 200:
                    break
            time.sleep(0.2)
        yield port, server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), or ``None`` where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_times() -> list[int] | None:
    """The machine's CPU time counters (Linux ``/proc/stat``), or ``None`` where there are none."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None


def idle_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Per cent of the machine's CPU time left idle between two ``cpu_times`` readings: what the
    server and the load generator together did not use."""
    if before is None or after is None:
        return None
    spent = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(spent)
    return round(100.0 * (spent[3] + spent[4]) / total, 1) if total else None  # idle + iowait


def parses_served(metrics_text: str) -> float:
    """Successful /v1/parse requests so far, from a /metrics body."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(metrics_text):
        if family.name == "eas_nlp_requests":
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_total") and s.labels == {"endpoint": "/v1/parse", "status": "200"}
            )
    return 0.0


def batch_histogram(metrics_text: str) -> dict[str, float]:
    """Cumulative batch-size bucket counts plus ``_sum`` and ``_count`` from a /metrics body."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "eas_nlp_batch_size":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                found[f"le_{sample.labels['le']}"] = sample.value
            elif sample.name.endswith(("_sum", "_count")):
                found[sample.name.rsplit("_", 1)[1]] = sample.value
    return found


def batch_distribution(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Batches per size range made between two scrapes, and their mean size."""
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    buckets = sorted(
        ((float(k[3:]), v) for k, v in delta.items() if k.startswith("le_")), key=lambda item: item[0]
    )
    ranges: dict[str, int] = {}
    previous_bound, previous_count = 0.0, 0.0
    for bound, cumulative in buckets:
        count = int(round(cumulative - previous_count))
        if count:
            low = int(previous_bound) + 1
            high = "inf" if bound == float("inf") else int(bound)
            ranges[str(low) if low == high else f"{low}-{high}"] = count
        previous_bound, previous_count = bound, cumulative
    batches = delta.get("count", 0.0)
    return {
        "batches": int(batches),
        "mean_batch_size": round(delta.get("sum", 0.0) / batches, 2) if batches else None,
        "batches_by_size": ranges,
    }


# --- main -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import onnxruntime

    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="model directory (with model.onnx)")
    parser.add_argument("--json", type=Path, required=True, help="write the figures here")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per latency phase")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests before each latency phase")
    parser.add_argument(
        "--threads", type=int, default=2, help="ONNX Runtime intra-op threads of the in-process phase"
    )
    parser.add_argument(
        "--server-threads", type=int, help="the server's threads per model call (default: the server's)"
    )
    parser.add_argument(
        "--model-workers", type=int, help="the server's concurrent model calls (default: the server's)"
    )
    parser.add_argument(
        "--precision", choices=("auto", "fp32", "int8"), default="auto", help="which ONNX file to run"
    )
    parser.add_argument("--concurrency", type=int, default=48, help="connections of the throughput phase")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the throughput phase")
    parser.add_argument(
        "--ramp", type=float, default=3.0, help="untimed seconds before the throughput window"
    )
    parser.add_argument("--batch-wait-ms", type=float, default=2.0, help="the server's EAS_NLP_BATCH_WAIT_MS")
    parser.add_argument("--skip-http", action="store_true", help="in-process figures only")
    args = parser.parse_args()

    # SIGTERM must unwind through the finally blocks too, or the server would outlive us.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    texts = utterances(max(args.requests, args.warmup))
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "model_dir": str(args.model),
        "settings": {
            "requests": args.requests,
            "warmup": args.warmup,
            "threads": args.threads,
            "server_threads": args.server_threads or "server default",
            "model_workers": args.model_workers or "server default",
            "precision": args.precision,
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "batch_wait_ms": args.batch_wait_ms,
            "load_generator": "separate process, raw HTTP/1.1 keep-alive on asyncio (uvloop)",
        },
        "targets": TARGETS,
    }

    print(f"in-process: {args.requests} parses, ONNX Runtime with {args.threads} threads", flush=True)
    inprocess = bench_inprocess(args.model, texts[: args.requests], args.warmup, args.threads, args.precision)
    report["model_version"] = inprocess["model_version"]
    report["inprocess"] = inprocess
    report.update({f"inprocess_{k}": inprocess[k] for k in ("p50_ms", "p95_ms", "p99_ms")})
    print(
        f"  P50 {inprocess['p50_ms']} ms, P95 {inprocess['p95_ms']} ms, P99 {inprocess['p99_ms']} ms",
        flush=True,
    )

    if not args.skip_http:
        with tempfile.TemporaryDirectory() as scratch:
            log_path = Path(scratch) / "server.log"
            try:
                server = serve(
                    args.model,
                    args.server_threads,
                    args.model_workers,
                    args.precision,
                    args.batch_wait_ms,
                    log_path,
                )
                with server as (port, pid):
                    print(f"HTTP, one at a time: {args.requests} requests to port {port}", flush=True)
                    http = bench_http_sequential(port, texts[: args.requests], args.warmup)
                    report["http"] = http
                    report.update({f"http_{k}": http[k] for k in ("p50_ms", "p95_ms", "p99_ms")})
                    print(
                        f"  P50 {http['p50_ms']} ms, P95 {http['p95_ms']} ms, P99 {http['p99_ms']} ms",
                        flush=True,
                    )

                    print(f"throughput: {args.concurrency} connections for {args.duration} s", flush=True)
                    before, cpu_before = get(port, "/metrics")[1].decode(), cpu_seconds(pid)
                    machine_before = cpu_times()
                    load = bench_throughput(port, texts, args.concurrency, args.ramp, args.duration)
                    load["machine_idle_percent"] = idle_share(machine_before, cpu_times())
                    after, cpu_after = get(port, "/metrics")[1].decode(), cpu_seconds(pid)
                    load["server_batches"] = batch_distribution(
                        batch_histogram(before), batch_histogram(after)
                    )
                    served = parses_served(after) - parses_served(before)
                    if cpu_before is not None and cpu_after is not None and served:
                        # CPU per parse does not depend on what else runs on the machine.
                        load["server_cpu_ms_per_parse"] = round((cpu_after - cpu_before) * 1000 / served, 3)
                    report["load"] = load
                    report["throughput_per_s"] = load["throughput_per_s"]
                    print(
                        f"  {load['throughput_per_s']} parses/s ({load['errors']} errors), "
                        f"P95 under load {load['loaded_p95_ms']} ms, "
                        f"mean batch {load['server_batches']['mean_batch_size']}, "
                        f"server CPU {load.get('server_cpu_ms_per_parse')} ms/parse, "
                        f"machine idle {load['machine_idle_percent']} %",
                        flush=True,
                    )
            except BaseException:
                if log_path.exists():
                    print(f"server log:\n{log_path.read_text()[-3000:]}", file=sys.stderr)
                raise

    report["meets_targets"] = {
        key: (report[key] <= target if key.endswith("_ms") else report[key] >= target)
        for key, target in TARGETS.items()
        if key in report
    }
    report["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
