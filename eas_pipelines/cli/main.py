"""The ``eas`` command line (typer). Each command names the problem and exits 2 on bad input."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eas_pipelines.cli.review import review_app
from eas_pipelines.settings import EASSettings, SettingsError, load_settings

app = typer.Typer(help="EAS, the Enterprise Automation System.", no_args_is_help=True)
db_app = typer.Typer(help="Request store database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(review_app, name="review")
console = Console(stderr=True, soft_wrap=True)  # errors stay on one line for grep and logs
out = Console()

# A request stops moving on its own in these states: the CLI stops following there.
SETTLED = {"succeeded", "failed", "rejected", "cancelled", "needs_review", "awaiting_approval", "received"}


def _settings() -> EASSettings:
    try:
        return load_settings()
    except SettingsError as exc:
        console.print(f"[red]configuration error:[/red]\n{exc}")
        raise typer.Exit(code=2) from None


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


def _client(settings: EASSettings, gateway: str | None):
    from eas_pipelines.cli.gateway_client import GatewayClient, GatewayError

    try:
        return GatewayClient.from_settings(settings, gateway)
    except GatewayError as exc:
        _fail(str(exc))


def _show(request: dict) -> None:
    table = Table(show_header=False, box=None)
    for key in (
        "id",
        "status",
        "intent",
        "confidence",
        "agent",
        "workflow",
        "priority",
        "lane",
        "conversation_id",
        "needs_review_reason",
        "message",
    ):
        if request.get(key) is not None:
            table.add_row(f"[bold]{key}[/bold]", str(request[key]))
    for entity in request.get("entities") or []:
        value = json.dumps(entity.get("value")) if entity.get("value") is not None else ""
        inherited = " (from the conversation)" if entity.get("inherited") else ""
        table.add_row("[bold]entity[/bold]", f"{entity['type']}: {entity['text']!r} {value}{inherited}")
    out.print(table)


@app.command()
def up(
    workers: Annotated[
        int | None, typer.Option(min=0, help="warm fast-lane workers (default EAS_WORKER_COUNT)")
    ] = None,
    dagster: Annotated[bool, typer.Option(help="also start the Dagster webserver and daemon")] = True,
    restart_limit: Annotated[
        int,
        typer.Option(
            min=0,
            help="restarts of one crashing part within --restart-window before eas up gives up (0: none)",
        ),
    ] = 5,
    restart_window: Annotated[
        float, typer.Option(min=1.0, help="seconds over which --restart-limit counts restarts")
    ] = 60.0,
) -> None:
    """Start EAS: database, Redis, migrations, NLP service, gateway, Dagster and the worker pool."""
    from eas_pipelines.cli.up import run_up
    from eas_pipelines.embedded.supervisor import RestartPolicy

    restart = RestartPolicy(limit=restart_limit, window=restart_window)
    raise typer.Exit(code=run_up(_settings(), console, workers=workers, dagster=dagster, restart=restart))


@app.command()
def sandbox() -> None:
    """Run the vendors' local emulators alone and print the settings that point connectors at them."""
    from eas_pipelines.cli.sandbox import run_sandbox

    raise typer.Exit(code=run_sandbox(_settings(), console))


@app.command()
def submit(
    text: Annotated[str, typer.Argument(help="the request, in natural language")],
    priority: Annotated[str | None, typer.Option(help="P0, P1 or P2 (can only raise the priority)")] = None,
    follow: Annotated[bool, typer.Option(help="follow the status until it settles")] = True,
    timeout: Annotated[float, typer.Option(min=0.0, help="seconds to follow")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
    gateway: Annotated[str | None, typer.Option(help="gateway URL (default from settings)")] = None,
    conversation: Annotated[
        str | None,
        typer.Option(
            help="continue this conversation: a follow-up ('same dates for Bob') inherits what it leaves "
            "out from the earlier requests of the conversation"
        ),
    ] = None,
    new_conversation: Annotated[
        bool,
        typer.Option(help="start a conversation with this request; its id is printed as conversation_id"),
    ] = False,
) -> None:
    """Submit a request; prints its id, intent, entities, priority and lane, then follows it."""
    from eas_pipelines.cli.gateway_client import GatewayError

    if priority is not None and priority not in ("P0", "P1", "P2"):
        _fail(f"--priority must be P0, P1 or P2, not {priority!r}")
    if not text.strip():
        _fail("the request text is empty")
    if conversation is not None and new_conversation:
        _fail("--conversation and --new-conversation exclude each other: continue one, or start one")
    if conversation is not None:
        from eas_pipelines.gateway.schemas import check_conversation_id

        try:
            check_conversation_id(conversation)
        except ValueError as exc:
            _fail(f"--conversation: {exc}")
    client = _client(_settings(), gateway)
    try:
        request = client.submit(
            text, priority, conversation_id=conversation, start_conversation=new_conversation
        )
        if not as_json:
            _show(request)
        deadline = time.monotonic() + timeout
        last = request["status"]
        while follow and request["status"] not in SETTLED and time.monotonic() < deadline:
            time.sleep(0.5)
            request = client.get(request["id"])
            if request["status"] != last and not as_json:
                console.print(f"status: {request['status']}")
                last = request["status"]
    except GatewayError as exc:
        _fail(str(exc))
    if as_json:
        out.print_json(json.dumps(request))


@app.command()
def status(
    request_id: Annotated[str, typer.Argument(help="request id")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
    gateway: Annotated[str | None, typer.Option(help="gateway URL")] = None,
) -> None:
    """Show a request: status, routing, entities and its history."""
    from eas_pipelines.cli.gateway_client import GatewayError

    try:
        request = _client(_settings(), gateway).get(request_id, "history,audit")
    except GatewayError as exc:
        _fail(str(exc))
    if as_json:
        out.print_json(json.dumps(request))
        return
    _show(request)
    for item in request.get("history") or []:
        out.print(
            f"  {item['at']}  {item['from_status'] or '-'} → {item['to_status']}  ({item['actor']})"
            + (f": {item['reason']}" if item.get("reason") else "")
        )


def _decide(request_id: str, decision: str, reason: str | None, gateway: str | None) -> None:
    from eas_pipelines.cli.gateway_client import GatewayError

    try:
        result = _client(_settings(), gateway).decide(request_id, decision, reason)
    except GatewayError as exc:
        _fail(str(exc))
    out.print_json(json.dumps(result))


@app.command()
def approve(
    request_id: Annotated[str, typer.Argument(help="request id")],
    reason: Annotated[str | None, typer.Option(help="why (optional)")] = None,
    gateway: Annotated[str | None, typer.Option(help="gateway URL")] = None,
) -> None:
    """Approve a request that is awaiting approval; the workflow resumes."""
    _decide(request_id, "approve", reason, gateway)


@app.command()
def reject(
    request_id: Annotated[str, typer.Argument(help="request id")],
    reason: Annotated[str, typer.Option(help="why (required)")],
    gateway: Annotated[str | None, typer.Option(help="gateway URL")] = None,
) -> None:
    """Reject a request that is awaiting approval."""
    if not reason.strip():
        _fail("--reason must not be empty")
    _decide(request_id, "reject", reason, gateway)


@app.command()
def worker(
    worker_id: Annotated[str | None, typer.Option(help="default: host-pid-random")] = None,
) -> None:
    """Run one warm fast-lane worker (executes agents' jobs in-process against the Dagster instance)."""
    from eas_pipelines.workers.process import WorkerConfigError, run_worker

    try:
        raise typer.Exit(code=run_worker(_settings(), worker_id=worker_id))
    except WorkerConfigError as exc:
        _fail(str(exc))


@app.command("run-server")
def run_server_command(
    port: Annotated[int | None, typer.Option(help="default: EAS_RUN_SERVER_PORT")] = None,
) -> None:
    """Serve standard-lane runs forked from a warm process (the code location loaded, the PII engine
    built), for dagster.yaml's WarmRunLauncher; listens on 127.0.0.1 only."""
    from eas_pipelines.workers.run_server import RunServerError, run_server

    try:
        raise typer.Exit(code=run_server(port))
    except RunServerError as exc:
        _fail(str(exc))


@app.command()
def exporter() -> None:
    """Serve Prometheus the figures no single process owns on EAS_EXPORTER_PORT: fast-lane queues,
    circuit breakers, the approval backlog and Dagster's runs."""
    from eas_pipelines.workers.exporter import run_exporter
    from eas_pipelines.workers.process import WorkerConfigError

    settings = _settings()
    try:
        raise typer.Exit(code=run_exporter(settings))
    except WorkerConfigError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot serve metrics on {settings.metrics_host}:{settings.exporter_port} ({exc})")


@app.command()
def gateway() -> None:
    """Serve the intake API (what `eas up` runs)."""
    from eas_pipelines.embedded.services import resolve_services
    from eas_pipelines.gateway.server import serve

    settings = _settings()
    with resolve_services(settings) as services:
        serve(
            settings.model_copy(
                update={"database_url": services.database_url, "redis_url": services.redis_url}
            )
        )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="target revision")] = "head") -> None:
    """Apply the request store's migrations (on the embedded database unless EAS_DATABASE_URL is set)."""
    from eas_pipelines.embedded.services import resolve_services
    from eas_pipelines.store.migrate import current, upgrade

    with resolve_services(_settings()) as services:
        upgrade(services.database_url, revision)
        console.print(f"database at revision {current(services.database_url)}")


@app.command()
def token(
    client: Annotated[str, typer.Argument(help="client id (the token's subject)")],
    scopes: Annotated[
        list[str] | None, typer.Option("--scopes", help="repeat or comma-separate; default: all")
    ] = None,
    ttl: Annotated[float, typer.Option(min=1.0, help="lifetime in seconds")] = 3600.0,
) -> None:
    """Print a signed token for trying the API by hand (signed with this machine's key)."""
    from eas_pipelines.gateway.tokens import ALL_SCOPES, issue_token

    settings = _settings()
    wanted = [s for item in (scopes or list(ALL_SCOPES)) for s in item.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(ALL_SCOPES))
    if unknown:
        _fail(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    secret = settings.jwt_secret.get_secret_value()
    out.print(
        issue_token(secret, client, wanted, settings.jwt_issuer, settings.jwt_audience, ttl), soft_wrap=True
    )


if __name__ == "__main__":
    app()
