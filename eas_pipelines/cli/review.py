"""``eas review``: the human review queue from the command line (list, reclassify, reroute, cancel).

A thin layer over ``/v1/review`` (:mod:`eas_pipelines.gateway.routes.review`): the gateway decides
what is allowed and says why; these commands print its answer, and exit 2 with its message on an
error, like every ``eas`` command.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

review_app = typer.Typer(help="Requests waiting for a person: list and act on them.", no_args_is_help=True)

Gateway = Annotated[str | None, typer.Option(help="gateway URL (default from settings)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def parse_entity(spec: str) -> dict[str, Any]:
    """``type=words as written`` (``employee=Bob``) -> ``{"type": ..., "text": ...}``."""
    kind, sep, text = spec.partition("=")
    if not sep or not kind.strip() or not text.strip():
        raise typer.BadParameter(f"{spec!r}: expected TYPE=TEXT, e.g. employee=Bob", param_hint="--entity")
    return {"type": kind.strip(), "text": text.strip()}


def _act(request_id: str, action: str, body: dict[str, Any], gateway: str | None, as_json: bool) -> None:
    from eas_pipelines.cli import main as cli
    from eas_pipelines.cli.gateway_client import GatewayError

    try:
        result = cli._client(cli._settings(), gateway).review(request_id, action, body)
    except GatewayError as exc:
        cli._fail(str(exc))
    if as_json:
        cli.out.print_json(json.dumps(result))
        return
    cli._show(result["request"])
    correction = result.get("correction")
    if correction:
        cli.out.print(
            f"correction {correction['id']} stored: {correction['model_intent']} -> "
            f"{correction['corrected_intent']}"
        )


@review_app.command("list")
def list_queue(
    limit: Annotated[int, typer.Option(min=1, max=200, help="how many")] = 50,
    as_json: AsJson = False,
    gateway: Gateway = None,
) -> None:
    """Requests in needs_review, newest first, with why each is there."""
    from eas_pipelines.cli import main as cli
    from eas_pipelines.cli.gateway_client import GatewayError

    try:
        page = cli._client(cli._settings(), gateway).review_queue(limit)
    except GatewayError as exc:
        cli._fail(str(exc))
    if as_json:
        cli.out.print_json(json.dumps(page))
        return
    table = Table("id", "intent", "confidence", "reason")
    for item in page["items"]:
        confidence = f"{item['confidence']:.2f}" if item.get("confidence") is not None else "-"
        table.add_row(
            item["id"], item.get("intent") or "-", confidence, item.get("needs_review_reason") or ""
        )
    cli.out.print(table)
    if not page["items"]:
        cli.out.print("the review queue is empty")


@review_app.command()
def reclassify(
    request_id: Annotated[str, typer.Argument(help="request id")],
    intent: Annotated[str, typer.Argument(help="the intent it really is, e.g. hr.leave_request")],
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="TYPE=TEXT as written in the request; repeatable")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="why (optional)")] = None,
    as_json: AsJson = False,
    gateway: Gateway = None,
) -> None:
    """Correct the intent (stored for retraining) and run the request as that intent."""
    body: dict[str, Any] = {"intent": intent}
    if entity:
        body["entities"] = [parse_entity(spec) for spec in entity]
    if reason:
        body["reason"] = reason
    _act(request_id, "reclassify", body, gateway, as_json)


@review_app.command()
def reroute(
    request_id: Annotated[str, typer.Argument(help="request id")],
    job: Annotated[str | None, typer.Option(help="workflow to run (default: its intent's)")] = None,
    reason: Annotated[str | None, typer.Option(help="why (optional)")] = None,
    as_json: AsJson = False,
    gateway: Gateway = None,
) -> None:
    """Run the request with its intent unchanged, by its intent's workflow or the one named."""
    body: dict[str, Any] = {}
    if job:
        body["job"] = job
    if reason:
        body["reason"] = reason
    _act(request_id, "reroute", body, gateway, as_json)


@review_app.command()
def cancel(
    request_id: Annotated[str, typer.Argument(help="request id")],
    reason: Annotated[str, typer.Option(help="why (required)")],
    as_json: AsJson = False,
    gateway: Gateway = None,
) -> None:
    """Cancel a request in review: nothing runs."""
    if not reason.strip():
        from eas_pipelines.cli import main as cli

        cli._fail("--reason must not be empty")
    _act(request_id, "cancel", {"reason": reason}, gateway, as_json)
