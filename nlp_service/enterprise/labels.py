"""The label inventory of the enterprise data set: intents, entity types, out-of-scope.

Intents are named ``agent.action`` so that the orchestrator can route a parse to one of
the 15 EAS agents by the part before the dot. The lists live here, apart from the
templates, so that tests and the generator check the templates against one source.
"""

from __future__ import annotations

OOS_LABEL = "oos"

INTENTS: tuple[str, ...] = (
    "finance.invoice_process",
    "finance.invoice_status",
    "finance.expense_submit",
    "hr.leave_request",
    "hr.leave_balance",
    "hr.onboarding",
    "hr.offboarding",
    "hr.payroll_question",
    "operations.inventory_check",
    "operations.reorder",
    "operations.shipment_tracking",
    "operations.purchase_order",
    "customer_service.ticket_create",
    "customer_service.ticket_status",
    "customer_service.ticket_escalate",
    "data_analysis.report_request",
    "data_analysis.kpi_query",
    "security.access_grant",
    "security.access_revoke",
    "security.incident_report",
    "security.compliance_check",
    "integration.data_sync",
    "integration.data_transform",
    "monitoring.system_health",
    "monitoring.outage_report",
    "scheduling.meeting_schedule",
    "scheduling.resource_booking",
    "communication.send_message",
    "communication.announcement",
    "communication.send_email",
    "documents.extract",
    "documents.generate",
    "approvals.approve",
    "approvals.reject",
    "approvals.list",
    "audit.query",
    "learning.classification_feedback",
    "recovery.retry_request",
    "recovery.rollback",
)

ALL_LABELS: tuple[str, ...] = (*INTENTS, OOS_LABEL)

ENTITY_TYPES: tuple[str, ...] = (
    "amount",
    "currency",
    "invoice_id",
    "po_number",
    "vendor",
    "employee",
    "date",
    "date_range",
    "leave_type",
    "department",
    "role",
    "system",
    "sku",
    "quantity",
    "location",
    "tracking_number",
    "ticket_id",
    "priority",
    "report_name",
    "metric",
    "period",
    "channel",
    "recipient",
    "email",
    "room",
    "duration",
    "document_type",
    "request_id",
)


def agent_of(intent: str) -> str:
    """The agent an intent routes to (``finance.invoice_status`` -> ``finance``)."""
    return intent.split(".", 1)[0]
