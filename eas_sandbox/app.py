"""The emulators' web app: every vendor under its prefix, fault injection, and a call log.

``/_sandbox/faults`` (POST a :class:`~eas_sandbox.faults.Fault`, DELETE to clear),
``/_sandbox/reset`` (forget records, faults and calls) and ``/_sandbox/calls`` (what the
connectors sent: method, path, query, headers, body) are for tests, demos and benchmarks.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections import deque
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

import eas_sandbox.vendors as vendors_package
from eas_sandbox.faults import Fault, FaultInjector
from eas_sandbox.state import Records
from eas_sandbox.vendor import NotAuthenticated, Vendor

CALL_LOG_SIZE = 2000


def discover_vendors() -> list[Vendor]:
    """``VENDOR`` of every module in :mod:`eas_sandbox.vendors`, by name."""
    found: list[Vendor] = []
    for module_info in pkgutil.iter_modules(vendors_package.__path__):
        module = importlib.import_module(f"{vendors_package.__name__}.{module_info.name}")
        vendor = getattr(module, "VENDOR", None)
        if isinstance(vendor, Vendor):
            found.append(vendor)
    return sorted(found, key=lambda vendor: vendor.name)


def create_app(records: Records, faults: FaultInjector, vendors: list[Vendor] | None = None) -> FastAPI:
    vendors = discover_vendors() if vendors is None else vendors
    by_name = {vendor.name: vendor for vendor in vendors}
    app = FastAPI(title="EAS sandbox: local emulators of the enterprise systems", docs_url="/_sandbox/docs")
    app.state.records = records
    app.state.faults = faults
    app.state.vendors = by_name
    app.state.mtls_port = None
    calls: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
    app.state.calls = calls

    @app.middleware("http")
    async def inject_faults(request: Request, call_next):  # type: ignore[no-untyped-def]
        vendor = by_name.get(request.url.path.lstrip("/").split("/", 1)[0])
        if vendor is None:
            return await call_next(request)
        body = await request.body()
        calls.append(
            {
                "vendor": vendor.name,
                "method": request.method,
                "path": request.url.path,
                "query": str(request.url.query),
                "headers": {key.lower(): value for key, value in request.headers.items()},
                "body": body.decode("utf-8", errors="replace"),
            }
        )
        fault = faults.draw(vendor.name)
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay_s)
            elif fault.kind == "throttle":
                return vendor.throttled(fault.retry_after_s)
            elif fault.kind == "error":
                return vendor.failed(fault.status)
            elif fault.kind == "unauthorized":
                return vendor.unauthorized()
        return await call_next(request)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        vendor = by_name[request.url.path.lstrip("/").split("/", 1)[0]]
        return vendor.unauthorized()

    @app.post("/_sandbox/faults", status_code=204)
    def add_fault(fault: Fault) -> Response:
        if fault.vendor is not None and fault.vendor not in by_name:
            return Response(f"unknown vendor {fault.vendor!r}; known: {sorted(by_name)}", status_code=422)
        faults.add(fault)
        return Response(status_code=204)

    @app.delete("/_sandbox/faults", status_code=204)
    def clear_faults(seed: int | None = None) -> Response:
        faults.clear(seed)
        return Response(status_code=204)

    @app.get("/_sandbox/faults")
    def list_faults() -> list[Fault]:
        return faults.rules()

    @app.get("/_sandbox/calls")
    def list_calls(vendor: str | None = None) -> list[dict[str, Any]]:
        return [call for call in calls if vendor in (None, call["vendor"])]

    @app.post("/_sandbox/reset", status_code=204)
    def reset(vendor: str | None = None) -> Response:
        records.reset(vendor)
        faults.clear()
        calls.clear()
        for each in vendors:
            if each.seed is not None and vendor in (None, each.name):
                each.seed(records)
        return Response(status_code=204)

    for vendor in vendors:
        if vendor.mount is not None:
            app.mount(f"/{vendor.name}", vendor.mount)
        else:
            app.include_router(vendor.router, prefix=f"/{vendor.name}")
    return app
