"""Request and response models of the intake API: the OpenAPI contract of ``/v1``.

Request models forbid unknown fields and take strict types, so a misspelt field or a number where
text belongs is a 422 naming the field rather than a silently different request.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from eas_pipelines.store.states import Lane, Status

MAX_TEXT_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_REASON_LENGTH = 2000
PriorityName = Literal["P0", "P1", "P2"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(_Strict):
    text: StrictStr = Field(
        min_length=1,
        max_length=MAX_TEXT_LENGTH,
        description="The request in natural language; not blank.",
        examples=["Process invoice INV-1042 from Acme for $12,400"],
    )
    priority: PriorityName | None = Field(
        None,
        description="Priority hint. Like a priority named in the text it can raise the route's default "
        "priority, never lower it. Applied when the request is classified during this call; a request "
        "classified later by the reconciler (the NLP service was down) gets the route's priority.",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank (whitespace only)")
        return value


class DecisionRequest(_Strict):
    reason: StrictStr | None = Field(
        None, max_length=MAX_REASON_LENGTH, description="Why; required to reject, optional to approve."
    )


class RejectRequest(_Strict):
    reason: StrictStr = Field(min_length=1, max_length=MAX_REASON_LENGTH, description="Why it is rejected.")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank (whitespace only)")
        return value


class EntityOut(BaseModel):
    type: str
    text: str = Field(description="Exactly the request text's [start:end].")
    start: int
    end: int
    value: Any = Field(None, description="Normalised value (ISO date, amount with currency, ...) or null.")


class ApprovalPolicyOut(BaseModel):
    policy: str = Field(description="never, amount_over_threshold, manager or sensitive_system.")
    approver_role: str | None
    expected: bool | None = Field(
        description="Whether the workflow is expected to stop for a decision, as far as intake can tell "
        "(the workflow decides); null when unknown."
    )


class HistoryItem(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: datetime


class AuditItem(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class Links(BaseModel):
    self: str
    history: str
    approve: str | None = None
    reject: str | None = None


class RequestOut(BaseModel):
    id: str
    status: Status
    intent: str | None = None
    confidence: float | None = None
    entities: list[EntityOut] = Field(default_factory=list)
    agent: str | None = None
    workflow: str | None = Field(None, description="Dagster job that carries the request out.")
    priority: PriorityName | None = None
    lane: Lane | None = None
    needs_review_reason: str | None = Field(None, description="Why a person must look at it (needs_review).")
    approval: ApprovalPolicyOut | None = None
    message: str | None = Field(None, description="What happened during this call, when it is not obvious.")
    model_version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    links: Links
    history: list[HistoryItem] | None = Field(None, description="Status changes, oldest first (?include=).")
    audit: list[AuditItem] | None = Field(None, description="The request's audit trail (?include=).")


class RequestList(BaseModel):
    items: list[RequestOut]
    next_before: str | None = Field(
        None, description="Pass as ``before`` to get the next (older) page; null on the last page."
    )


class ApprovalOut(BaseModel):
    id: int
    request_id: str
    approver: str
    deadline: datetime
    escalation_level: int
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime


class ApprovalList(BaseModel):
    items: list[ApprovalOut]


class ApprovalStatusFilter(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = "all"


class IncludeFilter(StrEnum):
    HISTORY = "history"
    AUDIT = "audit"


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(description="database, redis: 'ok' or what failed.")
    nlp_replicas: dict[str, bool] = Field(
        description="Replica -> available; informational: the gateway accepts requests without NLP."
    )
