"""AWS S3, served by moto inside the sandbox app (``/s3/...``), so it shares the app's TLS and faults.

moto's S3 is a Flask (WSGI) app; :class:`WSGIApp` is the few lines of ASGI→WSGI adapting it needs
(starlette's ``WSGIMiddleware`` is deprecated). moto parses the bucket from the request URL, so the
adapter hands it the path *below* the mount (``SCRIPT_NAME`` empty, ``PATH_INFO`` = ``/bucket/key``):
boto3's endpoint is ``<base_url>/s3`` with path-style addressing. moto keeps its state in memory, not
in PostgreSQL; ``seed`` (run at start and on ``/_sandbox/reset``) resets moto's S3 backend and creates
the default buckets. Throttling is S3's own answer: 503 with an XML ``SlowDown`` error.
"""

from __future__ import annotations

import io
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import anyio.to_thread
from fastapi.responses import Response

from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints, Vendor

NAME = "s3"
REGION = "us-east-1"
ACCESS_KEY_ID, SECRET_ACCESS_KEY = "testing", "testing"
DEFAULT_BUCKETS = ("eas-documents", "eas-reports")

Scope = dict[str, Any]


class WSGIApp:
    """An ASGI app running a WSGI app in a worker thread (whole bodies: S3 objects here are small)."""

    def __init__(self, factory: Callable[[], Callable[..., Iterable[bytes]]]):
        self._factory = factory
        self._app: Callable[..., Iterable[bytes]] | None = None

    @property
    def app(self) -> Callable[..., Iterable[bytes]]:
        if self._app is None:  # moto is slow to import: only when S3 is first called
            self._app = self._factory()
        return self._app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        environ = self.environ(scope, body)
        status, headers, content = await anyio.to_thread.run_sync(self._run, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    @staticmethod
    def environ(scope: Scope, body: bytes) -> dict[str, Any]:
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and (path == root or path.startswith(root.rstrip("/") + "/")):
            path = path[len(root) :]
        server = scope.get("server") or ("localhost", 443)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": "",  # moto reads the bucket from the URL's first segment
            "PATH_INFO": (path or "/").encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope["query_string"].decode("latin-1"),
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": (scope.get("client") or ("127.0.0.1", 0))[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "https"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in scope.get("headers", []):
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            key = {"content-length": "CONTENT_LENGTH", "content-type": "CONTENT_TYPE"}.get(name)
            key = key or "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        # The server already undid HTTP chunking: WSGI wants the whole body's length instead.
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in started["headers"]]
        return int(started["status"].split(" ", 1)[0]), headers, content


def _moto_s3_app() -> Callable[..., Iterable[bytes]]:
    from moto.moto_server.werkzeug_app import create_backend_app

    return create_backend_app("s3")


def reset_moto() -> None:
    """Forget every bucket and object, then create the default buckets."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    for account in list(s3_backends.values()):
        account.reset()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket in DEFAULT_BUCKETS:
        backend.create_bucket(bucket, REGION)


def _seed(records: Records) -> None:
    reset_moto()


def s3_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>eas-sandbox</HostId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def _throttled(retry_after_s: float | None) -> Response:
    # S3 sends no Retry-After with SlowDown (clients back off); the sandbox adds one when the fault
    # gives it, so tests can check that a server's delay is honoured.
    headers = None if retry_after_s is None else {"Retry-After": f"{retry_after_s:g}"}
    return s3_error(503, "SlowDown", "Please reduce your request rate.", headers)


def _failed(status: int) -> Response:
    if status == 503:
        return s3_error(503, "ServiceUnavailable", "Service is unable to handle request.")
    return s3_error(status, "InternalError", "We encountered an internal error. Please try again.")


def _env(endpoints: Endpoints) -> dict[str, str]:
    return {
        "EAS_S3_ENDPOINT_URL": endpoints.vendor_url(NAME),
        "EAS_S3_REGION": REGION,
        "EAS_AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "EAS_AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }


VENDOR = Vendor(
    name=NAME,
    router=None,
    mount=WSGIApp(_moto_s3_app),
    env=_env,
    throttled=_throttled,
    failed=_failed,
    unauthorized=lambda: s3_error(
        403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist."
    ),
    seed=_seed,
)
