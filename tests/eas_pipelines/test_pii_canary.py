"""Canary PII planted in a request never reaches a log line, an audit entry or an uncleared system.

Why end to end: masking is only as good as the places that call it. A real workflow (customer
service: a ServiceNow ticket, the requester's first response by e-mail, the queue's Slack channel,
audit entries at each step) runs on a request carrying a card number, an SSN, an IBAN, a phone and
an e-mail, with logging configured as EAS's processes configure it: the gateway's JSON handler, a
handler with :class:`PiiLogFilter` (as the worker installs it), and Dagster's console through the
code location's default logger. Then every log line, every audit entry of the request and every
Slack message about it is searched for the canaries; the requester's own mailbox, cleared for
e-mail addresses and phone numbers, keeps those two and nothing else.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest

from eas_pipelines.agents import customer_service_ticket_routing
from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.customer_service.tickets import classify_queue
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.gateway.request_log import configure_logging
from eas_pipelines.pii import PiiLogFilter
from eas_pipelines.pii.dagster_logger import masked_console_logger
from eas_pipelines.store import Status
from tests.eas_pipelines.dagster_support import (
    NO_COMPUTE_LOGS,
    entity,
    make_resources,
    queued_request,
    run_workflow,
)
from tests.eas_pipelines.notifications_support import received

CARD = "4111 1111 1111 1111"
SSN = "078-05-1120"
IBAN = "GB82 WEST 1234 5698 7654 32"
PHONE = "+1 212-555-0187"
CREATE = "customer_service.ticket_create"


def squeezed(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def leaked(text: str, canaries: list[str]) -> list[str]:
    """The canaries in ``text``, as written or with spaces and dashes removed (4111111111111111)."""
    return [c for c in canaries if c in text or squeezed(c) in squeezed(text)]


@pytest.fixture
def dagster(tmp_path) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(overrides=NO_COMPUTE_LOGS, temp_dir=str(tmp_path)) as instance:
        yield instance


@pytest.fixture
def log_output(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The gateway's JSON handler on the root logger, next to caplog's with the worker's filter."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    caplog.handler.addFilter(PiiLogFilter())
    try:
        configure_logging("DEBUG", stream)
        root.addHandler(caplog.handler)
        caplog.set_level(logging.DEBUG)
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        caplog.handler.filters.clear()


def test_canary_pii_reaches_no_log_audit_entry_or_uncleared_system(
    request_store,
    migrated_database_url,
    redis_url,
    redis_key_prefix,
    dagster,
    sandbox_session,
    log_output,
    caplog,
    capsys,
):
    store = request_store
    resources = make_resources(migrated_database_url, redis_url, redis_key_prefix)
    email = f"dana.{uuid.uuid4().hex[:8]}@example.com"
    text = (
        f"customer {email} can't log in: card {CARD}, SSN {SSN}, phone {PHONE}. "
        f"Bank details for the account: IBAN {IBAN}. Open a ticket"
    )
    record = queued_request(store, text, CREATE, [entity(text, "email", email)])
    store.audit(record.id, "test", "request.note", {"text": text, "card": int(squeezed(CARD))})
    logging.getLogger("eas.test.canary").info("received %s", text)
    job = customer_service_ticket_routing.with_logger_defs({"console": masked_console_logger})

    result = run_workflow(job, record.id, dagster, resources, store)

    assert result.success
    assert store.get(record.id).status is Status.SUCCEEDED
    everything = [CARD, SSN, IBAN, PHONE, email]
    # Logs: the gateway's JSON lines, the filtered handler, Dagster's console.
    assert "received" in log_output.getvalue() and "****1111" in log_output.getvalue()
    assert leaked(log_output.getvalue(), everything) == []
    assert leaked(caplog.text, everything) == []
    console = capsys.readouterr().err
    assert "customer_service_ticket_routing" in console  # Dagster's console: the masked logger
    assert leaked(console, everything) == []
    event_log = [entry.user_message for entry in dagster.all_logs(result.run_id)]
    # The run page: stored before any logger masks it (see dagster_logger); the agents log ids, not text.
    assert leaked(repr(event_log), everything) == []
    # Audit entries: every detail of the request, masked (the store's one writer masks them all).
    trail = store.audit_trail(record.id)
    assert len(trail) > 3
    assert leaked(repr([entry.detail for entry in trail]), everything) == []
    note = next(entry for entry in trail if entry.action == "request.note")
    assert note.detail["card"] == "****1111" and "<US_SSN>" in note.detail["text"]
    # Slack (cleared for nothing): the queue's channel got the ticket, with every canary masked.
    queue = classify_queue(WorkItem(record.id, "customer_service", CREATE, text, "c", 1, (), 1, "run"))
    (posted,) = received(sandbox_session, redis_url, f"#support-{queue}", request_id=record.id)
    assert leaked(posted.text, everything) == []
    assert "<EMAIL_ADDRESS>" in posted.text and "****1111" in posted.text
    # E-mail (cleared for e-mail addresses and phone numbers): the requester's own address stays.
    (mail,) = received(sandbox_session, redis_url, email, request_id=record.id)
    assert email in mail.text
    assert leaked(mail.text, [CARD, SSN, IBAN]) == []


def test_each_connector_has_its_clearance(monkeypatch: pytest.MonkeyPatch) -> None:
    slack = SlackResource(token="xoxb-test", redis_url="redis://unused")
    mail = EmailResource(host="smtp.test", sender="eas@example.com", redis_url="redis://unused")
    payload = {"text": f"{CARD} {SSN} {IBAN} call {PHONE} or write to jane@example.com"}
    assert slack.outgoing(payload) == {
        "text": "****1111 <US_SSN> <IBAN_CODE> call <PHONE_NUMBER> or write to <EMAIL_ADDRESS>"
    }
    assert mail.outgoing(payload) == {
        "text": f"****1111 <US_SSN> <IBAN_CODE> call {PHONE} or write to jane@example.com"
    }
    monkeypatch.setenv("EAS_SLACK_PII_CLEARANCE", "email_address, IBAN_CODE")
    assert slack.outgoing("jane@example.com " + IBAN) == "jane@example.com " + IBAN
    assert mail.model_copy(update={"pii_clearance": []}).outgoing("jane@example.com") == "<EMAIL_ADDRESS>"
    with pytest.raises(ValueError, match="cannot be cleared|can be cleared"):
        SlackResource(token="xoxb-test", redis_url="redis://unused", pii_clearance=["CREDIT_CARD"])
    monkeypatch.setenv("EAS_SLACK_PII_CLEARANCE", "CREDIT_CARD")
    with pytest.raises(ValueError, match="can be cleared"):
        slack.outgoing(CARD)


def test_the_code_location_logs_through_the_masked_console() -> None:
    from eas_pipelines.definitions import defs

    job = defs.resolve_job_def(customer_service_ticket_routing.name)
    assert job.loggers["console"] is masked_console_logger
