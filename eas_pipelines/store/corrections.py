"""Reviewers' corrections of classifications: stored as training data, and applied to the request.

A correction says "the model read this text as X; it is Y" (with the entities it should have found).
It is the learning loop's raw material (:mod:`eas_pipelines.agents.learning` builds the training set
from it), so each row copies the text and the model's intent: it stays a complete example after the
request itself is deleted by retention (``request_id`` then becomes NULL).

:meth:`CorrectionStore.record` keeps the store's rule "one method, one transaction": the correction,
its audit entry and, when the reviewer reclassifies a request in review, the request's move to
``classified`` with its new route commit together. Queuing it on its lane is the gateway's triage
(:meth:`eas_pipelines.gateway.triage.Triage.queue_classified`), the same path a request classified
at intake takes.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func, select
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from eas_pipelines.store.db import make_sessionmaker
from eas_pipelines.store.models import TZ, Base
from eas_pipelines.store.records import RequestRecord
from eas_pipelines.store.repository import RequestStore
from eas_pipelines.store.states import Status

Source = Literal["review", "feedback"]
SOURCES: frozenset[str] = frozenset({"review", "feedback"})
AUDIT_ACTION = "classification.corrected"


class ClassificationCorrection(Base):
    """One correction (migration 0005). Not updated after it is written: a new one supersedes it."""

    __tablename__ = "classification_corrections"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("requests.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    model_intent: Mapped[str | None] = mapped_column(String(255))
    corrected_intent: Mapped[str] = mapped_column(String(255))
    corrected_entities: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sql("'[]'::jsonb"))
    reviewer: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32), server_default="review")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=sql("now()"))

    __table_args__ = (
        CheckConstraint("jsonb_typeof(corrected_entities) = 'array'", name="entities_array"),
        CheckConstraint("source IN ('review', 'feedback')", name="source"),
        Index(None, "request_id", "id"),
        Index(None, "created_at"),
    )
    __mapper_args__ = {"eager_defaults": True}


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    """A correction as stored."""

    id: int
    request_id: str | None
    text: str
    model_intent: str | None
    corrected_intent: str
    corrected_entities: tuple[dict[str, Any], ...]
    reviewer: str
    source: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: ClassificationCorrection) -> CorrectionRecord:
        return cls(
            id=row.id,
            request_id=row.request_id,
            text=row.text,
            model_intent=row.model_intent,
            corrected_intent=row.corrected_intent,
            corrected_entities=tuple(dict(e) for e in row.corrected_entities or ()),
            reviewer=row.reviewer,
            source=row.source,
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class Reclassification:
    """The route a reclassified request gets (from the routing table), applied with the correction."""

    agent: str
    workflow: str
    priority: int
    lane: str


def _entities(value: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    entities = [dict(e) for e in value or ()]
    for index, entity in enumerate(entities):
        if not isinstance(entity.get("type"), str) or not entity["type"]:
            raise ValueError(f"corrected_entities[{index}] has no type")
    return entities


class CorrectionStore:
    """Corrections over the request store's engine; thread-safe like :class:`RequestStore`."""

    def __init__(self, store: RequestStore) -> None:
        self.store = store
        self._sessions = make_sessionmaker(store.engine)

    def record(
        self,
        request_id: str,
        *,
        corrected_intent: str,
        reviewer: str,
        corrected_entities: Iterable[Mapping[str, Any]] | None = None,
        source: Source = "review",
        reclassify: Reclassification | None = None,
    ) -> tuple[CorrectionRecord, RequestRecord]:
        """Store a correction of ``request_id``'s classification, and reclassify it if asked.

        ``corrected_entities`` None keeps the request's own entities (the reviewer corrected only the
        intent). With ``reclassify``, the request must be ``needs_review``; it moves to ``classified``
        with the corrected intent and entities and the given route, in the same transaction (a
        :class:`~eas_pipelines.store.StaleTransition` otherwise, and nothing is stored).
        """
        if not corrected_intent:
            raise ValueError("corrected_intent must not be empty")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {sorted(SOURCES)}, got {source!r}")
        with self._sessions() as session, session.begin():
            row, now = RequestStore._lock(session, request_id)
            entities = (
                _entities(corrected_entities)
                if corrected_entities is not None
                else [dict(e) for e in row.entities or () if isinstance(e, dict)]
            )
            correction = ClassificationCorrection(
                request_id=row.id,
                text=row.text,
                model_intent=row.intent,
                corrected_intent=corrected_intent,
                corrected_entities=entities,
                reviewer=reviewer,
                source=source,
            )
            session.add(correction)
            session.flush()
            RequestStore._audit(
                session,
                row.id,
                reviewer,
                AUDIT_ACTION,
                {
                    "correction_id": correction.id,
                    "model_intent": row.intent,
                    "corrected_intent": corrected_intent,
                    "entity_types": sorted({e["type"] for e in entities}),
                    "source": source,
                },
                at=now,
            )
            if reclassify is not None:
                self.store._apply(
                    session,
                    row,
                    now,
                    Status.CLASSIFIED,
                    actor=reviewer,
                    reason=f"reclassified by {reviewer}: {row.intent} -> {corrected_intent}",
                    expected=Status.NEEDS_REVIEW,
                    updates={
                        "intent": corrected_intent,
                        "confidence": None,
                        "entities": entities,
                        "agent": reclassify.agent,
                        "workflow": reclassify.workflow,
                        "priority": int(reclassify.priority),
                        "lane": str(reclassify.lane),
                    },
                )
            return CorrectionRecord.from_row(correction), RequestRecord.from_row(row)

    def list(
        self, *, after_id: int | None = None, request_id: str | None = None, limit: int = 1000
    ) -> builtins.list[CorrectionRecord]:
        """Corrections oldest first, after ``after_id`` (a cursor), optionally of one request."""
        if not 1 <= limit <= 100_000:
            raise ValueError(f"limit must be between 1 and 100000, got {limit}")
        query = select(ClassificationCorrection)
        if after_id is not None:
            query = query.where(ClassificationCorrection.id > after_id)
        if request_id is not None:
            query = query.where(ClassificationCorrection.request_id == request_id)
        query = query.order_by(ClassificationCorrection.id).limit(limit)
        with self._sessions() as session, session.begin():
            return [CorrectionRecord.from_row(row) for row in session.scalars(query)]

    def latest(self) -> builtins.list[CorrectionRecord]:
        """The training view: per request the newest correction (rows whose request was deleted all
        count, each on its own), oldest first so the order is stable between reads."""
        newest = (
            select(func.max(ClassificationCorrection.id))
            .where(ClassificationCorrection.request_id.is_not(None))
            .group_by(ClassificationCorrection.request_id)
        )
        query = (
            select(ClassificationCorrection)
            .where(ClassificationCorrection.id.in_(newest) | ClassificationCorrection.request_id.is_(None))
            .order_by(ClassificationCorrection.id)
        )
        with self._sessions() as session, session.begin():
            return [CorrectionRecord.from_row(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._sessions() as session, session.begin():
            return int(session.scalar(select(func.count()).select_from(ClassificationCorrection)) or 0)
