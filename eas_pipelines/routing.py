"""The routing table: one place that says where each intent goes.

Intent → agent, Dagster job, default priority, lane and approval policy. The gateway
reads it to queue a classified request; the workers and the standard-lane sensor read
it to find the job to run. Intents whose agent has no workflow yet route to a person
(``needs_review``) with that reason rather than to a guess.
"""

from __future__ import annotations

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

ROUTES: dict[str, Route] = {route.intent: route for route in _ROUTES}
AGENTS: tuple[str, ...] = tuple(dict.fromkeys(route.agent for route in _ROUTES))
JOBS: tuple[str, ...] = tuple(sorted({route.job for route in _ROUTES if route.job}))


class UnroutableIntent(LookupError):
    """The intent is not in the routing table (a model trained on other labels)."""


def route_for(intent: str) -> Route:
    try:
        return ROUTES[intent]
    except KeyError:
        raise UnroutableIntent(f"intent {intent!r} is not in the routing table") from None


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
