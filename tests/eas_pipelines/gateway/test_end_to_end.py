"""A request's whole life: intake API → NLP service over HTTP → fast lane → Dagster run → succeeded.

Every part is the real one: the gateway app, a real NLP server on a socket (the tiny model), the
request store on PostgreSQL, the Redis queue, a warm worker running the project's invoice job
in-process against a Dagster instance, and the vendors' emulators behind the connectors (SAP for the
invoice, Slack and email for the notifications).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import dagster as dg
import pytest
import redis

from eas_pipelines.agents import AGENT_DEFS
from eas_pipelines.agents.finance.jobs import POSTING_STEP
from eas_pipelines.connectors.sap import invoice_marker
from eas_pipelines.definitions import build_resources
from eas_pipelines.lanes.fast_queue import FastQueue
from eas_pipelines.lanes.heartbeat import is_live
from eas_pipelines.routing import INVOICE_JOB
from eas_pipelines.store import RequestStore
from eas_pipelines.workers.worker import Worker
from tests.eas_pipelines.dagster_support import NO_COMPUTE_LOGS
from tests.eas_pipelines.gateway.conftest import bearer, submit_headers

# Values the tiny model saw in training; the amount is under the approval threshold and the
# vendor is a supplier with open purchase orders in the SAP emulator's seed, so the workflow runs to
# the end unattended.
TEXT = "process invoice INV-4242 from Acme Corp for $99"
SETTLED = {"succeeded", "failed", "rejected", "cancelled", "awaiting_approval"}


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def code_location() -> dg.Definitions:
    """The project's jobs with their resources configured from the environment as it is now.

    What a worker under ``eas up`` loads, in a process started with the emulators' settings; here
    ``eas_pipelines.definitions.defs`` was built when the module was first imported (at collection,
    before the session's emulators put their settings, such as their CA, in the environment).
    """
    return dg.Definitions.merge(
        *AGENT_DEFS, dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
    )


def test_an_invoice_goes_from_intake_to_a_succeeded_run_with_its_audit_trail(
    make_gateway: Callable[..., Any],
    request_store: RequestStore,
    redis_client: redis.Redis,
    redis_key_prefix: str,
    migrated_database_url: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_session,
) -> None:
    # The jobs' resources read these through dg.EnvVar, as they do under `eas up`.
    monkeypatch.setenv("EAS_DATABASE_URL", migrated_database_url)
    monkeypatch.setenv("EAS_REDIS_URL", redis_url)
    with dg.instance_for_test(overrides=NO_COMPUTE_LOGS) as instance:
        # A warm worker running as under `eas up`; its heartbeat makes the gateway pick the fast lane.
        queue = FastQueue(redis_client, prefix=redis_key_prefix)
        worker = Worker(request_store, queue, code_location(), instance, "w-e2e", heartbeat_s=0.5)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run_forever, args=(stop,))
        thread.start()
        try:
            _wait_for(lambda: is_live(redis_client, "w-e2e", prefix=redis_key_prefix), "the heartbeat")
            with make_gateway() as gateway:
                accepted = gateway.post("/v1/requests", json={"text": TEXT}, headers=submit_headers("e2e-1"))
                assert accepted.status_code == 201, accepted.text
                body = accepted.json()
                assert (body["intent"], body["lane"]) == ("finance.invoice_process", "fast")
                assert (body["agent"], body["workflow"], body["priority"]) == ("finance", INVOICE_JOB, "P1")
                entities = {e["type"]: e for e in body["entities"]}
                assert entities["invoice_id"]["value"] == "INV-4242"
                assert entities["amount"]["value"] == {"amount": 99.0, "currency": "USD"}
                assert TEXT[entities["vendor"]["start"] : entities["vendor"]["end"]] == "Acme Corp"

                url = f"/v1/requests/{body['id']}?include=history,audit"
                _wait_for(lambda: gateway.get(url, headers=bearer()).json()["status"] in SETTLED, "the run")
                final = gateway.get(url, headers=bearer()).json()
        finally:
            stop.set()
            thread.join(timeout=60)
        runs = instance.get_runs(dg.RunsFilter(tags={"eas/request_id": body["id"]}))

    assert final["status"] == "succeeded", final
    assert [step["to_status"] for step in final["history"]] == [
        "received",
        "classified",
        "queued",
        "running",
        "succeeded",
    ]
    actions = [entry["action"] for entry in final["audit"]]
    assert actions[0] == "request.received"
    assert {"invoice.extracted", "invoice.po_matched", "ledger.posted", "notifications.sent"} <= set(actions)
    marker = invoice_marker(f"{body['id']}:{POSTING_STEP}")
    posted = [
        invoice
        for invoice in sandbox_session.sandbox.records.all("sap", "A_SupplierInvoice")
        if invoice.get("DocumentHeaderText") == marker
    ]
    booked = [(p["SupplierInvoiceIDByInvcgParty"], p["InvoiceGrossAmount"]) for p in posted]
    assert booked == [("INV-4242", "99.00")]  # one supplier invoice in SAP, by this request
    assert [(run.job_name, run.status, run.tags["eas/lane"]) for run in runs] == [
        (INVOICE_JOB, dg.DagsterRunStatus.SUCCESS, "fast")
    ]
