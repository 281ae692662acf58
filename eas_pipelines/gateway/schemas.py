"""Request and response models of the intake API: the OpenAPI contract of ``/v1``.

Request models forbid unknown fields and take strict types, so a misspelt field or a number where
text belongs is a 422 naming the field rather than a silently different request.

Every rule the server enforces is also in the document (patterns, enums, lengths), so that a client
or a contract tester generating values from the schema gets them accepted, and values outside it
rejected. Where a rule is a regular expression, the server checks the very pattern the document
shows, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationInfo, field_validator

from eas_pipelines.store.states import Lane, Status

MAX_TEXT_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_REASON_LENGTH = 2000
PriorityName = Literal["P0", "P1", "P2"]

# Whitespace as Python's str.isspace() and ECMAScript's \s see it (their union), written out rather
# than as \s because regex engines disagree on \s: "blank" must mean the same to the server's check
# and to a client reading the pattern.
_WHITESPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Free text that is stored: not blank, and no NUL character (PostgreSQL text cannot hold one).
STORED_TEXT_PATTERN = rf"^[^\x00]*[^\x00{_WHITESPACE}][^\x00]*$"
# A header value survives HTTP unchanged only if it is visible ASCII without leading or trailing
# spaces (servers strip those); a key that did not survive could never be matched on a retry.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
# Request ids are the UUIDs the store gives them (lower case, as str(uuid4()) writes them).
REQUEST_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
REQUEST_ID_EXAMPLE = "3f1c2a9e-8b4d-4c6e-9f0a-1b2c3d4e5f60"

# The NLP service's rule for conversation ids (nlp_service.context.conversation: they become part of
# its Redis keys), written out here because the gateway talks to that service over HTTP only and does
# not import it; tests/eas_pipelines/gateway/test_conversation.py checks that the two agree.
CONVERSATION_ID_MAX_LENGTH = 128
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
_CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)

RequestId = Annotated[
    str,
    Path(pattern=REQUEST_ID_PATTERN, description="The request's id (a UUID).", examples=[REQUEST_ID_EXAMPLE]),
]

_STORED_TEXT = re.compile(STORED_TEXT_PATTERN)
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def check_stored_text(value: str, field: str) -> str:
    """``value`` if it is storable free text, else a ValueError naming ``field`` and the reason."""
    if _STORED_TEXT.fullmatch(value):
        return value
    if "\x00" in value:
        raise ValueError(f"{field} must not contain NUL characters")
    raise ValueError(f"{field} must not be blank (whitespace only)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitRequest(_Strict):
    # The one rule across fields, in the document too: not a conversation_id with start_conversation.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "not": {
                "required": ["conversation_id", "start_conversation"],
                "properties": {"conversation_id": {"type": "string"}, "start_conversation": {"const": True}},
            }
        },
    )

    text: StrictStr = Field(
        min_length=1,
        max_length=MAX_TEXT_LENGTH,
        description="The request in natural language; not blank, no NUL character.",
        examples=["Process invoice INV-1042 from Acme for $12,400"],
        json_schema_extra={"pattern": STORED_TEXT_PATTERN},
    )
    priority: PriorityName | None = Field(
        None,
        description="Priority hint. Like a priority named in the text it can raise the route's default "
        "priority, never lower it. Applied when the request is classified during this call; a request "
        "classified later by the reconciler (the NLP service was down) gets the route's priority.",
    )
    conversation_id: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=CONVERSATION_ID_MAX_LENGTH,
        description="Conversation the text continues (letters, digits and . _ : -): a follow-up such as "
        "'same dates for Bob' then inherits the entities of the earlier turns it leaves out. Any new id "
        "starts a conversation; conversations expire after the NLP service's TTL.",
        examples=["chat-42"],
        json_schema_extra={"pattern": CONVERSATION_ID_PATTERN},
    )
    start_conversation: StrictBool = Field(
        False,
        description="Start a new conversation with this text: the gateway gives it an id, returned as "
        "conversation_id, to send with the follow-ups. Not together with conversation_id.",
    )

    @field_validator("text")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_stored_text(value, "text")

    @field_validator("conversation_id")
    @classmethod
    def _conversation_id(cls, value: str | None) -> str | None:
        return None if value is None else check_conversation_id(value)

    @field_validator("start_conversation")
    @classmethod
    def _one_conversation(cls, value: bool, info: ValidationInfo) -> bool:
        # Fields validate in declaration order: conversation_id is in info.data when it was valid.
        if value and info.data.get("conversation_id") is not None:
            raise ValueError(
                "start_conversation cannot be true together with conversation_id: continue the "
                "conversation named, or start a new one"
            )
        return value


def check_conversation_id(value: str) -> str:
    """``value`` if the NLP service accepts it as a conversation id, else a ValueError saying why."""
    if len(value) > CONVERSATION_ID_MAX_LENGTH:
        raise ValueError(
            f"conversation_id must be at most {CONVERSATION_ID_MAX_LENGTH} characters, got {len(value)}"
        )
    if not _CONVERSATION_ID.fullmatch(value):
        raise ValueError(
            f"conversation_id may only contain letters, digits and '.', '_', ':', '-', got {value!r}"
        )
    return value


class DecisionRequest(_Strict):
    reason: StrictStr | None = Field(
        None,
        max_length=MAX_REASON_LENGTH,
        description="Why; optional to approve. No NUL character.",
        json_schema_extra={"pattern": r"^[^\x00]*$"},
    )

    @field_validator("reason")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("reason must not contain NUL characters")
        return value


class RejectRequest(_Strict):
    reason: StrictStr = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Why it is rejected; not blank, no NUL character.",
        json_schema_extra={"pattern": STORED_TEXT_PATTERN},
    )

    @field_validator("reason")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_stored_text(value, "reason")


class EntityOut(BaseModel):
    type: str
    text: str = Field(
        description="Exactly the request text's [start:end]; for an inherited entity, the [start:end] of "
        "the earlier turn it came from."
    )
    start: int
    end: int
    value: Any = Field(None, description="Normalised value (ISO date, amount with currency, ...) or null.")
    inherited: bool = Field(
        False,
        description="Carried over from an earlier turn of the request's conversation: the text left it "
        "out ('same dates for Bob') and the workflow uses the earlier value.",
    )


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
    conversation_id: str | None = Field(
        None,
        description="The conversation the request belongs to (given or started on submit); null for "
        "a request on its own.",
    )
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
