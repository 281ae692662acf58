"""``/v1/review/{id}/...``: what a reviewer does with a request in ``needs_review``.

The queue itself is ``GET /v1/review`` (:mod:`.intake`). The actions:

- ``reclassify``: the model got the intent wrong. The correction is stored (training data for the
  learning loop, :mod:`eas_pipelines.store.corrections`) together with the request's move to
  ``classified`` under the corrected intent's route from the routing table; then the request is
  queued on its lane by the gateway's own triage (:meth:`Triage.queue_classified`), so it runs
  exactly as a request classified at intake would.
- ``reroute``: the model's intent is kept and no correction is stored (there is nothing for the
  model to learn); the request is sent to a workflow chosen by the reviewer, by default the one its
  intent routes to. For a classification confirmed by a person (low confidence, a workflow a
  reviewer chooses by hand for an intent the routing table cannot place).
- ``cancel``: nothing will run; the reason is recorded.

Deciding about other people's requests is a person's decision, like an approval: the actions need
``approvals:write`` (``requests:write`` is what every submitting client holds). A request that is
not in review is a 409 naming its status; bad input is a 422 naming the field. The document lists
the intents, entity types and jobs that exist, so a body it calls valid names only those; what it
cannot say (a correction's words must occur in this request's text, a request whose intent routes
nowhere must be given a job) depends on the request, and is a 409 naming the field.

No ``from __future__ import annotations`` here: FastAPI must resolve the dependency annotations,
which name closures of ``build_router``, at definition time.
"""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from eas_pipelines.gateway.auth import require_scope
from eas_pipelines.gateway.context import GatewayContext
from eas_pipelines.gateway.presenters import request_out
from eas_pipelines.gateway.responses import AUTHENTICATED, documented
from eas_pipelines.gateway.routes.intake import invalid
from eas_pipelines.gateway.schemas import RequestId, RequestOut
from eas_pipelines.gateway.tokens import SCOPE_APPROVALS_WRITE, Principal
from eas_pipelines.gateway.triage import entity_priority
from eas_pipelines.observability import metrics as catalog
from eas_pipelines.routing import (
    JOBS,
    ROUTE_OF_JOB,
    ROUTES,
    Route,
    UnroutableIntent,
    raise_priority,
    route_for,
)
from eas_pipelines.store import (
    CorrectionRecord,
    CorrectionStore,
    IllegalTransition,
    Reclassification,
    RequestRecord,
    Status,
)
from nlp_service.enterprise.labels import ENTITY_TYPES

_TEXT = r"^[^\x00]*$"

# Enums, not free strings: the OpenAPI document then lists what is accepted (what the handler would
# refuse otherwise), and an unknown name is a 422 naming the field before anything is read.
RoutedIntent = StrEnum(  # type: ignore[misc]
    "RoutedIntent", {intent: intent for intent, route in ROUTES.items() if route.job is not None}
)
EntityType = StrEnum("EntityType", {name: name for name in ENTITY_TYPES})  # type: ignore[misc]
JobName = StrEnum("JobName", {job: job for job in JOBS})  # type: ignore[misc]


class EntityIn(BaseModel):
    """An entity the model should have found: its type and the words of the request that hold it."""

    model_config = ConfigDict(extra="forbid")

    type: EntityType = Field(description="One of the NLP service's entity types.")
    text: str = Field(min_length=1, max_length=500, pattern=_TEXT, description="As written in the request.")
    value: Any = Field(None, description="Normalised value, if the reviewer gives one.")


class ReclassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intent: RoutedIntent = Field(description="The intent the request really is (one with a workflow).")
    entities: list[EntityIn] | None = Field(
        None, max_length=50, description="The entities it holds; omitted: keep the model's."
    )
    reason: str | None = Field(None, max_length=1000, pattern=_TEXT)


class RerouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job: JobName | None = Field(None, description="Workflow to run; omitted: the one its intent routes to.")
    reason: str | None = Field(None, max_length=1000, pattern=_TEXT)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000, pattern=_TEXT)


class CorrectionOut(BaseModel):
    id: int
    model_intent: str | None
    corrected_intent: str
    corrected_entities: list[dict[str, Any]]
    reviewer: str


class ReviewOut(BaseModel):
    request: RequestOut
    correction: CorrectionOut | None = None


_ERRORS = documented(
    400, *AUTHENTICATED, 404, 409, e409="The request is not in needs_review (says which status it is in)."
)
_CORRECTION_ERRORS = documented(
    400,
    *AUTHENTICATED,
    404,
    409,
    e409="The request is not in needs_review (says which status it is in), or an entity's words "
    "do not occur in its text (says which entity).",
)
_REROUTE_ERRORS = documented(
    400,
    *AUTHENTICATED,
    404,
    409,
    e409="The request is not in needs_review (says which status it is in), or no job was named "
    "and its intent routes to no workflow.",
)


def _correction_out(record: CorrectionRecord) -> CorrectionOut:
    return CorrectionOut(
        id=record.id,
        model_intent=record.model_intent,
        corrected_intent=record.corrected_intent,
        corrected_entities=list(record.corrected_entities),
        reviewer=record.reviewer,
    )


def located_entities(text: str, entities: list[EntityIn]) -> list[dict[str, Any]]:
    """The entities with their span in ``text`` (start, end), as the NLP service reports them.

    A 409 naming the entity's field when its words are not in the text (the type is checked by
    the body's schema): a correction whose entity cannot be placed in the words would teach the
    model nothing. 409, not 422: the body is well formed; it does not fit this request.
    """
    placed: list[dict[str, Any]] = []
    lowered = text.lower()
    searched_from: dict[str, int] = {}
    for index, entity in enumerate(entities):
        needle = entity.text.lower()
        start = lowered.find(needle, searched_from.get(needle, 0))
        if start < 0:
            raise HTTPException(
                409,
                detail=f"entities[{index}].text: {entity.text!r} does not occur in the request's text",
            )
        searched_from[needle] = start + len(needle)
        end = start + len(entity.text)
        placed.append(
            {
                "type": entity.type.value,
                "text": text[start:end],
                "start": start,
                "end": end,
                "value": entity.value,
            }
        )
    return placed


def build_router(ctx: GatewayContext) -> APIRouter:
    router = APIRouter(prefix="/v1/review", tags=["review"])
    can_review = require_scope(ctx.authenticator, SCOPE_APPROVALS_WRITE)
    corrections = CorrectionStore(ctx.store)

    def in_review(request_id: str, request: Request) -> RequestRecord:
        record = ctx.store.get(request_id)  # RequestNotFound -> 404
        request.state.eas_request_id = record.id
        if record.status is not Status.NEEDS_REVIEW:
            raise HTTPException(409, detail=f"request {record.id} is {record.status}, not needs_review")
        return record

    def not_in_review(request_id: str) -> HTTPException:
        record = ctx.store.get(request_id)
        return HTTPException(409, detail=f"request {record.id} is {record.status}, not needs_review")

    def lane_and_priority(route: Route, entities: Any) -> tuple[str, int, bool]:
        lane, fell_back = ctx.triage.lanes.choose(route.lane)
        return str(lane), int(raise_priority(route, entity_priority(entities))), fell_back

    def queued(record: RequestRecord, fell_back: bool, actor: str) -> RequestOut:
        record = ctx.triage.queue_classified(record, fell_back=fell_back, actor=actor)
        return request_out(record, amount_thresholds=ctx.amount_thresholds)

    @router.post("/{request_id}/reclassify", response_model=ReviewOut, responses=_CORRECTION_ERRORS)
    def reclassify(
        request_id: RequestId,
        body: ReclassifyIn,
        request: Request,
        principal: Annotated[Principal, Depends(can_review)],
    ) -> ReviewOut:
        """Store the correction and run the request as the corrected intent (queued on its lane)."""
        record = in_review(request_id, request)
        try:
            route = route_for(body.intent, record.text)
        except UnroutableIntent:
            raise invalid(("body", "intent"), f"intent {body.intent!r} is not in the routing table") from None
        if route.job is None:
            raise invalid(
                ("body", "intent"), f"intent {body.intent!r} has no workflow yet; cancel the request instead"
            )
        entities = located_entities(record.text, body.entities) if body.entities is not None else None
        lane, priority, fell_back = lane_and_priority(
            route, entities if entities is not None else record.entities
        )
        actor = f"client:{principal.client_id}"
        try:
            correction, record = corrections.record(
                record.id,
                corrected_intent=body.intent.value,
                corrected_entities=entities,
                reviewer=actor,
                reclassify=Reclassification(route.agent, route.job, priority, lane),
            )
        except IllegalTransition:
            raise not_in_review(record.id) from None
        return ReviewOut(request=queued(record, fell_back, actor), correction=_correction_out(correction))

    @router.post("/{request_id}/reroute", response_model=ReviewOut, responses=_REROUTE_ERRORS)
    def reroute(
        request_id: RequestId,
        request: Request,
        principal: Annotated[Principal, Depends(can_review)],
        body: RerouteIn | None = None,
    ) -> ReviewOut:
        """Run the request, intent unchanged, by the chosen workflow (default: its intent's)."""
        body = body or RerouteIn()
        record = in_review(request_id, request)
        own = route_for(record.intent, record.text) if record.intent in ROUTES else None
        job = body.job.value if body.job is not None else (own.job if own else None)
        if job is None:
            raise HTTPException(
                409,
                detail=f"job: request {record.id}'s intent {record.intent!r} routes to no workflow; "
                "name the job, or reclassify the request",
            )
        route = own if own is not None and own.job == job else ROUTE_OF_JOB[job]
        lane, priority, fell_back = lane_and_priority(route, record.entities)
        actor = f"client:{principal.client_id}"
        reason = f"rerouted by {actor} to {job}" + (f": {body.reason}" if body.reason else "")
        try:
            record = ctx.store.transition(
                record.id,
                Status.CLASSIFIED,
                actor=actor,
                reason=reason,
                expected=Status.NEEDS_REVIEW,
                agent=route.agent,
                workflow=job,
                priority=priority,
                lane=lane,
            )
        except IllegalTransition:
            raise not_in_review(record.id) from None
        return ReviewOut(request=queued(record, fell_back, actor))

    @router.post("/{request_id}/cancel", response_model=ReviewOut, responses=_ERRORS)
    def cancel(
        request_id: RequestId,
        body: CancelIn,
        request: Request,
        principal: Annotated[Principal, Depends(can_review)],
    ) -> ReviewOut:
        """Cancel the request: nothing runs; the reason is in its history and the audit log."""
        record = in_review(request_id, request)
        try:
            record = ctx.store.transition(
                record.id,
                Status.CANCELLED,
                actor=f"client:{principal.client_id}",
                reason=f"cancelled in review: {body.reason}",
                expected=Status.NEEDS_REVIEW,
            )
        except IllegalTransition:
            raise not_in_review(record.id) from None
        catalog.count_request(record.agent, record.intent, catalog.CANCELLED)
        return ReviewOut(request=request_out(record, amount_thresholds=ctx.amount_thresholds))

    return router
