"""What the warm run server and its run launcher say to each other: one JSON line each way.

The launcher (in the Dagster daemon or webserver) connects to ``127.0.0.1:<EAS_RUN_SERVER_PORT>``,
sends ``{"execute_run_args": <Dagster's serialized ExecuteRunArgs>}`` and reads one reply:
``{"server": "eas-run-server", "pid": N}`` once a process for the run is forked, or
``{"server": "eas-run-server", "error": "...", "stale": bool}`` when it was not (``stale``: the
server's code is older than the files on disk, and it restarts to load them). The ``server`` field
tells EAS's server apart from anything else that might listen on the port.

The payload is Dagster's own ``ExecuteRunArgs``, as ``dagster api execute_run`` reads it: the run
id, the job's code origin and the instance reference.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from dagster._grpc.types import ExecuteRunArgs
from dagster_shared.serdes import deserialize_value, serialize_value

SERVER = "eas-run-server"
MAX_LINE = 1 << 20
"""A request or reply longer than this (1 MiB) is refused: an instance reference is a few KiB."""


class WireError(ValueError):
    """A line that is not what the other side should send (the message says what is wrong)."""


@dataclass(frozen=True)
class ForkReply:
    """The server's answer: the forked run process's pid, or why there is none."""

    pid: int | None = None
    error: str | None = None
    stale: bool = False


def read_line(conn: socket.socket) -> bytes:
    """One line (without its newline) from ``conn``; :class:`WireError` if it is too long or cut."""
    with conn.makefile("rb") as stream:
        line = stream.readline(MAX_LINE + 1)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE:
            raise WireError(f"line longer than {MAX_LINE} bytes")
        raise WireError("the connection closed before a full line arrived")
    return line[:-1]


def _json_object(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise WireError("not a JSON object")
    return value


def encode_request(args: ExecuteRunArgs) -> bytes:
    return json.dumps({"execute_run_args": serialize_value(args)}).encode() + b"\n"


def decode_request(line: bytes) -> ExecuteRunArgs:
    payload = _json_object(line).get("execute_run_args")
    if not isinstance(payload, str):
        raise WireError("execute_run_args: missing, or not a string")
    try:
        return deserialize_value(payload, ExecuteRunArgs)
    except Exception as exc:  # noqa: BLE001 - Dagster's serdes raises several kinds
        raise WireError(f"execute_run_args: not Dagster's ExecuteRunArgs ({exc})") from None


def encode_reply(reply: ForkReply) -> bytes:
    body: dict[str, Any] = {"server": SERVER}
    if reply.pid is not None:
        body["pid"] = reply.pid
    else:
        body.update(error=reply.error or "no process was forked", stale=reply.stale)
    return json.dumps(body).encode() + b"\n"


def decode_reply(line: bytes) -> ForkReply:
    body = _json_object(line)
    if body.get("server") != SERVER:
        raise WireError(f"the reply is not from an {SERVER}")
    pid = body.get("pid")
    if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
        return ForkReply(pid=pid)
    return ForkReply(error=str(body.get("error") or "no pid in the reply"), stale=bool(body.get("stale")))
