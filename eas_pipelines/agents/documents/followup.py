"""A request one workflow makes for another: stored, routed and queued as the gateway queues one.

The gateway's own path (``eas_pipelines.gateway.triage``) starts from the NLP service's answer; a
request derived from a document has no such answer to wait for: its intent and entities are known.
So the same lower-layer steps are taken here, in the gateway's order (see that module for why):
``RequestStore.submit`` (``received``), ``RequestStore.classify`` with the routing table's agent,
job, priority and lane (``classified``), the move to ``queued``, then, for the fast lane, the Redis
enqueue (:class:`~eas_pipelines.resources.FastLaneResource`). The lane falls back to the standard
lane when no fast-lane worker is alive, as the gateway's does, and an intent whose agent has no
workflow goes to ``needs_review``.

Idempotent: the request is submitted under the deriving request's client and an idempotency key of
the deriving step, so a retried step finds the request it made and only finishes what is left (the
queueing, an enqueue deduplicated per request and attempt by the queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eas_pipelines.resources import FastLaneResource
from eas_pipelines.routing import Lane, raise_priority, route_for
from eas_pipelines.store import IllegalTransition, RequestRecord, RequestStore, Status

MODEL_VERSION = "derived"
"""Stored as the classifying model's version: no model classified it, a workflow made it."""


@dataclass(frozen=True)
class Derived:
    """The request made, and where it went."""

    record: RequestRecord
    created: bool
    fell_back: bool  # routed to the fast lane, sent to the standard lane: no live worker


def queue_derived(
    store: RequestStore,
    fast_lane: FastLaneResource,
    *,
    client_id: str,
    idempotency_key: str,
    text: str,
    intent: str,
    entities: list[dict[str, Any]],
    actor: str,
    reason: str,
) -> Derived:
    """Store and queue a request for ``intent`` (or send it to review when no workflow serves it)."""
    route = route_for(intent)
    record, created = store.submit(client_id, idempotency_key, text, actor=actor)
    fell_back = False
    if record.status is Status.RECEIVED:
        lane = route.lane
        if lane is Lane.FAST and not fast_lane.live_workers():
            lane, fell_back = Lane.STANDARD, True
        no_job = route.job is None
        try:
            record = store.classify(
                record.id,
                intent=intent,
                confidence=1.0,
                entities=entities,
                agent=route.agent,
                workflow=route.job,
                priority=raise_priority(route, None),
                lane=None if no_job else lane,
                model_version=MODEL_VERSION,
                needs_review=no_job,
                actor=actor,
                reason=f"agent {route.agent!r} has no workflow for {intent!r} yet" if no_job else reason,
            )
        except IllegalTransition:  # a concurrent retry classified it first
            record = store.get(record.id)
    if record.status is Status.CLASSIFIED:
        why = "no live fast-lane worker: standard lane" if fell_back else f"{record.lane} lane"
        try:
            record = store.transition(
                record.id, Status.QUEUED, actor=actor, reason=why, expected=Status.CLASSIFIED
            )
        except IllegalTransition:
            record = store.get(record.id)
    if record.status is Status.QUEUED and record.lane == Lane.FAST:
        fast_lane.enqueue(record.id, int(record.effective_priority), attempt=0)
    return Derived(record, created, fell_back)
