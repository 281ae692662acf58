"""Store records turned into the API's response models (the one place that shapes a response)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eas_pipelines.gateway.schemas import (
    ApprovalOut,
    ApprovalPolicyOut,
    AuditItem,
    EntityOut,
    HistoryItem,
    Links,
    RequestOut,
)
from eas_pipelines.gateway.triage import AmountThresholds, ApprovalInfo, approval_info
from eas_pipelines.routing import UnroutableIntent, route_for
from eas_pipelines.store import ApprovalRecord, AuditEntry, RequestRecord, Status, Transition

API_PREFIX = "/v1"


def links_for(record: RequestRecord) -> Links:
    own = f"{API_PREFIX}/requests/{record.id}"
    waiting = record.status is Status.AWAITING_APPROVAL
    return Links(
        self=own,
        history=f"{own}?include=history,audit",
        approve=f"{API_PREFIX}/approvals/{record.id}/approve" if waiting else None,
        reject=f"{API_PREFIX}/approvals/{record.id}/reject" if waiting else None,
    )


def review_reason_from(history: Sequence[Transition]) -> str | None:
    """Why the request went to review: the reason of its latest move to ``needs_review``."""
    for transition in reversed(history):
        if transition.to_status is Status.NEEDS_REVIEW:
            return transition.reason
    return None


def stored_approval_info(record: RequestRecord, amount_thresholds: AmountThresholds) -> ApprovalInfo | None:
    """The route's approval policy for a classified request (recomputed: it is not stored)."""
    if record.intent is None:
        return None
    try:
        route = route_for(record.intent)
    except UnroutableIntent:
        return None
    return approval_info(route, record.entities, amount_thresholds)


def _entities(value: Any) -> list[EntityOut]:
    return [EntityOut.model_validate(e) for e in value or () if isinstance(e, dict)]


def request_out(
    record: RequestRecord,
    *,
    amount_thresholds: AmountThresholds,
    review_reason: str | None = None,
    approval: ApprovalInfo | None = None,
    message: str | None = None,
    history: Sequence[Transition] | None = None,
    audit: Sequence[AuditEntry] | None = None,
) -> RequestOut:
    if review_reason is None and record.status is Status.NEEDS_REVIEW and history is not None:
        review_reason = review_reason_from(history)
    approval = approval or stored_approval_info(record, amount_thresholds)
    return RequestOut(
        id=record.id,
        status=record.status,
        intent=record.intent,
        confidence=record.confidence,
        entities=_entities(record.entities),
        agent=record.agent,
        workflow=record.workflow,
        priority=record.priority.name if record.priority is not None else None,
        lane=record.lane,
        needs_review_reason=review_reason if record.status is Status.NEEDS_REVIEW else None,
        approval=ApprovalPolicyOut(
            policy=approval.policy.value, approver_role=approval.approver_role, expected=approval.expected
        )
        if approval
        else None,
        message=message,
        model_version=record.nlp_model_version,
        conversation_id=record.conversation_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        links=links_for(record),
        history=[
            HistoryItem(
                from_status=t.from_status.value if t.from_status else None,
                to_status=t.to_status.value,
                actor=t.actor,
                reason=t.reason,
                at=t.at,
            )
            for t in history
        ]
        if history is not None
        else None,
        audit=[AuditItem(at=a.at, actor=a.actor, action=a.action, detail=a.detail) for a in audit]
        if audit is not None
        else None,
    )


def approval_out(record: ApprovalRecord) -> ApprovalOut:
    return ApprovalOut(
        id=record.id,
        request_id=record.request_id,
        approver=record.approver,
        deadline=record.deadline,
        escalation_level=record.escalation_level,
        decision=record.decision,
        decided_by=record.decided_by,
        decided_at=record.decided_at,
        reason=record.reason,
        created_at=record.created_at,
    )
