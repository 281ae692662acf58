"""The routing table: one place that says where each intent goes.

Intent → agent, Dagster job, default priority, lane and approval policy. The gateway
reads it to queue a classified request; the workers and the standard-lane sensor read
it to find the job to run. Intents whose agent has no workflow yet route to a person
(``needs_review``) with that reason rather than to a guess.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from eas_pipelines.store.states import Lane, Priority

if TYPE_CHECKING:
    from eas_pipelines.store.records import RequestRecord


class ApprovalPolicy(StrEnum):
    """When a workflow must stop for a person's decision."""

    NEVER = "never"
    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"  # the route's amount_threshold_setting
    MANAGER = "manager"  # always, by the requester's manager
    SENSITIVE_SYSTEM = "sensitive_system"  # access to a system on the sensitive list


@dataclass(frozen=True)
class Route:
    intent: str
    agent: str
    job: str | None  # Dagster job name; None: the agent has no workflow for this intent yet
    priority: Priority = Priority.P1
    lane: Lane = Lane.FAST
    approval: ApprovalPolicy = ApprovalPolicy.NEVER
    approver_role: str | None = None
    # Which EASSettings field holds the amount its workflow asks approval above (AMOUNT_OVER_THRESHOLD):
    # the gateway's "approval expected" reads the same one, so the two agree.
    amount_threshold_setting: str = "approval_amount_threshold"

    @property
    def manual_minutes(self) -> float:
        """Minutes a person would spend doing this by hand (:data:`MANUAL_MINUTES`): the time saved
        each time EAS completes it (``eas_time_saved_seconds_total``)."""
        return MANUAL_MINUTES.get(self.intent, DEFAULT_MANUAL_MINUTES)


INVOICE_JOB = "finance_invoice_processing"
LEAVE_JOB = "hr_leave_request"
TICKET_JOB = "customer_service_ticket_routing"

P0, P1, P2 = Priority.P0, Priority.P1, Priority.P2
STANDARD = Lane.STANDARD

_ROUTES = (
    Route(
        "finance.invoice_process",
        "finance",
        INVOICE_JOB,
        P1,
        Lane.FAST,
        ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
        "finance_manager",
    ),
    Route("finance.invoice_status", "finance", "finance_invoice_status"),
    Route(
        "finance.expense_submit",
        "finance",
        "finance_expense_submission",
        P1,
        Lane.FAST,
        ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
        "finance_manager",
        amount_threshold_setting="expense_approval_threshold",
    ),
    Route("hr.leave_request", "hr", LEAVE_JOB, P1, Lane.FAST, ApprovalPolicy.MANAGER, "manager"),
    Route("hr.leave_balance", "hr", "hr_leave_balance"),
    Route("hr.onboarding", "hr", "hr_onboarding"),
    Route("hr.offboarding", "hr", "hr_offboarding"),
    Route("hr.payroll_question", "hr", "hr_payroll_question", approver_role="payroll_admin"),
    Route("operations.inventory_check", "operations", "operations_inventory_check"),
    Route(
        "operations.reorder",
        "operations",
        "operations_reorder",
        P1,
        Lane.FAST,
        ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
        "procurement_manager",
    ),
    Route("operations.shipment_tracking", "operations", "operations_shipment_tracking"),
    Route(
        "operations.purchase_order",
        "operations",
        "operations_purchase_order",
        P1,
        Lane.FAST,
        ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
        "procurement_manager",
    ),
    Route("customer_service.ticket_create", "customer_service", TICKET_JOB),
    Route("customer_service.ticket_status", "customer_service", "customer_service_ticket_status"),
    Route("customer_service.ticket_escalate", "customer_service", TICKET_JOB, P0),
    Route("data_analysis.report_request", "data_analysis", "data_analysis_report", P2, STANDARD),
    Route("data_analysis.kpi_query", "data_analysis", "data_analysis_kpi", P2),
    Route(
        "security.access_grant",
        "security",
        "security_access_grant",
        P1,
        Lane.FAST,
        ApprovalPolicy.SENSITIVE_SYSTEM,
        "security_officer",
    ),
    Route("security.access_revoke", "security", "security_access_revoke", P0),
    Route("security.incident_report", "security", "security_incident_report", P0),
    Route("security.compliance_check", "security", "security_compliance_check", P2, STANDARD),
    Route("integration.data_sync", "integration", "integration_data_sync", P2, STANDARD),
    Route("integration.data_transform", "integration", "integration_data_transform", P2, STANDARD),
    Route("monitoring.system_health", "monitoring", "monitoring_system_health"),
    Route("monitoring.outage_report", "monitoring", "monitoring_outage_report", P0),
    Route("scheduling.meeting_schedule", "scheduling", "scheduling_meeting_schedule"),
    Route("scheduling.resource_booking", "scheduling", "scheduling_resource_booking"),
    Route("communication.send_message", "communication", "communication_send_message"),
    Route("communication.announcement", "communication", "communication_announcement", P2, STANDARD),
    Route("communication.send_email", "communication", "communication_send_email"),
    Route("documents.extract", "documents", "documents_extract", P2, STANDARD),
    Route("documents.generate", "documents", "documents_generate", P2, STANDARD),
    Route("approvals.approve", "approvals", "approvals_decision"),
    Route("approvals.reject", "approvals", "approvals_decision"),
    Route("approvals.list", "approvals", "approvals_listing"),
    Route("audit.query", "audit", "audit_query", P2),
    Route("learning.classification_feedback", "learning", "learning_classification_feedback", P2),
    Route("recovery.retry_request", "recovery", "recovery_retry_request"),
    Route("recovery.rollback", "recovery", "recovery_rollback", P0),
)

DEFAULT_MANUAL_MINUTES = 10.0
MANUAL_MINUTES: dict[str, float] = {
    # Estimates of a person's time per request, from looking the data up to recording the outcome;
    # what the executive dashboard sums as time saved. Reviewed with each agent's owners.
    "finance.invoice_process": 15,
    "finance.invoice_status": 5,
    "finance.expense_submit": 10,
    "hr.leave_request": 10,
    "hr.leave_balance": 3,
    "hr.onboarding": 120,
    "hr.offboarding": 60,
    "hr.payroll_question": 10,
    "operations.inventory_check": 20,
    "operations.reorder": 15,
    "operations.shipment_tracking": 5,
    "operations.purchase_order": 20,
    "customer_service.ticket_create": 5,
    "customer_service.ticket_status": 3,
    "customer_service.ticket_escalate": 10,
    "data_analysis.report_request": 120,
    "data_analysis.kpi_query": 15,
    "security.access_grant": 15,
    "security.access_revoke": 30,
    "security.incident_report": 20,
    "security.compliance_check": 60,
    "integration.data_sync": 60,
    "integration.data_transform": 45,
    "monitoring.system_health": 15,
    "monitoring.outage_report": 15,
    "scheduling.meeting_schedule": 10,
    "scheduling.resource_booking": 5,
    "communication.send_message": 2,
    "communication.announcement": 30,
    "communication.send_email": 5,
    "documents.extract": 15,
    "documents.generate": 20,
    "approvals.approve": 2,
    "approvals.reject": 2,
    "approvals.list": 2,
    "audit.query": 20,
    "learning.classification_feedback": 5,
    "recovery.retry_request": 10,
    "recovery.rollback": 30,
}
"""Intent -> minutes of manual work a completed request saves (:attr:`Route.manual_minutes`)."""

BULK_INVOICE_JOB = "finance_invoice_file"

_BULK_ROUTES = (
    Route(
        "finance.invoice_process",
        "finance",
        BULK_INVOICE_JOB,
        P2,
        STANDARD,
        ApprovalPolicy.AMOUNT_OVER_THRESHOLD,
        "finance_manager",
    ),
)
_DATA_FILE = re.compile(r"\bs3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+?\.csv\b", re.IGNORECASE)
"""An ``s3://`` URL of a CSV in a request's text: the NLP model extracts no URLs, so this is read here."""

ROUTES: dict[str, Route] = {route.intent: route for route in _ROUTES}
BULK_ROUTES: dict[str, Route] = {route.intent: route for route in _BULK_ROUTES}
"""Intent -> its route when the request carries a file of items (an ``s3://`` CSV) rather than one:
"Process the invoices in s3://inbox/march.csv" is a bulk fan-out on the standard lane."""
AGENTS: tuple[str, ...] = tuple(dict.fromkeys(route.agent for route in _ROUTES))
ROUTE_OF_JOB: dict[str, Route] = {
    route.job: route for route in reversed((*_ROUTES, *_BULK_ROUTES)) if route.job
}
"""Job -> the first route that runs it (reversed: the first overwrites the later ones): its agent,
default priority and lane, for a request run by a job chosen by hand (a reviewer's reroute)."""
JOBS: tuple[str, ...] = tuple(sorted(ROUTE_OF_JOB))
AGENT_OF_JOB: dict[str, str] = {job: route.agent for job, route in ROUTE_OF_JOB.items()}
"""Job -> the agent whose workflow it is."""


class UnroutableIntent(LookupError):
    """The intent is not in the routing table (a model trained on other labels)."""


def names_data_file(text: str) -> bool:
    """Whether ``text`` points at a file of items (an ``s3://`` URL of a CSV)."""
    return bool(_DATA_FILE.search(text))


def route_for(intent: str, text: str | None = None) -> Route:
    """The route of ``intent``; with the request's ``text``, its bulk route when the text names a
    file of items and the intent has one (:data:`BULK_ROUTES`)."""
    try:
        route = ROUTES[intent]
    except KeyError:
        raise UnroutableIntent(f"intent {intent!r} is not in the routing table") from None
    if text and intent in BULK_ROUTES and names_data_file(text):
        return BULK_ROUTES[intent]
    return route


def job_for(record: RequestRecord, jobs: Collection[str]) -> str | None:
    """The job that runs ``record``, among the loaded ``jobs``; None when none of them can.

    The workflow the gateway routed it to, else its intent's route's job (a request stored before a
    workflow was renamed, or routed by hand): the standard-lane sensor and the fast-lane workers
    ask this, each with the jobs it can launch, so that both lanes run a request the same way.
    """
    if record.workflow and record.workflow in jobs:
        return record.workflow
    route = ROUTES.get(record.intent or "")
    if route is not None and route.job in jobs:
        return route.job
    return None


def raise_priority(route: Route, requested: Priority | None) -> Priority:
    """Policies and explicit priority entities may raise a request's priority, never lower it."""
    if requested is None:
        return route.priority
    return Priority(min(route.priority, requested))
