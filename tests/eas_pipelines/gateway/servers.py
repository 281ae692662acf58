"""Real HTTP servers for the gateway tests: uvicorn in a thread, on a port of the loopback interface.

The NLP service the gateway calls is always the real app on a real socket, never a mock: the client's
timeouts, failover and health checks are only meaningful against a real server (and a really closed
port).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from nlp_service.inference.parser import NLUParser
from nlp_service.server.app import create_app as create_nlp_app
from tests.nlp_service.server.server_helpers import make_settings

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on (bound and released: good enough on a test machine's loopback)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ServerThread:
    """``app`` served by uvicorn on ``port`` in a daemon thread; ``stop()`` shuts it down gracefully."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    def start(self, timeout_s: float = 30.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def nlp_app(parser: NLUParser, model_dir: Path) -> FastAPI:
    """The real NLP service app serving ``parser`` (already loaded, so it is ready at once)."""
    return create_nlp_app(make_settings(model_dir, batch_wait_ms=0.0), parser=parser)
