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
    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"  # EAS_APPROVAL_AMOUNT_THRESHOLD
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
    Route("finance.invoice_status", "finance", None),
    Route("finance.expense_submit", "finance", None),
    Route("hr.leave_request", "hr", LEAVE_JOB, P1, Lane.FAST, ApprovalPolicy.MANAGER, "manager"),
    Route("hr.leave_balance", "hr", None),
    Route("hr.onboarding", "hr", None),
    Route("hr.offboarding", "hr", None),
    Route("hr.payroll_question", "hr", None),
    Route("operations.inventory_check", "operations", None),
    Route("operations.reorder", "operations", None),
    Route("operations.shipment_tracking", "operations", None),
    Route("operations.purchase_order", "operations", None),
    Route("customer_service.ticket_create", "customer_service", TICKET_JOB),
    Route("customer_service.ticket_status", "customer_service", None),
    Route("customer_service.ticket_escalate", "customer_service", TICKET_JOB, P0),
    Route("data_analysis.report_request", "data_analysis", None, P2, STANDARD),
    Route("data_analysis.kpi_query", "data_analysis", None, P2),
    Route(
        "security.access_grant",
        "security",
        None,
        P1,
        Lane.FAST,
        ApprovalPolicy.SENSITIVE_SYSTEM,
        "security_officer",
    ),
    Route("security.access_revoke", "security", None, P0),
    Route("security.incident_report", "security", None, P0),
    Route("security.compliance_check", "security", None, P2, STANDARD),
    Route("integration.data_sync", "integration", None, P2, STANDARD),
    Route("integration.data_transform", "integration", None, P2, STANDARD),
    Route("monitoring.system_health", "monitoring", None),
    Route("monitoring.outage_report", "monitoring", None, P0),
    Route("scheduling.meeting_schedule", "scheduling", None),
    Route("scheduling.resource_booking", "scheduling", None),
    Route("communication.send_message", "communication", None),
    Route("communication.announcement", "communication", None, P2),
    Route("communication.send_email", "communication", None),
    Route("documents.extract", "documents", None, P2, STANDARD),
    Route("documents.generate", "documents", None, P2, STANDARD),
    Route("approvals.approve", "approvals", None),
    Route("approvals.reject", "approvals", None),
    Route("approvals.list", "approvals", None),
    Route("audit.query", "audit", None, P2),
    Route("learning.classification_feedback", "learning", None, P2),
    Route("recovery.retry_request", "recovery", None),
    Route("recovery.rollback", "recovery", None, P0),
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
