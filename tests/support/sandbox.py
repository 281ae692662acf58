"""The emulators for tests: one :class:`~eas_sandbox.server.Sandbox` per test session.

Connector tests run the real client against it; :class:`SandboxControl` injects faults, reads
what the connectors sent and resets state between tests.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from eas_sandbox.faults import Fault
from eas_sandbox.server import Sandbox


@dataclass
class SandboxControl:
    """A test's handle on the running sandbox."""

    sandbox: Sandbox

    @property
    def env(self) -> dict[str, str]:
        return self.sandbox.env()

    @property
    def ca_bundle(self) -> str:
        return str(self.sandbox.endpoints.ca_path)

    def _admin(self) -> httpx.Client:
        verify = ssl.create_default_context(cafile=self.ca_bundle)
        return httpx.Client(base_url=self.sandbox.endpoints.base_url, verify=verify, timeout=10)

    def fault(self, kind: str, vendor: str | None = None, **options: Any) -> None:
        """Inject a fault (see :class:`eas_sandbox.faults.Fault`); ``count=1`` unless a rate is given."""
        if "rate" not in options:
            options.setdefault("count", 1)
        self.sandbox.faults.add(Fault(kind=kind, vendor=vendor, **options))

    def calls(self, vendor: str | None = None) -> list[dict[str, Any]]:
        """What the connectors sent, oldest first: method, path, query, headers, body."""
        with self._admin() as client:
            response = client.get("/_sandbox/calls", params={} if vendor is None else {"vendor": vendor})
            response.raise_for_status()
            return response.json()

    def reset(self) -> None:
        """Forget records, faults and calls, and store each vendor's demo data again."""
        with self._admin() as client:
            client.post("/_sandbox/reset").raise_for_status()
