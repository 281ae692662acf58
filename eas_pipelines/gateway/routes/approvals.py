"""``/v1/approvals``: record people's decisions on requests awaiting approval.

Only the decision is recorded here (request ``awaiting_approval -> approved|rejected``, in one
transaction with the approval row and the audit entry); the Dagster approval sensor resumes
approved work. Resuming from the API would run the workflow twice when the sensor also does.

No ``from __future__ import annotations`` here: FastAPI must resolve the dependency annotations,
which name closures of ``build_router``, at definition time.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

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
from eas_pipelines.store import (
    ApprovalAlreadyDecided,
    ApprovalError,
    ApprovalNotFound,
    IllegalTransition,
)

MAX_LIST_LIMIT = 200


class DecisionOut(BaseModel):
    approval: ApprovalOut
    request: RequestOut


_DECISION_ERRORS = documented(
    400,
    *AUTHENTICATED,
    404,
    409,
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
        ctx.store.get(request_id)  # 404 for an unknown request rather than "no pending approval"
        try:
            approval = ctx.store.decide(request_id, decision, f"client:{principal.client_id}", reason)
        except ApprovalAlreadyDecided as exc:
            raise HTTPException(409, detail=str(exc)) from None
        except (ApprovalNotFound, ApprovalError, IllegalTransition) as exc:
            record = ctx.store.get(request_id)
            raise HTTPException(
                409, detail=f"request {request_id} is {record.status}, not awaiting approval ({exc})"
            ) from None
        ctx.metrics.decisions.labels(decision).inc()
        record = ctx.store.get(request_id)
        return DecisionOut(
            approval=approval_out(approval),
            request=request_out(record, amount_threshold=ctx.amount_threshold),
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
        _: Annotated[Principal, Depends(can_read)],
        status: Annotated[
            ApprovalStatusFilter, Query(description="pending (default), approved, rejected or all.")
        ] = (ApprovalStatusFilter.PENDING),
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    ) -> ApprovalList:
        """Approvals by state; pending ones by deadline, soonest first."""
        wanted = None if status is ApprovalStatusFilter.ALL else status.value
        return ApprovalList(items=[approval_out(a) for a in ctx.store.approvals(wanted, limit=limit)])

    return router
