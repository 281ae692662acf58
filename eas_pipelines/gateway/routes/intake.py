"""``/v1/requests`` and ``/v1/review``: intake, reads, and the human review queue.

Handlers are plain ``def``: the store (SQLAlchemy + psycopg2), Redis and NLP clients are blocking,
and FastAPI runs such handlers in its thread pool, which is what they need.

No ``from __future__ import annotations`` here: FastAPI must resolve the dependency annotations,
which name closures of ``build_router``, at definition time.
"""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from eas_pipelines.gateway.auth import rate_limited, require_scope
from eas_pipelines.gateway.context import GatewayContext
from eas_pipelines.gateway.conversations import chosen_conversation
from eas_pipelines.gateway.presenters import request_out, review_reason_from
from eas_pipelines.gateway.responses import AUTHENTICATED, documented
from eas_pipelines.gateway.schemas import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    REQUEST_ID_PATTERN,
    IncludeFilter,
    RequestId,
    RequestList,
    RequestOut,
    SubmitRequest,
)
from eas_pipelines.gateway.tokens import SCOPE_REQUESTS_READ, SCOPE_REQUESTS_WRITE, Principal
from eas_pipelines.gateway.triage import PRIORITY_NAMES, Outcome
from eas_pipelines.observability import metrics as catalog
from eas_pipelines.observability.tracing import current_trace_context
from eas_pipelines.routing import AGENTS
from eas_pipelines.store import RequestNotFound, RequestRecord, Status

AgentName = StrEnum("AgentName", {agent: agent for agent in AGENTS})  # type: ignore[misc]
MAX_LIST_LIMIT = 200
_INCLUDE_NAMES = "|".join(i.value for i in IncludeFilter)
# Empty (neither), or a comma-separated list of known parts: the pattern is the whole rule.
INCLUDE_PATTERN = rf"^(({_INCLUDE_NAMES})(,({_INCLUDE_NAMES}))*)?$"

Before = Annotated[
    str | None,
    Query(
        pattern=REQUEST_ID_PATTERN,
        description="Id of the last request of the page before (its next_before); 404 if there is none.",
    ),
]
_LIST_RESPONSES = documented(
    *AUTHENTICATED, 404, e404="No request with the id given as ``before`` to page from."
)


def invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, naming the offending field."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message, "input": None}])


def _include(value: str | None) -> set[IncludeFilter]:
    """The parts asked for; the query's pattern has already refused anything but known names."""
    if value is None:
        return {IncludeFilter.HISTORY, IncludeFilter.AUDIT}
    return {IncludeFilter(part) for part in value.split(",") if part}


def _check_idempotency_key(key: str) -> None:
    """422 unless the key survives HTTP unchanged (the pattern in the document; see schemas)."""
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid(
            ("header", "Idempotency-Key"),
            "Idempotency-Key must not be blank, and must be visible ASCII characters (inner spaces allowed)",
        )


def build_router(ctx: GatewayContext) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["requests"])
    can_write = require_scope(ctx.authenticator, SCOPE_REQUESTS_WRITE)
    can_read = require_scope(ctx.authenticator, SCOPE_REQUESTS_READ)
    limit_rate = rate_limited(ctx.limiter, ctx.metrics)

    def present(record: RequestRecord, outcome: Outcome | None = None) -> RequestOut:
        review_reason = outcome.review_reason if outcome else None
        history = None
        if record.status is Status.NEEDS_REVIEW and review_reason is None:
            history = ctx.store.history(record.id)
            review_reason = review_reason_from(history)
        return request_out(
            record,
            amount_thresholds=ctx.amount_thresholds,
            review_reason=review_reason,
            approval=outcome.approval if outcome else None,
            message=outcome.message if outcome else None,
        )

    @router.post(
        "/requests",
        response_model=RequestOut,
        status_code=201,
        responses={
            200: {"model": RequestOut, "description": "The Idempotency-Key was used before: that request."},
            202: {
                "model": RequestOut,
                "description": "Stored, not classified yet (no NLP replica answered); classified later.",
            },
            **documented(
                400,
                *AUTHENTICATED,
                409,
                429,
                e409="The Idempotency-Key was already used for a request with another text.",
                e503="The request store is unreachable: nothing was accepted; retry later.",
            ),
        },
    )
    def submit(
        body: SubmitRequest,
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(can_write)],
        _: Annotated[None, Depends(limit_rate)],
        idempotency_key: Annotated[
            str,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
                description="Client-chosen key (visible ASCII, inner spaces allowed); retrying with the "
                "same key returns the same request, reusing it with another text is a 409.",
                json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
            ),
        ],
    ) -> RequestOut:
        """Store a request, then classify and queue it (or send it to review).

        Stored before anything else: a 201, 200 or 202 means the request is in the store and will
        not be lost, whatever happens to the NLP service or the lanes afterwards.

        With ``conversation_id`` (or ``start_conversation``) the text is read as the next turn of a
        conversation: the entities a follow-up leaves out are inherited from the earlier turns and
        stored with the request (marked ``inherited``), so the workflow gets them.
        """
        _check_idempotency_key(idempotency_key)
        record, created = ctx.store.submit(
            principal.client_id,
            idempotency_key,
            body.text,
            conversation_id=chosen_conversation(body.conversation_id, body.start_conversation),
            # This request's trace (the server span): every later run of the request continues it.
            trace_context=current_trace_context(),
        )
        request.state.eas_request_id = record.id
        if not created and record.text != body.text:
            # 409, not 422: the request is well formed; it conflicts with the one stored under the key.
            raise HTTPException(
                409,
                detail=f"Idempotency-Key was already used for request {record.id} with a different text; "
                "use a new key",
            )
        outcome = None
        if record.status is Status.RECEIVED:
            hint = PRIORITY_NAMES[body.priority] if body.priority else None
            outcome = ctx.triage.classify(
                record,
                priority_hint=hint,
                request_id=getattr(request.state, "request_id", None),
                # The stored one, also on a retry: a conversation is started once, not per retry.
                conversation_id=record.conversation_id,
            )
            record = outcome.record
        response.headers["Location"] = f"/v1/requests/{record.id}"
        if not created:
            response.status_code = 200
        elif record.status is Status.RECEIVED:
            response.status_code = 202
            # Once, at intake: the reconciler's later tries of the same request are not new requests.
            catalog.count_request(None, None, catalog.PENDING_CLASSIFICATION)
        return present(record, outcome)

    @router.get(
        "/requests/{request_id}", response_model=RequestOut, responses=documented(*AUTHENTICATED, 404)
    )
    def get_request(
        request_id: RequestId,
        request: Request,
        _: Annotated[Principal, Depends(can_read)],
        include: Annotated[
            str | None,
            Query(
                pattern=INCLUDE_PATTERN,
                description="Comma-separated, no spaces: history, audit. Default both; empty for neither.",
            ),
        ] = None,
    ) -> RequestOut:
        """One request, with its status history and audit trail."""
        parts = _include(include)
        record = ctx.store.get(request_id)
        request.state.eas_request_id = record.id
        history = ctx.store.history(record.id) if IncludeFilter.HISTORY in parts else None
        audit = ctx.store.audit_trail(record.id) if IncludeFilter.AUDIT in parts else None
        review_history = history
        if record.status is Status.NEEDS_REVIEW and review_history is None:
            review_history = ctx.store.history(record.id)
        out = request_out(
            record,
            amount_thresholds=ctx.amount_thresholds,
            review_reason=review_reason_from(review_history) if review_history is not None else None,
            history=history,
            audit=audit,
        )
        return out

    def _list(
        statuses: Status | None, agent: AgentName | None, limit: int, before: str | None
    ) -> RequestList:
        try:
            records = ctx.store.list(
                status=statuses, agent=agent.value if agent else None, limit=limit, before=before
            )
        except RequestNotFound:
            # The cursor is well formed (the pattern checked it) but names no request: not found.
            raise HTTPException(404, detail=f"no request with id {before!r} to page from") from None
        items = [present(r) for r in records]
        return RequestList(items=items, next_before=records[-1].id if len(records) == limit else None)

    @router.get("/requests", response_model=RequestList, responses=_LIST_RESPONSES)
    def list_requests(
        _: Annotated[Principal, Depends(can_read)],
        status: Annotated[Status | None, Query(description="Only requests in this status.")] = None,
        agent: Annotated[AgentName | None, Query(description="Only requests routed to this agent.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
        before: Before = None,
    ) -> RequestList:
        """Requests newest first; page with ``before`` = the previous page's ``next_before``."""
        return _list(status, agent, limit, before)

    @router.get("/review", response_model=RequestList, tags=["review"], responses=_LIST_RESPONSES)
    def review_queue(
        _: Annotated[Principal, Depends(can_read)],
        agent: Annotated[AgentName | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
        before: Before = None,
    ) -> RequestList:
        """Requests waiting for a person (``needs_review``), newest first, each with the reason."""
        return _list(Status.NEEDS_REVIEW, agent, limit, before)

    return router
