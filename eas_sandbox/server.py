"""Run the emulators: the vendors' web app over TLS (and again with mutual TLS), and the SMTP server.

:class:`Sandbox` runs them in threads of the calling process: the tests start one per session, and
``python -m eas_sandbox`` (what ``eas up`` and ``eas sandbox`` start) runs one until stopped.
:meth:`Sandbox.env` gives the EAS_* settings that point every connector at it.
"""

from __future__ import annotations

import importlib
import socket
import ssl
import threading
import time
from pathlib import Path

import uvicorn

from eas_sandbox import tls
from eas_sandbox.app import create_app, discover_vendors
from eas_sandbox.faults import FaultInjector
from eas_sandbox.state import Records
from eas_sandbox.vendor import Endpoints

CA_BUNDLE_SETTING = "EAS_CONNECTOR_CA_BUNDLE"


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _ThreadedServer:
    """One uvicorn server on an already bound socket, in a daemon thread."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket):
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self._run, name=f"sandbox-{sock.getsockname()[1]}", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout_s: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox server on port {self.sock.getsockname()[1]} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class Sandbox:
    """Every emulator, started together; a context manager."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mtls_port: int = 0,
        smtp_port: int = 0,
        seed: int = 0,
    ):
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.host = host
        self.ports = (port, mtls_port, smtp_port)
        self.records: Records | None = None
        self.faults = FaultInjector(seed)
        self.vendors = discover_vendors()
        self._servers: list[_ThreadedServer] = []
        self._smtp = None
        self.endpoints: Endpoints | None = None

    def start(self) -> Sandbox:
        certs = tls.generate(self.data_dir / "tls")
        self.records = Records(self.database_url)
        for vendor in self.vendors:
            if vendor.seed is not None:
                vendor.seed(self.records)
        app = create_app(self.records, self.faults, self.vendors)
        port, mtls_port, smtp_port = self.ports
        main_sock = _bound_socket(self.host, port)
        mtls_sock = _bound_socket(self.host, mtls_port)
        app.state.mtls_port = mtls_sock.getsockname()[1]
        common = {"log_level": "warning", "lifespan": "off", "ssl_certfile": str(certs.server_cert)}
        common["timeout_graceful_shutdown"] = 1  # an idle keep-alive client must not hold up stop()
        common["ssl_keyfile"] = str(certs.server_key)
        self._servers = [
            _ThreadedServer(uvicorn.Config(app, **common), main_sock),
            _ThreadedServer(
                uvicorn.Config(app, ssl_cert_reqs=ssl.CERT_REQUIRED, ssl_ca_certs=str(certs.ca), **common),
                mtls_sock,
            ),
        ]
        for server in self._servers:
            server.start()
        smtp_port = self._start_smtp(certs, smtp_port)
        display_host = f"[{self.host}]" if ":" in self.host else self.host
        self.endpoints = Endpoints(
            base_url=f"https://{display_host}:{main_sock.getsockname()[1]}",
            mtls_url=f"https://{display_host}:{app.state.mtls_port}",
            smtp_host=self.host,
            smtp_port=smtp_port,
            ca_path=certs.ca,
            client_cert_path=certs.client_cert,
            client_key_path=certs.client_key,
        )
        return self

    def _start_smtp(self, certs: tls.Certificates, port: int) -> int:
        """The SMTP emulator, when its module is present (``eas_sandbox.smtp``); its port, else 0."""
        try:
            smtp = importlib.import_module("eas_sandbox.smtp")
        except ModuleNotFoundError:
            return 0
        self._smtp = smtp.SmtpEmulator(self.records, self.faults, certs, host=self.host, port=port)
        return self._smtp.start()

    def env(self) -> dict[str, str]:
        """The EAS_* settings that point every connector at these emulators."""
        assert self.endpoints is not None, "start the sandbox first"
        settings = {CA_BUNDLE_SETTING: str(self.endpoints.ca_path)}
        for vendor in self.vendors:
            settings.update(vendor.env(self.endpoints))
        return settings

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        for server in self._servers:
            server.stop()
        if self.records is not None:
            self.records.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
