"""Each connector's real client against its emulator: call latency, and requests completed under faults.

    .venv/bin/python benchmarks/connectors.py                       # every connector, 200 calls each
    .venv/bin/python benchmarks/connectors.py --calls 500 --only servicenow,slack --json /tmp/c.json

For every connector the script starts the emulators (``eas_sandbox``, in this process, on a
database of their own), builds the connector the way the code location does (``from_env`` through
``dg.build_resources``, with the emulators' settings in the environment), then

1. **latency**: ``--calls`` representative calls (a create, a look-up) with no faults: P50/P95;
2. **faults**: ``--calls`` calls while the emulator answers 10 % of calls with a 5xx and 5 % with
   its vendor's throttle answer (``Retry-After`` 0.05 s): the share completed, the share failed
   cleanly (``ConnectorUnavailable``, an open breaker, a refusal), and the share **lost** (any
   other exception: a bug). Target (issue 14): ≥ 97.24 % completed, none lost.

The figures go to BENCHMARKS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pybreaker
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_sandbox.__main__ import ensure_database
from eas_sandbox.faults import Fault
from eas_sandbox.server import Sandbox

Operation = Callable[[Any, int, str], object]
"""(client, call number, run id) -> anything; one representative call of a connector."""


def _servicenow(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.incidents(f"correlation_id={run}-{n - 1}", limit=1)
    return client.create_incident(f"benchmark incident {n}", correlation_id=f"{run}-{n}")


def _bamboohr(client: Any, n: int, run: str) -> object:
    person = client.employee_by_name_or_email("Marcus Chen")
    return client.balances(person.id) if n % 2 else person


def _adp(client: Any, n: int, run: str) -> object:
    workers = client.workers()
    return client.pay_statements(workers[0].associate_oid, last_n=2) if n % 2 else workers


def _quickbooks(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.vendor_by_name("Globex")
    return client.create_bill("Acme Corp", 100 + n, "Office Supplies", doc_number=f"B{run[-6:]}{n}")


def _workday(client: Any, n: int, run: str) -> object:
    return client.workers("Chen") if n % 2 else client.worker_by_name_or_email("marcus.chen@example.com")


def _s3(client: Any, n: int, run: str) -> object:
    key = f"bench/{run}/{n - n % 2}"
    return client.get("eas-documents", key) if n % 2 else client.put("eas-documents", key, b"x" * 1024)


def _google_drive(client: Any, n: int, run: str) -> object:
    return client.generate_id() if n % 2 else client.upload(f"bench-{run}-{n}.txt", b"hello", "text/plain")


def _sharepoint(client: Any, n: int, run: str) -> object:
    site = os.environ["EAS_SHAREPOINT_SITE_ID"]
    if n % 2:
        return client.item(site, "Reports")
    return client.upload(site, "Reports", f"bench-{run}-{n}.txt", b"report")


def _sap(client: Any, n: int, run: str) -> object:
    return client.purchase_order("PO-10001") if n % 2 else client.supplier_by_name("Acme Corp")


def _oracle(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.suppliers("Acme Corp")
    return client.create_invoice(f"B{run[-6:]}{n}", "Acme Corp", 10.0 + n, "USD", date(2026, 12, 1))


def _salesforce(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.account_by_name("Acme Corp")
    return client.create_case(f"benchmark case {n}", external_id=f"{run}-{n}")


def _jira(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.issue("OPS-1")
    return client.create_issue("OPS", f"benchmark issue {n}", idempotency_key=f"{run}-{n}")


def _slack(client: Any, n: int, run: str) -> object:
    if n % 2:
        return client.user_by_email("marcus.chen@example.com")
    return client.post_message("#general", f"benchmark message {n}")


def _teams(client: Any, n: int, run: str) -> object:
    return client.post_card("benchmark", f"message {n}")


def _email(client: Any, n: int, run: str) -> object:
    return client.send("marcus.chen@example.com", f"benchmark {n}", "body", idempotency_key=f"{run}-{n}")


CASES: dict[str, tuple[str, str, Operation, dict[str, Any]]] = {
    "sap": ("eas_pipelines.connectors.sap", "SapResource", _sap, {}),
    "oracle": ("eas_pipelines.connectors.oracle", "OracleResource", _oracle, {}),
    "salesforce": ("eas_pipelines.connectors.salesforce", "SalesforceResource", _salesforce, {}),
    "jira": ("eas_pipelines.connectors.jira", "JiraResource", _jira, {}),
    "slack": ("eas_pipelines.connectors.slack", "SlackResource", _slack, {}),
    "teams": ("eas_pipelines.connectors.teams", "TeamsResource", _teams, {}),
    "email": ("eas_pipelines.connectors.email", "EmailResource", _email, {}),
    "servicenow": ("eas_pipelines.connectors.servicenow", "ServiceNowResource", _servicenow, {}),
    "bamboohr": ("eas_pipelines.connectors.bamboohr", "BambooHRResource", _bamboohr, {}),
    "adp": ("eas_pipelines.connectors.adp", "ADPResource", _adp, {}),
    # QuickBooks throttles without Retry-After (Intuit: wait 60 s); the emulator's throttles here
    # are as short as the other vendors' Retry-After.
    "quickbooks": (
        "eas_pipelines.connectors.quickbooks",
        "QuickBooksResource",
        _quickbooks,
        {"throttle_wait_s": 0.05},
    ),
    "workday": ("eas_pipelines.connectors.workday", "WorkdayResource", _workday, {}),
    "s3": ("eas_pipelines.connectors.s3", "S3ConnectorResource", _s3, {}),
    "google_drive": ("eas_pipelines.connectors.google_drive", "GoogleDriveResource", _google_drive, {}),
    "sharepoint": ("eas_pipelines.connectors.sharepoint", "SharePointResource", _sharepoint, {}),
}
"""system -> (module, resource class, operation, settings changed for the benchmark)."""


@dataclass
class ConnectorFigures:
    system: str
    calls: int
    p50_ms: float
    p95_ms: float
    completed_pct: float
    failed_cleanly_pct: float
    lost: int
    lost_examples: list[str]


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def measure(system: str, client: Any, operation: Operation, sandbox: Sandbox, calls: int) -> ConnectorFigures:
    run = uuid.uuid4().hex[:8]
    sandbox.faults.clear(seed=14)
    latencies = []
    for n in range(calls):
        started = time.perf_counter()
        operation(client, n, f"{run}-clean")
        latencies.append((time.perf_counter() - started) * 1000)
    sandbox.faults.add(Fault(kind="error", vendor=system, rate=0.10, status=503))
    sandbox.faults.add(Fault(kind="throttle", vendor=system, rate=0.05, retry_after_s=0.05))
    completed = failed = 0
    lost: list[str] = []
    for n in range(calls):
        try:
            operation(client, n, f"{run}-faults")
            completed += 1
        except (ConnectorUnavailable, VendorRejected, pybreaker.CircuitBreakerError):
            failed += 1
        except Exception as exc:  # a lost request: the figure this benchmark exists to catch
            lost.append(f"{type(exc).__name__}: {exc}"[:200])
    sandbox.faults.clear()
    return ConnectorFigures(
        system=system,
        calls=calls,
        p50_ms=round(_percentile(latencies, 50), 2),
        p95_ms=round(_percentile(latencies, 95), 2),
        completed_pct=round(100 * completed / calls, 2),
        failed_cleanly_pct=round(100 * failed / calls, 2),
        lost=len(lost),
        lost_examples=lost[:3],
    )


def run_all(
    systems: list[str], database_url: str, redis_url: str, calls: int, console: Console
) -> list[ConnectorFigures]:
    """Start the emulators on ``database_url`` and measure each system's connector."""
    figures: list[ConnectorFigures] = []
    with tempfile.TemporaryDirectory() as folder, Sandbox(database_url, Path(folder)) as sandbox:
        os.environ.update(sandbox.env())
        for system in systems:
            module_name, class_name, operation, overrides = CASES[system]
            resource_class = getattr(importlib.import_module(module_name), class_name)
            resource = resource_class.from_env(redis_url).model_copy(
                update={"breaker_prefix": f"eas:bench:{uuid.uuid4().hex}", **overrides}
            )
            with dg.build_resources({"connector": resource}) as built:
                client = built.connector.client()
                console.print(f"{system}: {calls} clean calls, then {calls} under faults")
                figures.append(measure(system, client, operation, sandbox, calls))
    return figures


def drop_database(url: str) -> None:
    target = sa.make_url(url)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200, help="calls per connector and phase")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("EAS_BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1/postgres"),
        help="PostgreSQL server on which a fresh database holds the emulators' records (dropped at the end)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("EAS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    console = Console()
    chosen = [name for name in args.only.split(",") if name] or sorted(CASES)
    unknown = sorted(set(chosen) - set(CASES))
    if unknown:
        parser.error(f"--only names unknown systems {unknown}; known: {sorted(CASES)}")

    database_url = sa.make_url(args.postgres_url).set(database=f"eas_bench_{uuid.uuid4().hex[:12]}")
    database_url = database_url.render_as_string(hide_password=False)
    ensure_database(database_url)
    try:
        figures = run_all(chosen, database_url, args.redis_url, args.calls, console)
    finally:
        drop_database(database_url)
    table = Table(title=f"connectors against their emulators ({args.calls} calls per phase)")
    for column in ("system", "P50 ms", "P95 ms", "completed %", "failed cleanly %", "lost"):
        table.add_column(column, justify="right")
    for row in figures:
        table.add_row(
            row.system,
            f"{row.p50_ms}",
            f"{row.p95_ms}",
            f"{row.completed_pct}",
            f"{row.failed_cleanly_pct}",
            f"{row.lost}",
        )
    console.print(table)
    for row in figures:
        for example in row.lost_examples:
            console.print(f"[red]lost[/red] {row.system}: {example}", markup=True)
    if args.json:
        meta = {"date": datetime.now(UTC).isoformat(), "machine": platform.processor() or platform.machine()}
        args.json.write_text(json.dumps({**meta, "connectors": [asdict(row) for row in figures]}, indent=2))
    return 1 if any(row.lost for row in figures) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
