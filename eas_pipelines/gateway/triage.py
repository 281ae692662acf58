"""Classification and routing of a stored request: NLP, routing table, review rules, lane.

Shared by ``POST /v1/requests`` and the reconciler so that a request classified late (the NLP
service was down) takes exactly the path of one classified at once. The decision itself
(:func:`decide`) is a pure function of the NLP answer and the routing table; :class:`Triage`
applies it to the store and the fast-lane queue.

Order of writes, and why: the request is already stored (``received``). The classification and the
move to ``queued`` are committed before the fast-lane enqueue, so a worker never takes a request the
store does not yet show as queued. If the enqueue then fails (Redis), the request is queued in the
store but not in Redis; the reconciler re-enqueues such requests (the queue's per-attempt dedup
makes that safe). A request found ``classified`` but not ``queued`` (a crash between the two
commits) is queued by the reconciler too.

Conversations: a request that belongs to a conversation (see :mod:`.conversations`) is parsed with
its id, and the entities the NLP service inherited from earlier turns are stored with the request's
own (marked ``inherited``): routing, approval and the workflow see what the request is about, not
only the words of a follow-up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import redis

from eas_pipelines.gateway.lanes import LaneSelector, LazyFastQueue
from eas_pipelines.gateway.metrics import GatewayMetrics
from eas_pipelines.gateway.nlp_client import (
    Classification,
    ConversationBusy,
    NLPClient,
    NLPRejected,
    NLPUnavailable,
)
from eas_pipelines.lanes.fast_queue import DEFAULT_PREFIX
from eas_pipelines.observability import metrics as catalog
from eas_pipelines.routing import (
    ROUTES,
    ApprovalPolicy,
    Lane,
    Priority,
    Route,
    UnroutableIntent,
    raise_priority,
    route_for,
)
from eas_pipelines.settings import EASSettings
from eas_pipelines.store import IllegalTransition, RequestRecord, RequestStore, Status

logger = logging.getLogger(__name__)

ACTOR = "gateway"
PRIORITY_NAMES = {p.name: p for p in Priority}


class _Stored(Enum):
    """Default of :meth:`Triage.classify`'s ``conversation_id``: the one stored with the request.

    Not a string: any string is a valid conversation id, and None means "no conversation"."""

    CONVERSATION = "the conversation stored with the request"


STORED_CONVERSATION = _Stored.CONVERSATION


@dataclass(frozen=True)
class ApprovalInfo:
    policy: ApprovalPolicy
    approver_role: str | None
    expected: bool | None


@dataclass(frozen=True)
class Decision:
    """Where a classified request goes: ``review_reason`` set means a person, else ``route``."""

    route: Route | None
    priority: Priority | None
    review_reason: str | None
    approval: ApprovalInfo | None


@dataclass(frozen=True)
class Outcome:
    """What triage did with a request during this call."""

    record: RequestRecord
    review_reason: str | None = None
    approval: ApprovalInfo | None = None
    message: str | None = None
    fell_back: bool = False


def entity_priority(entities: Any) -> Priority | None:
    """The most urgent priority named by a ``priority`` entity of the text ("urgent" -> P0), if any."""
    found = [
        PRIORITY_NAMES[e["value"]]
        for e in entities or ()
        if isinstance(e, dict) and e.get("type") == "priority" and e.get("value") in PRIORITY_NAMES
    ]
    return min(found) if found else None


def _amount_of(entities: Any) -> float | None:
    for entity in entities or ():
        value = entity.get("value") if isinstance(entity, dict) else None
        if (
            entity.get("type") == "amount"
            and isinstance(value, dict)
            and isinstance(value.get("amount"), int | float)
        ):
            return float(value["amount"])
    return None


AmountThresholds = Mapping[str, float]
"""Amounts above which an ``AMOUNT_OVER_THRESHOLD`` route's workflow asks for approval, by the name of
the setting that holds each (a route's ``amount_threshold_setting``)."""


def amount_thresholds(settings: EASSettings) -> dict[str, float]:
    """The value of every threshold setting a route names, read from ``settings``.

    Each route says which setting its workflow compares amounts with (expense claims have their
    own, far lower than invoices'), so the gateway's "approval expected" agrees with the workflow.
    A route naming a setting that does not exist fails here, when the gateway starts.
    """
    names = {route.amount_threshold_setting for route in ROUTES.values()}
    return {name: float(getattr(settings, name)) for name in sorted(names)}


def approval_info(route: Route, entities: Any, thresholds: AmountThresholds) -> ApprovalInfo:
    """The route's approval policy and whether, from the entities, the workflow is expected to ask.

    Informational: the workflow's own approval step decides, with the threshold the route names
    (``thresholds[route.amount_threshold_setting]``). A sensitive-system policy is reported as
    unknown (``None``) because the sensitive list belongs to the security workflow.
    """
    expected: bool | None
    if route.approval is ApprovalPolicy.NEVER:
        expected = False
    elif route.approval is ApprovalPolicy.MANAGER:
        expected = True
    elif route.approval is ApprovalPolicy.AMOUNT_OVER_THRESHOLD:
        amount = _amount_of(entities)
        expected = None if amount is None else amount > thresholds[route.amount_threshold_setting]
    else:
        expected = None
    return ApprovalInfo(route.approval, route.approver_role, expected)


def decide(
    result: Classification,
    min_confidence: float,
    amount_thresholds: AmountThresholds,
    priority_hint: Priority | None = None,
    text: str | None = None,
) -> Decision:
    """Route an NLP answer, or say why a person must look at it instead (never a guess).

    Inherited entities count like the text's own: "same for Bob, urgent" after a P0 request
    stays P0, and an amount carried over decides the approval as it would have in the first turn.
    """
    entities = [e.to_dict() for e in result.all_entities]
    if result.out_of_scope:
        return Decision(
            None, None, f"out of scope (model said {result.intent} at {result.confidence:.2f})", None
        )
    if result.confidence < min_confidence:
        return Decision(
            None,
            None,
            f"low confidence: {result.intent} at {result.confidence:.2f} < {min_confidence:.2f}",
            None,
        )
    try:
        route = route_for(result.intent, text)  # with the text: a file of items has its bulk route
    except UnroutableIntent as exc:
        return Decision(None, None, str(exc), None)
    requested = [p for p in (entity_priority(entities), priority_hint) if p is not None]
    priority = raise_priority(route, min(requested) if requested else None)
    approval = approval_info(route, entities, amount_thresholds)
    if route.job is None:
        reason = f"agent {route.agent!r} has no workflow for intent {route.intent!r} yet"
        return Decision(route, priority, reason, approval)
    return Decision(route, priority, None, approval)


class Triage:
    """Applies :func:`decide` to stored requests: store transitions and fast-lane enqueues."""

    def __init__(
        self,
        store: RequestStore,
        nlp: NLPClient,
        lanes: LaneSelector,
        queue: LazyFastQueue,
        metrics: GatewayMetrics,
        *,
        min_confidence: float,
        amount_thresholds: AmountThresholds,
    ) -> None:
        self.store = store
        self.nlp = nlp
        self.lanes = lanes
        self.queue = queue
        self.metrics = metrics
        self.min_confidence = min_confidence
        self.amount_thresholds = amount_thresholds

    @classmethod
    def build(
        cls,
        store: RequestStore,
        nlp: NLPClient,
        redis_client: redis.Redis,
        settings: EASSettings,
        *,
        metrics: GatewayMetrics,
        queue_prefix: str = DEFAULT_PREFIX,
    ) -> Triage:
        """A triage configured from the settings, on ``redis_client`` (fast-lane queue and heartbeats)."""
        return cls(
            store,
            nlp,
            LaneSelector(redis_client, settings.fast_lane_fallback_seconds, prefix=queue_prefix),
            LazyFastQueue(redis_client, queue_prefix),
            metrics,
            min_confidence=settings.min_confidence,
            amount_thresholds=amount_thresholds(settings),
        )

    def classify(
        self,
        record: RequestRecord,
        *,
        priority_hint: Priority | None = None,
        request_id: str | None = None,
        actor: str = ACTOR,
        conversation_id: str | _Stored | None = STORED_CONVERSATION,
    ) -> Outcome:
        """Classify a ``received`` request and queue it or send it to review.

        ``conversation_id``: the conversation to parse the text in, None for none; by default the one
        stored with the request at submit (the reconciler classifies late requests that way).

        Returns the request unchanged (still ``received``, with a message) when no NLP replica
        answered: it is stored, and the reconciler classifies it later.
        """
        if isinstance(conversation_id, _Stored):
            conversation_id = record.conversation_id
        try:
            result = self.nlp.parse(record.text, request_id=request_id, conversation_id=conversation_id)
        except ConversationBusy as exc:
            self.metrics.classification_failures.labels("conversation_busy").inc()
            logger.warning(
                "request %s left received: %s", record.id, exc, extra={"eas_request_id": record.id}
            )
            return Outcome(
                record,
                message="accepted and stored; its conversation was busy with other turns, so the "
                "request will be classified shortly",
            )
        except NLPUnavailable as exc:
            self.metrics.classification_failures.labels("nlp_unavailable").inc()
            logger.warning(
                "request %s left received: %s", record.id, exc, extra={"eas_request_id": record.id}
            )
            return Outcome(
                record,
                message="accepted and stored; the NLP service is unavailable, so the request will be "
                "classified when it is back",
            )
        except NLPRejected as exc:
            self.metrics.classification_failures.labels("nlp_rejected").inc()
            return self._to_review(
                record, None, f"the NLP service could not read the text: {exc.detail}", actor
            )

        decision = decide(
            result, self.min_confidence, self.amount_thresholds, priority_hint, text=record.text
        )
        if decision.review_reason is not None:
            if (
                decision.route is None
                and not result.out_of_scope
                and result.confidence >= self.min_confidence
            ):
                self.metrics.classification_failures.labels("unroutable").inc()
            return self._to_review(record, result, decision.review_reason, actor, decision)

        assert decision.route is not None and decision.priority is not None
        lane, fell_back = self.lanes.choose(decision.route.lane)
        if fell_back:
            self.metrics.lane_fallbacks.inc()
        try:
            classified = self.store.classify(
                record.id,
                intent=result.intent,
                confidence=result.confidence,
                entities=[e.to_dict() for e in result.all_entities],
                agent=decision.route.agent,
                workflow=decision.route.job,
                priority=decision.priority,
                lane=lane,
                model_version=result.model_version,
                needs_review=False,
                actor=actor,
                reason=f"{result.intent} at {result.confidence:.2f} by {result.model_version}",
            )
        except IllegalTransition:
            return self._raced(record)
        queued = self.queue_classified(classified, fell_back=fell_back, actor=actor)
        return Outcome(queued, approval=decision.approval, fell_back=fell_back)

    def queue_classified(
        self, record: RequestRecord, *, fell_back: bool = False, actor: str = ACTOR
    ) -> RequestRecord:
        """``classified -> queued``, then the fast-lane enqueue when its lane is fast."""
        reason = "no live fast-lane worker: standard lane" if fell_back else f"{record.lane} lane"
        try:
            queued = self.store.transition(
                record.id, Status.QUEUED, actor=actor, reason=reason, expected=Status.CLASSIFIED
            )
        except IllegalTransition:
            return self.store.get(record.id)
        self.metrics.accepted.labels("queued", str(queued.lane), _priority_name(queued.priority)).inc()
        catalog.count_request(queued.agent, queued.intent, catalog.QUEUED)
        if queued.lane == Lane.FAST:
            self.enqueue_fast(queued)
        return queued

    def enqueue_fast(self, record: RequestRecord) -> bool:
        """Put a queued fast-lane request on its Redis stream; False (logged) when Redis refused."""
        try:
            self.queue.get().enqueue(
                record.id,
                int(record.effective_priority),
                attempt=0,
                # The worker's run continues the request's trace from the entry itself.
                traceparent=(record.trace_context or {}).get("traceparent"),
            )
        except redis.RedisError as exc:
            self.metrics.enqueue_failures.inc()
            logger.error(
                "request %s queued but not on the fast lane yet (Redis: %s); the reconciler will retry",
                record.id,
                exc,
                extra={"eas_request_id": record.id},
            )
            return False
        return True

    def _to_review(
        self,
        record: RequestRecord,
        result: Classification | None,
        reason: str,
        actor: str,
        decision: Decision | None = None,
    ) -> Outcome:
        route = decision.route if decision else None
        try:
            updated = self.store.classify(
                record.id,
                intent=result.intent if result else None,
                confidence=result.confidence if result else None,
                entities=[e.to_dict() for e in result.all_entities] if result else None,
                agent=route.agent if route else None,
                workflow=route.job if route else None,
                priority=decision.priority if decision else None,
                lane=None,
                model_version=result.model_version if result else None,
                needs_review=True,
                actor=actor,
                reason=reason,
            )
        except IllegalTransition:
            return self._raced(record)
        self.metrics.accepted.labels("needs_review", "none", _priority_name(updated.priority)).inc()
        catalog.count_request(updated.agent, updated.intent, catalog.NEEDS_REVIEW)
        return Outcome(updated, review_reason=reason, approval=decision.approval if decision else None)

    def _raced(self, record: RequestRecord) -> Outcome:
        """Someone else (the reconciler, a concurrent retry of the same key) classified it first."""
        return Outcome(self.store.get(record.id), message="classified concurrently by another call")


def _priority_name(priority: Priority | int | None) -> str:
    return "none" if priority is None else Priority(int(priority)).name
