"""Which intent a piece of feedback says a request should have been (plain rules, unit-tested).

The NLP service extracts no "intent" entity: feedback names the intent in words ("that should
have been a leave request", "I asked for a payroll question, not a leave request"). The phrases are
the ones the enterprise data teaches for ``learning.classification_feedback``
(``nlp_service/enterprise/fillers.py``, ``intent_phrase``) plus a few plain names of intents.

Which phrase is the correction: those negated ("not X") or naming what the model did ("classified
it as X but...") are the wrong intent; of the others, the last one named is the right one.
"""

from __future__ import annotations

import re

PHRASES: dict[str, str] = {
    "leave balance question": "hr.leave_balance",
    "leave balance": "hr.leave_balance",
    "leave request": "hr.leave_request",
    "vacation request": "hr.leave_request",
    "time off request": "hr.leave_request",
    "invoice question": "finance.invoice_status",
    "invoice status": "finance.invoice_status",
    "invoice to process": "finance.invoice_process",
    "invoice processing": "finance.invoice_process",
    "ticket status check": "customer_service.ticket_status",
    "ticket status": "customer_service.ticket_status",
    "new ticket": "customer_service.ticket_create",
    "ticket escalation": "customer_service.ticket_escalate",
    "report request": "data_analysis.report_request",
    "kpi question": "data_analysis.kpi_query",
    "access request": "security.access_grant",
    "access revocation": "security.access_revoke",
    "security incident": "security.incident_report",
    "compliance check": "security.compliance_check",
    "shipment question": "operations.shipment_tracking",
    "inventory check": "operations.inventory_check",
    "purchase order": "operations.purchase_order",
    "reorder": "operations.reorder",
    "payroll question": "hr.payroll_question",
    "onboarding request": "hr.onboarding",
    "offboarding request": "hr.offboarding",
    "meeting request": "scheduling.meeting_schedule",
    "room booking": "scheduling.resource_booking",
    "expense claim": "finance.expense_submit",
    "rollback": "recovery.rollback",
    "retry": "recovery.retry_request",
    "approval": "approvals.approve",
    "outage report": "monitoring.outage_report",
    "health check": "monitoring.system_health",
    "announcement": "communication.announcement",
    "email": "communication.send_email",
    "message": "communication.send_message",
    "sync job": "integration.data_sync",
    "data transform": "integration.data_transform",
    "document extraction": "documents.extract",
}

# Longest first, so "leave balance question" wins over "leave request"-like overlaps.
_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_ARTICLE = r"(?:an?\s+|the\s+)?"
_NEGATED = re.compile(rf"\bnot\s+{_ARTICLE}$", re.IGNORECASE)
_WHAT_THE_MODEL_DID = re.compile(
    rf"\b(?:classified|routed|tagged|labell?ed|think|thought|decided|treated)\b[\w\s']*?\bas\s+{_ARTICLE}$"
    rf"|\bwasn't\s+{_ARTICLE}$|\bthat\s+was\s+{_ARTICLE}$",
    re.IGNORECASE,
)


def named_intents(text: str) -> list[tuple[str, bool]]:
    """Every intent the text names, in order, each with whether it is named as the wrong one."""
    found: list[tuple[str, bool]] = []
    for match in _PATTERN.finditer(text):
        before = text[max(0, match.start() - 60) : match.start()]
        wrong = bool(_NEGATED.search(before) or _WHAT_THE_MODEL_DID.search(before))
        found.append((PHRASES[match.group(1).lower()], wrong))
    return found


def corrected_intent(text: str) -> str | None:
    """The intent the feedback says is right (the last one not named as wrong), or None."""
    right = [intent for intent, wrong in named_intents(text) if not wrong]
    return right[-1] if right else None
