"""``/v1/approvals``: record people's decisions on requests awaiting approval, and delegations.

Holding ``approvals:write`` lets a client ask; whether it may decide *this* approval is the store's
rule (:mod:`eas_pipelines.store.authority`, checked in the deciding transaction): the named
approver, a holder of the approval's role (or, at the first level, of the route's
``approver_role``), or the delegate of one of them while the delegation is in force. Anybody else
gets 403 naming why. ``/v1/approvals/delegations`` is where a person going away names their
delegate (from now, or ``starts_at``, until ``until``) and ends it early.

Only the decision is recorded here (request ``awaiting_approval -> approved|rejected``, in one
transaction with the approval row and the audit entry); the Dagster approval sensor resumes
approved work. Resuming from the API would run the workflow twice when the sensor also does.

No ``from __future__ import annotations`` here: FastAPI must resolve the dependency annotations,
which name closures of ``build_router``, at definition time.
"""

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from eas_pipelines.gateway.auth import require_scope
from eas_pipelines.gateway.context import GatewayContext
from eas_pipelines.gateway.presenters import approval_out, request_out
from eas_pipelines.gateway.responses import AUTHENTICATED, documented
from eas_pipelines.gateway.schemas import (
    ApprovalList,
    ApprovalOut,
    ApprovalStatusFilter,
    DecisionRequest,
    RejectRequest,
    RequestId,
    RequestOut,
)
from eas_pipelines.gateway.tokens import SCOPE_APPROVALS_WRITE, SCOPE_REQUESTS_READ, Principal
from eas_pipelines.observability import metrics as catalog
from eas_pipelines.routing import ROUTES
from eas_pipelines.store import (
    ApprovalAlreadyDecided,
    ApprovalError,
    ApprovalForbidden,
    ApprovalNotFound,
    DelegationRecord,
    IllegalTransition,
    Status,
)

MAX_LIST_LIMIT = 200


class DecisionOut(BaseModel):
    approval: ApprovalOut
    request: RequestOut


# RFC 3339's date-time, what the document's ``format: date-time`` promises (fractions of any length).
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _date_time_text(value: object) -> object:
    """Only an RFC 3339 date-time string, as documented. Pydantic alone would also take a number
    or a numeric string as a Unix time, and a bare date: schema-violating input then accepted."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2026-12-24T17:00:00Z")
    return value


DateTimeText = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


class DelegationIn(BaseModel):
    """The caller (the delegator) lets ``delegate`` decide their approvals for a while."""

    model_config = ConfigDict(extra="forbid")

    delegate: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00\s]+$", description="Client id.")
    until: DateTimeText = Field(description="When the delegation ends (with a time zone); after the start.")
    starts_at: DateTimeText | None = Field(None, description="When it begins; default now.")
    reason: str | None = Field(None, max_length=1000, pattern=r"^[^\x00]*$")


class DelegationOut(BaseModel):
    """A delegation as the API shows it: the store's :class:`DelegationRecord`, read field by field."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    delegator: str
    delegate: str
    starts_at: datetime
    until: datetime
    reason: str | None
    created_by: str
    revoked_at: datetime | None


class DelegationList(BaseModel):
    items: list[DelegationOut]


_DELEGATION_ERRORS = documented(
    400,
    *AUTHENTICATED,
    409,
    e409="The delegation cannot be made as asked (says which field and why): it would end before "
    "it starts (or before now), a date is out of range, or the caller names themselves as delegate.",
)


def _utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC, or a 409 naming ``field`` when UTC has no such moment (year 1 or 9999 at an
    extreme offset: the store could write it but not read it back)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise HTTPException(409, detail=f"{field} ({value.isoformat()}) is out of range") from None


def delegation_out(record: DelegationRecord) -> DelegationOut:
    return DelegationOut.model_validate(record)


_DECISION_ERRORS = documented(
    400,
    *AUTHENTICATED,
    404,
    409,
    e403="Not allowed to decide this approval (says why), or the token lacks approvals:write.",
    e409="Not awaiting approval, or already decided (says by whom).",
)


def build_router(ctx: GatewayContext) -> APIRouter:
    router = APIRouter(prefix="/v1/approvals", tags=["approvals"])
    can_decide = require_scope(ctx.authenticator, SCOPE_APPROVALS_WRITE)
    can_read = require_scope(ctx.authenticator, SCOPE_REQUESTS_READ)

    def record_decision(
        request_id: str, decision: str, principal: Principal, reason: str | None, request: Request
    ) -> DecisionOut:
        request.state.eas_request_id = request_id
        # 404 for an unknown request rather than "no pending approval"
        route = ROUTES.get(ctx.store.get(request_id).intent or "")
        try:
            approval = ctx.store.decide(
                request_id,
                decision,
                f"client:{principal.client_id}",
                reason,
                principal=principal.client_id,
                route_role=route.approver_role if route is not None else None,
            )
        except ApprovalAlreadyDecided as exc:
            raise HTTPException(409, detail=str(exc)) from None
        except ApprovalForbidden as exc:
            raise HTTPException(403, detail=str(exc)) from None
        except (ApprovalNotFound, ApprovalError, IllegalTransition) as exc:
            record = ctx.store.get(request_id)
            raise HTTPException(
                409, detail=f"request {request_id} is {record.status}, not awaiting approval ({exc})"
            ) from None
        ctx.metrics.decisions.labels(decision).inc()
        record = ctx.store.get(request_id)
        if record.status is Status.REJECTED:
            catalog.count_request(record.agent, record.intent, catalog.REJECTED)
        return DecisionOut(
            approval=approval_out(approval),
            request=request_out(record, amount_thresholds=ctx.amount_thresholds),
        )

    @router.post("/{request_id}/approve", response_model=DecisionOut, responses=_DECISION_ERRORS)
    def approve(
        request_id: RequestId,
        request: Request,
        principal: Annotated[Principal, Depends(can_decide)],
        body: DecisionRequest | None = None,
    ) -> DecisionOut:
        """Approve the request's pending approval; the Dagster approval sensor resumes the workflow."""
        return record_decision(request_id, "approved", principal, body.reason if body else None, request)

    @router.post("/{request_id}/reject", response_model=DecisionOut, responses=_DECISION_ERRORS)
    def reject(
        request_id: RequestId,
        body: RejectRequest,
        request: Request,
        principal: Annotated[Principal, Depends(can_decide)],
    ) -> DecisionOut:
        """Reject the request's pending approval; a reason is required. The request ends rejected."""
        return record_decision(request_id, "rejected", principal, body.reason, request)

    @router.get("", response_model=ApprovalList, responses=documented(*AUTHENTICATED))
    def list_approvals(
        principal: Annotated[Principal, Depends(can_read)],
        status: Annotated[
            ApprovalStatusFilter, Query(description="pending (default), approved, rejected or all.")
        ] = (ApprovalStatusFilter.PENDING),
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
        mine: Annotated[
            bool, Query(description="Only pending approvals the caller may decide (roles, delegations).")
        ] = False,
    ) -> ApprovalList:
        """Approvals by state; pending ones by deadline, soonest first."""
        if mine:
            roles = {intent: route.approver_role for intent, route in ROUTES.items()}
            decidable = ctx.store.decidable_by(principal.client_id, route_roles=roles, limit=limit)
            return ApprovalList(items=[approval_out(a) for a in decidable])
        wanted = None if status is ApprovalStatusFilter.ALL else status.value
        return ApprovalList(items=[approval_out(a) for a in ctx.store.approvals(wanted, limit=limit)])

    @router.post(
        "/delegations",
        status_code=201,
        response_model=DelegationOut,
        responses=_DELEGATION_ERRORS,
    )
    def create_delegation(
        body: DelegationIn, principal: Annotated[Principal, Depends(can_decide)]
    ) -> DelegationOut:
        """While the caller is away, ``delegate`` may decide what the caller may decide.

        Well-formed dates that do not fit (``until`` not after the start, or already past) are a
        409 naming the field, not a 422: whether they fit depends on the clock, not on the document.
        """
        until = _utc(body.until, "until")
        starts_at = _utc(body.starts_at, "starts_at") if body.starts_at is not None else None
        try:
            record = ctx.store.delegate(
                principal.client_id,
                body.delegate,
                until,
                f"client:{principal.client_id}",
                starts_at=starts_at,
                reason=body.reason,
            )
        except ValueError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return delegation_out(record)

    @router.get("/delegations", response_model=DelegationList, responses=documented(*AUTHENTICATED))
    def list_delegations(principal: Annotated[Principal, Depends(can_read)]) -> DelegationList:
        """Delegations in force from or to the caller."""
        records = {
            r.id: r
            for r in (
                *ctx.store.delegations(delegator=principal.client_id),
                *ctx.store.delegations(delegate=principal.client_id),
            )
        }
        return DelegationList(items=[delegation_out(records[key]) for key in sorted(records)])

    @router.delete(
        "/delegations/{delegation_id}",
        response_model=DelegationOut,
        responses=documented(*AUTHENTICATED, 404),
    )
    def revoke_delegation(
        delegation_id: Annotated[int, Path(ge=1)], principal: Annotated[Principal, Depends(can_decide)]
    ) -> DelegationOut:
        """End one of the caller's delegations now (only its delegator may)."""
        mine = {r.id for r in ctx.store.delegations(delegator=principal.client_id, in_force=False)}
        if delegation_id not in mine:
            raise HTTPException(404, detail=f"delegation {delegation_id} not found among yours")
        return delegation_out(ctx.store.revoke_delegation(delegation_id, f"client:{principal.client_id}"))

    return router
