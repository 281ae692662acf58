"""Approvals every agent shares: asking is :func:`~eas_pipelines.agents.common.approval_gate` (a
workflow step returns :class:`~eas_pipelines.agents.common.NeedsApproval`); escalating what nobody
decided in time is :mod:`.escalation`. Resuming approved work is a sensor
(:mod:`eas_pipelines.sensors.approvals`). How many levels a request needs (a second approver role
for large invoices) is :mod:`.levels`; deciding and listing approvals by sentence, with the
approver's authority enforced by the store, is :mod:`.decisions` (its jobs in :mod:`.workflows`)."""

from eas_pipelines.agents.approvals.escalation import (
    ESCALATION_ACTOR,
    ROLE_CHAIN,
    approval_escalation_job,
    approval_escalation_schedule,
    escalate_overdue_approvals,
    next_approver,
)

__all__ = [
    "ESCALATION_ACTOR",
    "ROLE_CHAIN",
    "approval_escalation_job",
    "approval_escalation_schedule",
    "escalate_overdue_approvals",
    "next_approver",
]
