"""Requests for the agents benchmark: one builder per routed intent that has a workflow.

Each builder returns what the gateway would store for a person's sentence: the text, the entities
the NLP service would extract from it (character spans and normalised values, through
:func:`benchmarks.orchestration.entity`) and the client id of who asked. The sentences are the ones
the agents' end-to-end tests (``tests/eas_pipelines/agents/``) prove work against the emulators'
seed data; where a workflow needs something to exist first (an invoice in SAP for a status
question, an incident for an escalation, a room in the directory, an approval waiting for a
decision), the builder puts it there beforehand, through the connector's client or the emulator's
records exactly as the tests do, and before any fault is injected. Every builder makes its request
unique (invoice numbers, claimants, people, rooms) so that no idempotency key or duplicate check
turns a benchmark request into a refusal: the benchmark measures the agents, not its own replays.

``BUILDERS`` maps intent -> builder; :func:`missing_builders` names routed intents with a job and no
builder (an agent finished after this file was written), which the benchmark prints and skips.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg

from benchmarks.orchestration import entity, invoice_request, ticket_request
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import RequestStore, Status
from eas_sandbox.state import Records
from eas_sandbox.vendors import bamboohr as bamboohr_emulator
from eas_sandbox.vendors import outlook_calendar as outlook_emulator

MARCUS = "marcus.chen@example.com"  # BambooHR/ADP seed: Software Engineer, reports to Dana Smith
DOCUMENTS_BUCKET = "eas-documents"
FANOUT_EMPLOYEE_BASE = 9_000_000  # ids of the fan-out phase's generated staff: far above the seed's


@dataclass
class Built:
    """One request as the gateway stores it: sentence, entities, and who asked (None: a generic client)."""

    text: str
    entities: list[dict[str, Any]]
    client_id: str | None = None


@dataclass
class Seeding:
    """What a builder may use to prepare the emulators: their records, connector clients, the store.

    Clients are built on first use the way the code location builds them (``from_env``, so the
    emulators' ``EAS_*`` settings must be in the environment), with circuit-breaker keys under the
    benchmark's Redis prefix; :meth:`close` releases them.
    """

    records: Records
    store: RequestStore
    redis_url: str
    breaker_prefix: str
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    run_now: Callable[[str, Built], str] | None = None
    """Queue a request for the intent and wait until it has settled; its id (set by the benchmark
    once the lanes run: a rollback needs a request that really ran)."""
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, key: str) -> Any:
        """The connector client for ``key`` (sap, servicenow, bamboohr, s3), built once."""
        if key not in self._clients:
            module, name = CLIENTS[key]
            resource_class = getattr(__import__(module, fromlist=[name]), name)
            resource = resource_class.from_env(self.redis_url).model_copy(
                update={"breaker_prefix": f"{self.breaker_prefix}seed:{key}"}
            )
            built = self._stack.enter_context(dg.build_resources({"connector": resource}))
            self._clients[key] = built.connector.client()
        return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
        self._stack.close()

    @staticmethod
    def tag(length: int = 8) -> str:
        return uuid.uuid4().hex[:length]


CLIENTS: dict[str, tuple[str, str]] = {
    "sap": ("eas_pipelines.connectors.sap", "SapResource"),
    "servicenow": ("eas_pipelines.connectors.servicenow", "ServiceNowResource"),
    "bamboohr": ("eas_pipelines.connectors.bamboohr", "BambooHRResource"),
    "s3": ("eas_pipelines.connectors.s3", "S3ConnectorResource"),
}

Builder = Callable[[Seeding], Built]


def today() -> date:
    return datetime.now(UTC).date()


def said(text: str, *found: tuple[str, str], client_id: str | None = None, **values: Any) -> Built:
    """``text`` with the entities (type, snippet) the NLP service finds; ``values`` overrides a
    snippet's normalised value (keyed by the snippet) where the tests give it explicitly."""
    entities = []
    for kind, snippet in found:
        made = entity(text, kind, snippet, today())
        if snippet in values:
            made["value"] = values[snippet]
        entities.append(made)
    return Built(text, entities, client_id)


def next_monday(weeks_ahead: int = 3) -> date:
    """A Monday at least ``weeks_ahead`` weeks away: past any notice period and free calendars."""
    base = today() + timedelta(days=7 * weeks_ahead)
    return base + timedelta(days=(7 - base.weekday()) % 7)


def letters(length: int = 8) -> str:
    """Random lower-case letters: a name part that reads as a name (the NLP normaliser keeps it)."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:length])


# --- seeding helpers ---------------------------------------------------------------------------------


def new_supplier(seed: Seeding, prefix: str = "Bench") -> str:
    """A supplier of its own in SAP's supplier master (the emulator's seed layout); its name."""
    name = f"{prefix} {seed.tag(6).upper()} Corp"
    number = f"8{uuid.uuid4().int % 10**9:09d}"
    seed.records.put("sap", "A_Supplier", number, {"Supplier": number, "SupplierName": name})
    return name


def hire(
    seed: Seeding,
    first: str,
    *,
    manager: dict[str, Any] | None = None,
    department: str = "Engineering",
    balances: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A new employee through BambooHR's API, balances and supervisor set in the record (as the tests do:
    BambooHR's API has no call for them); the employee's record."""
    tag = seed.tag(6).upper()
    last = f"Bench{tag}"
    email = f"{first}.{last}@example.com".lower()
    hired = seed.client("bamboohr").add_employee(
        first, last, email, "Analyst", department, date(2024, 1, 8), idempotency_key=f"bench-hire-{tag}"
    )
    row = seed.records.get(bamboohr_emulator.NAME, "employees", str(hired.id))
    assert row is not None
    row["_balances"] = dict(balances or {"vacation": 20.0, "sick": 10.0})
    if manager is not None:
        row |= {
            "supervisor": manager["displayName"],
            "supervisorId": str(manager["id"]),
            "supervisorEmail": manager["workEmail"],
        }
    seed.records.put(bamboohr_emulator.NAME, "employees", str(hired.id), row)
    return row


def open_incident(seed: Seeding, requester: str, subject: str) -> str:
    """An incident in ServiceNow for ``requester``; its number."""
    incident = seed.client("servicenow").create_incident(
        subject,
        correlation_id=f"bench:{seed.tag(16)}",
        assignment_group="support-billing",
        u_requester=requester,
    )
    return str(incident.number)


def awaiting_invoice(seed: Seeding) -> tuple[str, str]:
    """An invoice request stopped for finance_manager (through the store's API, as the tests make
    it): (request id, invoice id). Its ``run_ids`` stay empty, so no lane ever picks it up."""
    invoice_id = f"INV-{seed.tag(8).upper()}"
    text = f"Please process {invoice_id} from Acme for $12,400"
    found = said(text, ("invoice_id", invoice_id), ("amount", "$12,400"))
    record, _ = seed.store.submit(f"requester.{seed.tag(6)}", uuid.uuid4().hex, text)
    route = ROUTES["finance.invoice_process"]
    seed.store.classify(
        record.id,
        intent=route.intent,
        confidence=0.97,
        entities=found.entities,
        agent=route.agent,
        workflow=route.job,
        priority=route.priority,
        lane=route.lane,
        model_version="bench",
        needs_review=False,
    )
    seed.store.transition(record.id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)
    seed.store.transition(record.id, Status.RUNNING, actor="finance", expected=Status.QUEUED, run_id="bench")
    seed.store.request_approval(
        record.id, "finance_manager", datetime.now(UTC) + timedelta(hours=4), "finance"
    )
    return record.id, invoice_id


def role_holder(seed: Seeding, role: str = "finance_manager") -> str:
    who = f"dana.{seed.tag(6)}"
    seed.store.grant_role(who, role, "bench")
    return who


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a text layer (what an accounting system exports)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 22
    pdf.save()
    return buffer.getvalue()


def fanout_department(records: Records, count: int) -> str:
    """A department of ``count`` people in BambooHR's directory, written as the emulator's seed writes
    its people (one record each): the recipients of the fan-out phase's announcement; its name."""
    tag = uuid.uuid4().hex[:6]
    department = f"Bench Fanout {tag}"
    for n in range(count):
        employee_id = str(FANOUT_EMPLOYEE_BASE + int(tag, 16) % 1000 * 10_000 + n)
        first, last = f"Fan{n}", f"Out{tag}"
        records.put(
            bamboohr_emulator.NAME,
            "employees",
            employee_id,
            {
                "id": employee_id,
                "employeeNumber": employee_id,
                "displayName": f"{first} {last}",
                "firstName": first,
                "lastName": last,
                "jobTitle": "Analyst",
                "workEmail": f"fan{n}.out{tag}@example.com",
                "department": department,
                "location": "Remote",
                "supervisor": None,
                "supervisorId": None,
                "supervisorEmail": None,
                "hireDate": "2024-01-08",
                "status": "Active",
                "_balances": {},
            },
        )
    return department


def announcement(department: str) -> Built:
    text = f"tell all of {department} that the office is closed on Friday"
    return said(text, ("department", department))


# --- builders, by intent -----------------------------------------------------------------------------


def finance_invoice_process(seed: Seeding) -> Built:
    text, entities = invoice_request(seed.rng)
    return Built(text, entities)


def finance_invoice_status(seed: Seeding) -> Built:
    supplier = new_supplier(seed, "Status")
    reference = f"INV-{seed.tag(8).upper()}"
    seed.client("sap").post_supplier_invoice(
        supplier, reference, Decimal("1250.00"), "USD", None, date(2026, 3, 2), f"bench:{reference}"
    )
    text = f"what's the status of invoice {reference} from {supplier}"
    return said(
        text, ("invoice_id", reference), ("vendor", supplier), client_id=f"ap.{seed.tag(6)}@example.com"
    )


def finance_expense_submit(seed: Seeding) -> Built:
    dollars = seed.rng.randint(20, 120)
    text = f"expense ${dollars} taxi today, receipt attached"
    return said(text, ("amount", f"${dollars}"), client_id=f"pat.{seed.tag()}@example.com")


def hr_leave_request(seed: Seeding) -> Built:
    manager = hire(seed, "Dana")
    employee = hire(seed, "Marcus", manager=manager, balances={"vacation": 15.0, "sick": 10.0})
    start = next_monday(3)
    while not (date(start.year, 1, 2) < start and start + timedelta(days=4) < date(start.year, 12, 24)):
        start += timedelta(days=7)  # HR's blackout window is 24 December - 1 January
    span = f"from {start.isoformat()} to {(start + timedelta(days=4)).isoformat()}"
    text = f"{employee['displayName']} needs vacation {span}"
    return said(text, ("employee", employee["displayName"]), ("leave_type", "vacation"), ("date_range", span))


def hr_leave_balance(seed: Seeding) -> Built:
    text = "how much vacation do I have left"
    return said(text, ("leave_type", "vacation"), client_id=MARCUS)


def hr_onboarding(seed: Seeding) -> Built:
    name = f"Robin {letters().title()}"
    text = (
        f"new hire {name} starts 2027-03-01 in sales as account executive, personal email robin@home.example"
    )
    return said(
        text,
        ("employee", name),
        ("date", "2027-03-01"),
        ("department", "sales"),
        ("role", "account executive"),
        ("email", "robin@home.example"),
        **{"2027-03-01": "2027-03-01"},
    )


def hr_offboarding(seed: Seeding) -> Built:
    leaver = hire(seed, "Casey")
    text = f"offboard {leaver['workEmail']}, last day 2027-06-30"
    return said(text, ("email", leaver["workEmail"]), ("date", "2027-06-30"), **{"2027-06-30": "2027-06-30"})


def hr_payroll_question(seed: Seeding) -> Built:
    return said("when is my next payday", client_id=MARCUS)


def operations_inventory_check(seed: Seeding) -> Built:
    text = "how many SKU-1182 do we have in Hamburg"
    return said(text, ("sku", "SKU-1182"), ("location", "Hamburg"))


def operations_reorder(seed: Seeding) -> Built:
    quantity = str(seed.rng.randint(5, 20))
    text = f"reorder {quantity} units of SKU-3310"
    return said(text, ("quantity", quantity), ("sku", "SKU-3310"))


def operations_shipment_tracking(seed: Seeding) -> Built:
    text = "track package 1Z999AA10123456784"
    return said(text, ("tracking_number", "1Z999AA10123456784"))


def operations_purchase_order(seed: Seeding) -> Built:
    amount = f"${seed.rng.randint(100, 2500):,}"
    text = f"raise a PO to Globex for {amount}"
    return said(text, ("vendor", "Globex"), ("amount", amount))


def customer_service_ticket_create(seed: Seeding) -> Built:
    text, entities = ticket_request(seed.rng)
    return Built(text, entities)


def customer_service_ticket_status(seed: Seeding) -> Built:
    who = f"cust.{seed.tag()}@example.com"
    number = open_incident(seed, who, "[billing] charged twice")
    text = f"what's the status of ticket {number}"
    return said(text, ("ticket_id", number), client_id=who)


def customer_service_ticket_escalate(seed: Seeding) -> Built:
    number = open_incident(seed, f"cust.{seed.tag()}@example.com", "[technical] export keeps failing")
    text = f"{number} has been stuck for days, escalate it"
    return said(text, ("ticket_id", number))


def data_analysis_report_request(seed: Seeding) -> Built:
    text = "Send the Q3 2025 vendor spend report to #finance"
    return said(text, ("period", "Q3 2025"), ("report_name", "vendor spend report"), ("channel", "#finance"))


def data_analysis_kpi_query(seed: Seeding) -> Built:
    text = "what's the ticket backlog?"
    return said(text, ("metric", "ticket backlog"), client_id=f"lead-{seed.tag()}")


def security_access_grant(seed: Seeding) -> Built:
    email = f"casey.{seed.tag()}@example.com"
    text = f"give {email} editor access to Jira"
    return said(text, ("email", email), ("role", "editor"), ("system", "Jira"))


def security_access_revoke(seed: Seeding) -> Built:
    email = f"casey.{seed.tag()}@example.com"
    text = f"revoke all access for {email} effective immediately"
    return said(text, ("email", email))


def security_incident_report(seed: Seeding) -> Built:
    text = f"suspicious logins on Salesforce from an unknown IP ({seed.tag(6)}), looks like a breach"
    return said(text, ("system", "Salesforce"))


def security_compliance_check(seed: Seeding) -> Built:
    return said("run an access review")


def scheduling_meeting_schedule(seed: Seeding) -> Built:
    t = seed.tag(6)
    me = outlook_emulator.user_record(f"Maya Requester{t}", "Engineering")
    ana = outlook_emulator.user_record(f"Ana Quill{t}", "Engineering")
    room = outlook_emulator.room_record(f"Room-{t}", 8)
    for user in (me, ana):
        seed.records.put(outlook_emulator.NAME, outlook_emulator.USERS, user["id"], user)
    seed.records.put(outlook_emulator.NAME, outlook_emulator.ROOMS, room["id"], room)
    guest = f"partner-{t}@acme.test"
    text = f"schedule a meeting with Ana Quill{t} and {guest} on Monday in Room-{t} for 45 minutes"
    return said(
        text,
        ("employee", f"Ana Quill{t}"),
        ("email", guest),
        ("date", "Monday"),
        ("room", f"Room-{t}"),
        ("duration", "45 minutes"),
        client_id=me["mail"],
        Monday=next_monday(3).isoformat(),
        **{"45 minutes": 45},
    )


def scheduling_resource_booking(seed: Seeding) -> Built:
    t = seed.tag(6)
    room = outlook_emulator.room_record(f"Room-{t}", 6)
    seed.records.put(outlook_emulator.NAME, outlook_emulator.ROOMS, room["id"], room)
    text = f"book Room-{t} on Monday from 2 to 4"
    return said(text, ("room", f"Room-{t}"), ("date", "Monday"), Monday=next_monday(3).isoformat())


def communication_send_message(seed: Seeding) -> Built:
    text = f"tell Priya Patel in #finance that the quarter close is done ({seed.tag(6)})"
    return said(text, ("recipient", "Priya Patel"), ("channel", "#finance"))


def communication_send_email(seed: Seeding) -> Built:
    text = (
        "email Dana Smith and ops@example.com about the Q3 budget: "
        f"please send your numbers by Friday ({seed.tag(6)})"
    )
    return said(text, ("recipient", "Dana Smith"), ("email", "ops@example.com"))


def communication_announcement(seed: Seeding) -> Built:
    return announcement("Finance")


def documents_extract(seed: Seeding) -> Built:
    from eas_pipelines.connectors.sap import NewPurchaseOrderLine

    vendor = new_supplier(seed, "Umbrella")
    po = f"PO-{seed.tag().upper()}"
    seed.client("sap").create_purchase_order(
        vendor,
        [NewPurchaseOrderLine(text="bench order", net_price=Decimal("2000"))],
        "USD",
        idempotency_key=f"bench-po:{po}",
        po_number=po,
    )
    invoice_id = f"INV-{seed.tag().upper()}"
    key = f"inbox/{seed.tag()}/invoice.pdf"
    lines = ["INVOICE", f"Invoice number: {invoice_id}", f"Vendor: {vendor}", "Invoice date: 2026-03-01"]
    lines += ["Due date: 2026-03-31", f"PO number: {po}", "Subtotal: 100.00", "Total due: $1,234.50"]
    s3 = seed.client("s3")
    s3.ensure_bucket(DOCUMENTS_BUCKET)
    s3.put(DOCUMENTS_BUCKET, key, text_pdf(lines), "application/pdf")
    text = f"extract the total from the attached invoice s3://{DOCUMENTS_BUCKET}/{key}"
    return said(text, ("document_type", "invoice"))


def documents_generate(seed: Seeding) -> Built:
    text = "draft an offer letter for Dana Smith at a salary of $120,000 and email it to dana@example.com"
    return said(
        text,
        ("document_type", "offer letter"),
        ("employee", "Dana Smith"),
        ("amount", "$120,000"),
        ("email", "dana@example.com"),
    )


def approvals_approve(seed: Seeding) -> Built:
    _, invoice_id = awaiting_invoice(seed)
    who = role_holder(seed)
    return said(f"approve invoice {invoice_id}", ("invoice_id", invoice_id), client_id=who)


def approvals_reject(seed: Seeding) -> Built:
    _, invoice_id = awaiting_invoice(seed)
    who = role_holder(seed)
    text = f"reject {invoice_id}, the vendor is not on the approved list"
    return said(text, ("invoice_id", invoice_id), client_id=who)


def approvals_list(seed: Seeding) -> Built:
    awaiting_invoice(seed)
    return said("list my approvals", client_id=role_holder(seed))


def audit_query(seed: Seeding) -> Built:
    target, invoice_id = awaiting_invoice(seed)
    dana = role_holder(seed)
    seed.store.decide(target, "approved", f"client:{dana}", "within budget", principal=dana)
    return said(f"who approved {invoice_id}", ("invoice_id", invoice_id), client_id=f"auditor.{seed.tag(6)}")


def integration_data_sync(seed: Seeding) -> Built:
    key = f"bench/{seed.tag()}/accounts.csv"
    text = f"export the accounts from Salesforce to the S3 bucket at s3://{DOCUMENTS_BUCKET}/{key}"
    return said(text, ("system", "Salesforce"), ("system", "the S3 bucket"))


def integration_data_transform(seed: Seeding) -> Built:
    folder = f"bench/{seed.tag()}"
    rows = [{"id": "V-1", "name": "Acme", "address": {"city": "Berlin"}}, {"id": "V-2", "name": "Globex"}]
    s3 = seed.client("s3")
    s3.ensure_bucket(DOCUMENTS_BUCKET)
    s3.put(DOCUMENTS_BUCKET, f"{folder}/vendors.json", json.dumps(rows).encode(), "application/json")
    return said(f"convert s3://{DOCUMENTS_BUCKET}/{folder}/vendors.json to CSV")


def monitoring_system_health(seed: Seeding) -> Built:
    return said("is SAP up?", ("system", "SAP"), client_id=f"ops.{seed.tag(6)}@example.com")


def monitoring_outage_report(seed: Seeding) -> Built:
    text = f"Jira is down for the whole support team ({seed.tag(6)})"
    return said(text, ("system", "Jira"), client_id=f"ops.{seed.tag(6)}@example.com")


def recovery_retry_request(seed: Seeding) -> Built:
    """A retry of the requester's own failed ticket request (failed through the store's API: its
    last error is what a connector outage leaves); the retried request then runs on its lane."""
    who = f"cust.{seed.tag()}@example.com"
    made = said(f"customer {who} can't log in to the VPN, please open a ticket", ("email", who))
    record, _ = seed.store.submit(who, uuid.uuid4().hex, made.text)
    route = ROUTES["customer_service.ticket_create"]
    seed.store.classify(
        record.id,
        intent=route.intent,
        confidence=0.97,
        entities=made.entities,
        agent=route.agent,
        workflow=route.job,
        priority=route.priority,
        lane=route.lane,
        model_version="bench",
        needs_review=False,
    )
    seed.store.transition(record.id, Status.QUEUED, actor="gateway", expected=Status.CLASSIFIED)
    seed.store.transition(
        record.id, Status.RUNNING, actor="customer_service", expected=Status.QUEUED, run_id="bench"
    )
    seed.store.transition(
        record.id,
        Status.FAILED,
        actor="customer_service",
        expected=Status.RUNNING,
        reason="ServiceNow unavailable",
        last_error="ServiceNow unavailable",
    )
    return said(f"retry {record.id.upper()}", ("request_id", record.id.upper()), client_id=who)


def learning_classification_feedback(seed: Seeding) -> Built:
    """Feedback on the requester's own earlier request, classified (as a ticket) but never queued."""
    who = f"emp.{seed.tag()}@example.com"
    text = "I need PTO next week"
    record, _ = seed.store.submit(who, uuid.uuid4().hex, text)
    route = ROUTES["customer_service.ticket_create"]
    seed.store.classify(
        record.id,
        intent=route.intent,
        confidence=0.61,
        entities=[],
        agent=route.agent,
        workflow=route.job,
        priority=route.priority,
        lane=route.lane,
        model_version="bench",
        needs_review=True,
    )
    ref = record.id.upper()
    return said(f"{ref} should have been a leave request", ("request_id", ref), client_id=who)


def recovery_rollback(seed: Seeding) -> Built:
    """A rollback of the requester's own ticket request, which runs first (its ServiceNow incident is
    the completed step the rollback undoes)."""
    if seed.run_now is None:
        raise RuntimeError("recovery.rollback needs the lanes running: its target request must run first")
    who = f"cust.{seed.tag()}@example.com"
    target = said(
        f"customer {who} can't log in to the VPN, please open a ticket", ("email", who), client_id=who
    )
    ref = seed.run_now("customer_service.ticket_create", target).upper()
    return said(f"roll back {ref}", ("request_id", ref), client_id=who)


BUILDERS: dict[str, Builder] = {
    "finance.invoice_process": finance_invoice_process,
    "finance.invoice_status": finance_invoice_status,
    "finance.expense_submit": finance_expense_submit,
    "hr.leave_request": hr_leave_request,
    "hr.leave_balance": hr_leave_balance,
    "hr.onboarding": hr_onboarding,
    "hr.offboarding": hr_offboarding,
    "hr.payroll_question": hr_payroll_question,
    "operations.inventory_check": operations_inventory_check,
    "operations.reorder": operations_reorder,
    "operations.shipment_tracking": operations_shipment_tracking,
    "operations.purchase_order": operations_purchase_order,
    "customer_service.ticket_create": customer_service_ticket_create,
    "customer_service.ticket_status": customer_service_ticket_status,
    "customer_service.ticket_escalate": customer_service_ticket_escalate,
    "data_analysis.report_request": data_analysis_report_request,
    "data_analysis.kpi_query": data_analysis_kpi_query,
    "security.access_grant": security_access_grant,
    "security.access_revoke": security_access_revoke,
    "security.incident_report": security_incident_report,
    "security.compliance_check": security_compliance_check,
    "scheduling.meeting_schedule": scheduling_meeting_schedule,
    "scheduling.resource_booking": scheduling_resource_booking,
    "communication.send_message": communication_send_message,
    "communication.send_email": communication_send_email,
    "communication.announcement": communication_announcement,
    "documents.extract": documents_extract,
    "documents.generate": documents_generate,
    "approvals.approve": approvals_approve,
    "approvals.reject": approvals_reject,
    "approvals.list": approvals_list,
    "audit.query": audit_query,
    "integration.data_sync": integration_data_sync,
    "integration.data_transform": integration_data_transform,
    "monitoring.system_health": monitoring_system_health,
    "monitoring.outage_report": monitoring_outage_report,
    "recovery.retry_request": recovery_retry_request,
    "learning.classification_feedback": learning_classification_feedback,
    "recovery.rollback": recovery_rollback,
}


def routed_intents(loaded_jobs: set[str] | None = None) -> list[str]:
    """Intents whose route names a job (and, given ``loaded_jobs``, a job the code location has)."""
    return [
        intent
        for intent, route in ROUTES.items()
        if route.job is not None and (loaded_jobs is None or route.job in loaded_jobs)
    ]


def missing_builders(loaded_jobs: set[str] | None = None) -> list[str]:
    """Routed intents with a job but no builder here: the benchmark names them and leaves them out."""
    return [intent for intent in routed_intents(loaded_jobs) if intent not in BUILDERS]


def covered_intents(loaded_jobs: set[str] | None = None) -> list[str]:
    return [intent for intent in routed_intents(loaded_jobs) if intent in BUILDERS]


def iter_round_robin(intents: list[str], count: int, rng: random.Random) -> Iterator[str]:
    """``count`` intents, every intent equally often (round robin), in a shuffled order."""
    chosen = [intents[n % len(intents)] for n in range(count)]
    rng.shuffle(chosen)
    yield from chosen
