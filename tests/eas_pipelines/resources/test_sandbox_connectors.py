"""The sandbox connectors: seeded reference data, idempotent actions, business refusals."""

from __future__ import annotations

import importlib.util
import os
import uuid
from datetime import date
from pathlib import Path

import pytest

from eas_pipelines.blackouts import Blackout, parse_blackouts
from eas_pipelines.resources import (
    CalendarResource,
    LeaveLedgerResource,
    LedgerResource,
    NotificationResource,
    PurchaseOrderResource,
    TicketingResource,
    WorkflowPolicyResource,
)
from eas_pipelines.resources.connectors.leave import InsufficientBalance
from eas_pipelines.resources.connectors.ledger import DuplicatePosting, JournalEntry
from eas_pipelines.resources.connectors.tables import vendor_key
from eas_pipelines.resources.connectors.ticketing import NewTicket
from eas_pipelines.settings import EASSettings

MIGRATION = Path(__file__).parents[3] / "eas_pipelines/store/migrations/versions/0002_sandbox_connectors.py"


@pytest.fixture
def connect(migrated_database_url, redis_url, redis_key_prefix):
    def build(resource_type):
        return resource_type(
            database_url=migrated_database_url,
            redis_url=redis_url,
            breaker_prefix=f"{redis_key_prefix}circuit",
        )

    return build


def _migration():
    spec = importlib.util.spec_from_file_location("sandbox_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_vendor_keys_follow_the_matching_rule():
    for number, vendor, key, *_ in _migration().PURCHASE_ORDERS:
        assert vendor_key(vendor) == key, number
    assert vendor_key("ACME Corp.") == vendor_key("acme") == "acme"


def test_seeded_purchase_orders_and_org_chart(connect):
    orders = connect(PurchaseOrderResource)
    assert orders.get("po-10001").vendor == "Acme Corp"
    assert [po.po_number for po in orders.by_vendor("ACME")] == ["PO-10001", "PO-10010"]
    assert orders.by_vendor("Umbrella Supplies") == []  # its only PO is closed
    hr = connect(LeaveLedgerResource)
    kenji = hr.find_employee("Kenji Tanaka")
    assert (kenji.employee_id, kenji.manager_id) == ("kenji.tanaka", "omar.haddad")
    assert hr.find_employee("Omar").employee_id == "omar.haddad"  # a unique first name is enough


def test_ledger_posting_is_idempotent_and_refuses_duplicates(connect):
    ledger = connect(LedgerResource)
    invoice = f"INV-{uuid.uuid4().hex[:6]}"
    entry = JournalEntry(vendor="Atlas Paper Co", invoice_id=invoice, amount=120.0, currency="USD")
    first = ledger.post_entry(entry, request_id="r1", idempotency_key=f"{invoice}:r1")
    assert ledger.post_entry(entry, request_id="r1", idempotency_key=f"{invoice}:r1") == first
    with pytest.raises(DuplicatePosting) as duplicate:
        ledger.post_entry(entry, request_id="r2", idempotency_key=f"{invoice}:r2")
    assert duplicate.value.existing.request_id == "r1"
    assert ledger.find_posting("ATLAS PAPER", invoice).id == first.id
    assert ledger.breaker.current_state == "closed"  # a refusal is not an outage


def test_leave_debit_is_idempotent_and_never_negative(connect):
    hr = connect(LeaveLedgerResource)
    person = f"newcomer.{uuid.uuid4().hex[:6]}"
    assert hr.balance(person, "pto").balance_days == 20  # default entitlement, pto draws on vacation
    assert hr.balance(person, "parental") is None  # untracked
    day = date(2030, 1, 7)
    key = f"{person}:debit"
    assert hr.debit(person, "vacation", 5, day, day, request_id="r", idempotency_key=key).balance_days == 15
    assert hr.debit(person, "vacation", 5, day, day, request_id="r", idempotency_key=key).balance_days == 15
    with pytest.raises(InsufficientBalance):
        hr.debit(person, "vacation", 16, day, day, request_id="r2", idempotency_key=f"{key}2")
    assert hr.balance(person, "vacation").balance_days == 15


def test_calendar_ticketing_and_notifications_record_once(connect):
    key = uuid.uuid4().hex
    calendar = connect(CalendarResource)
    entry = calendar.create_entry(
        "x",
        "OOO",
        date(2030, 1, 1),
        date(2030, 1, 2),
        kind="out_of_office",
        request_id=key,
        idempotency_key=key,
    )
    assert (
        calendar.create_entry(
            "x",
            "OOO",
            date(2030, 1, 1),
            date(2030, 1, 2),
            kind="out_of_office",
            request_id=key,
            idempotency_key=key,
        )
        == entry
    )
    tickets = connect(TicketingResource)
    new = NewTicket(queue="general", priority="P2", subject="s", description="d", requester="r")
    ticket = tickets.create_ticket(new, request_id=key, idempotency_key=key)
    assert (
        tickets.create_ticket(new, request_id=key, idempotency_key=key).ticket_number == ticket.ticket_number
    )
    escalated = tickets.escalate(ticket.ticket_number, "support-tier2", "slow", idempotency_key=f"{key}:e")
    assert (
        tickets.escalate(ticket.ticket_number, "support-tier2", "slow", idempotency_key=f"{key}:e")
        == escalated
    )
    assert escalated.escalation_level == 1
    notifications = connect(NotificationResource)
    notifications.send("#ops", "hi", "body", request_id=key, idempotency_key=key)
    notifications.send("#ops", "hi", "body", request_id=key, idempotency_key=key)
    assert [(n.recipient, n.channel) for n in notifications.sent(request_id=key)] == [("#ops", "chat")]


def test_policy_from_settings_and_blackouts(monkeypatch: pytest.MonkeyPatch):
    for name in [name for name in os.environ if name.startswith("EAS_")]:
        monkeypatch.delenv(name)  # only this test's settings
    monkeypatch.setenv("EAS_APPROVAL_AMOUNT_THRESHOLD", "500")
    monkeypatch.setenv("EAS_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("EAS_LEAVE_BLACKOUT", "")  # set but empty: no blackout at all
    policy = WorkflowPolicyResource.from_settings()
    assert (policy.approval_amount_threshold, policy.max_attempts, policy.leave_blackouts) == (500.0, 5, [])
    assert policy.retry_backoff_seconds == 10.0
    monkeypatch.delenv("EAS_LEAVE_BLACKOUT")
    assert WorkflowPolicyResource.from_settings().leave_blackouts == ["12-24:01-01"]
    defaults = WorkflowPolicyResource.from_settings(EASSettings.model_construct())  # the settings' defaults
    assert WorkflowPolicyResource().model_dump() == defaults.model_dump()  # ... are the policy's
    close = Blackout("12-24:01-01")
    assert close.overlaps(date(2030, 12, 31), date(2031, 1, 3))
    assert close.overlaps(date(2031, 1, 1), date(2031, 1, 1))
    assert not close.overlaps(date(2031, 1, 2), date(2031, 1, 9))
    with pytest.raises(ValueError):
        parse_blackouts("12-24")
