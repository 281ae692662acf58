"""The request store: every read and write of requests, their history, approvals and the audit log.

Rules every method keeps, so that callers in any process can rely on them:

- one method, one transaction: a status change, its ``request_transitions`` row and its ``audit_log``
  row commit together or not at all;
- status changes lock the request row (``SELECT ... FOR UPDATE``) and check the state machine under the
  lock; ``expected=`` turns a change into a compare-and-set, which is how two workers holding the same
  request (at-least-once delivery, reclaims) are kept from both running or both completing it;
- timestamps come from the database clock (``clock_timestamp()`` read after the lock is taken), so pods
  with skewed clocks agree and a request's history is in lock order;
- results are frozen records (:mod:`eas_pipelines.store.records`), never live ORM objects.

The store is thread-safe: it holds only an engine and a session factory, and opens a session per call.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eas_pipelines.pii import mask_value
from eas_pipelines.store.authority import Authority, decision_authority, principal_name
from eas_pipelines.store.chain import ChainReport, verify_chain
from eas_pipelines.store.db import make_engine, make_sessionmaker
from eas_pipelines.store.errors import (
    ApprovalAlreadyDecided,
    ApprovalError,
    ApprovalForbidden,
    ApprovalNotFound,
    RequestNotFound,
)
from eas_pipelines.store.models import (
    Approval,
    ApprovalDelegation,
    ApproverRole,
    AuditLog,
    Request,
    RequestTransition,
)
from eas_pipelines.store.records import (
    ApprovalRecord,
    AuditEntry,
    Decision,
    DelegationRecord,
    RequestRecord,
    Transition,
)
from eas_pipelines.store.states import (
    IllegalTransition,
    Lane,
    Priority,
    StaleTransition,
    Status,
    is_legal,
)

MAX_PAGE = 1000
MAX_ERROR_CHARS = 16_000
"""``last_error`` is cut to this: a connector's traceback can be megabytes, the row should not be."""

# Fields transition() may set, with the function that validates/normalises each value.
_FIELD_TYPES: dict[str, Any] = {
    "intent": str,
    "confidence": float,
    "entities": None,  # any JSON value
    "agent": str,
    "workflow": str,
    "priority": lambda v: int(Priority(v)),
    "lane": lambda v: Lane(v).value,
    "last_error": str,
    "nlp_model_version": str,
}

# Field values that never go into the audit log: entities hold the request's personal data.
_NOT_AUDITED = frozenset({"entities"})

_TIMESTAMP_ON_ENTRY: dict[Status, str] = {
    Status.CLASSIFIED: "classified_at",
    Status.NEEDS_REVIEW: "classified_at",
    Status.QUEUED: "queued_at",
    Status.RUNNING: "started_at",
    Status.SUCCEEDED: "finished_at",
    Status.FAILED: "finished_at",
    Status.REJECTED: "finished_at",
    Status.CANCELLED: "finished_at",
}

_PENDING = "pending"
_DECISIONS: frozenset[str] = frozenset({Status.APPROVED.value, Status.REJECTED.value})


def _aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: PostgreSQL would read them in the session's time zone, silently."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit


def _statuses(value: Status | str | Iterable[Status | str]) -> frozenset[Status]:
    if isinstance(value, str):  # Status is a str too
        return frozenset({Status(value)})
    return frozenset(Status(v) for v in value)


def _normalize_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(_FIELD_TYPES))
    if unknown:
        raise TypeError(f"transition() got unexpected field(s): {', '.join(unknown)}")
    normalized: dict[str, Any] = {}
    for name, value in fields.items():
        convert = _FIELD_TYPES[name]
        normalized[name] = value if value is None or convert is None else convert(value)
    confidence = normalized.get("confidence")
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    error = normalized.get("last_error")
    if error is not None and len(error) > MAX_ERROR_CHARS:
        normalized["last_error"] = error[:MAX_ERROR_CHARS] + "\n[truncated]"
    return normalized


class RequestStore:
    """Requests, their state machine, approvals and the audit log, over a PostgreSQL engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    @classmethod
    def from_url(cls, database_url: str, **engine_options: Any) -> RequestStore:
        """A store with its own engine (see :func:`~eas_pipelines.store.db.make_engine` for options)."""
        return cls(make_engine(database_url, **engine_options))

    def close(self) -> None:
        """Close the engine's pooled connections (for an engine this store owns)."""
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ intake

    def submit(
        self,
        client_id: str,
        idempotency_key: str,
        text: str,
        *,
        actor: str | None = None,
        request_id: str | None = None,
        conversation_id: str | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> tuple[RequestRecord, bool]:
        """Store a new request in ``received``, or return the one this client already sent with this key.

        Returns ``(record, created)``. ``INSERT ... ON CONFLICT DO NOTHING`` makes concurrent submits of
        the same key safe: the losers wait for the winner's commit and then read its row, so every caller
        gets the same request id. The stored text wins over a different ``text`` sent with a reused key;
        callers that want to reject such reuse compare ``record.text``.

        ``conversation_id``: the conversation the request belongs to, stored in the same row (so a
        retry of the key, and the reconciler classifying it later, read the same one back); like
        the text, the first submit's wins over a retry's.

        ``trace_context``: the W3C carrier of the trace the request was submitted in (the gateway's
        request span); its runs continue that trace. The first submit's wins, like the text.
        """
        actor = actor or f"client:{client_id}"
        new_id = request_id or str(uuid.uuid4())
        detail: dict[str, Any] = {"client_id": client_id, "idempotency_key": idempotency_key}
        if conversation_id is not None:
            detail["conversation_id"] = conversation_id
        statement = (
            insert(Request)
            .values(
                id=new_id,
                client_id=client_id,
                idempotency_key=idempotency_key,
                text=text,
                conversation_id=conversation_id,
                trace_context=dict(trace_context) if trace_context else None,
                status=Status.RECEIVED.value,
                # now(): the transaction's start, so created_at == updated_at exactly.
                created_at=func.now(),
                updated_at=func.now(),
            )
            .on_conflict_do_nothing(index_elements=["client_id", "idempotency_key"])
            .returning(Request)
        )
        # Three tries: the conflicting row can vanish between the INSERT and the SELECT only if it was
        # deleted in that instant; a retry then inserts ours.
        for _ in range(3):
            with self._tx() as session:
                row = session.scalars(statement, execution_options={"populate_existing": True}).first()
                if row is not None:
                    self._record_change(
                        session,
                        row,
                        from_status=None,
                        actor=actor,
                        reason=None,
                        at=row.created_at,
                        detail=detail,
                    )
                    return RequestRecord.from_row(row), True
                existing = session.scalars(
                    select(Request).where(
                        Request.client_id == client_id, Request.idempotency_key == idempotency_key
                    )
                ).first()
                if existing is not None:
                    return RequestRecord.from_row(existing), False
        raise RuntimeError(f"could not store or find request ({client_id!r}, {idempotency_key!r})")

    # ------------------------------------------------------------------ reads

    def get(self, request_id: str) -> RequestRecord:
        """The request, or :class:`RequestNotFound`."""
        with self._tx() as session:
            row = session.get(Request, request_id)
            if row is None:
                raise RequestNotFound(request_id)
            return RequestRecord.from_row(row)

    def list(
        self,
        status: Status | str | Iterable[Status | str] | None = None,
        agent: str | None = None,
        limit: int = 100,
        before: str | None = None,
        *,
        client_id: str | None = None,
    ) -> builtins.list[RequestRecord]:
        """Requests newest first, optionally filtered by status(es), agent and client.

        Keyset pagination: pass the id of the last request of the previous page as ``before``. Unlike
        an offset, the next page neither skips nor repeats rows when new requests arrive meanwhile.
        """
        query = select(Request)
        if status is not None:
            query = query.where(Request.status.in_([s.value for s in _statuses(status)]))
        if agent is not None:
            query = query.where(Request.agent == agent)
        if client_id is not None:
            query = query.where(Request.client_id == client_id)
        with self._tx() as session:
            if before is not None:
                anchor = session.execute(
                    select(Request.created_at, Request.id).where(Request.id == before)
                ).first()
                if anchor is None:
                    raise RequestNotFound(before)
                query = query.where(tuple_(Request.created_at, Request.id) < tuple_(*anchor))
            query = query.order_by(Request.created_at.desc(), Request.id.desc()).limit(_limit(limit))
            return [RequestRecord.from_row(row) for row in session.scalars(query)]

    def pending_classification(
        self, limit: int = 100, older_than: timedelta = timedelta(seconds=30)
    ) -> builtins.list[RequestRecord]:
        """Requests still ``received`` after ``older_than``: the NLP service was down or slow.

        The reconciler classifies them again; :meth:`classify` only moves a request out of ``received``
        once, so the reconciler racing a late gateway call is harmless.
        """
        query = (
            select(Request)
            .where(
                Request.status == Status.RECEIVED.value,
                Request.updated_at < func.clock_timestamp() - older_than,
            )
            .order_by(Request.updated_at, Request.id)
            .limit(_limit(limit))
        )
        with self._tx() as session:
            return [RequestRecord.from_row(row) for row in session.scalars(query)]

    def queued_for_lane(
        self, lane: Lane | str, after: tuple[datetime, str] | None = None, limit: int = 100
    ) -> builtins.list[RequestRecord]:
        """Queued requests of ``lane`` in ``(queued_at, id)`` order, strictly after the cursor ``after``.

        Made for a cursor-based sensor: keep ``records[-1].cursor`` and pass it back next tick. A request
        re-queued (retry, approval) gets a new ``queued_at`` and so comes after the cursor again.

        Caveat for the sensor: ``queued_at`` is taken before its transaction commits, so a request whose
        commit is a few milliseconds late can land just before a cursor already advanced past it. Either
        advance the cursor only over rows older than a short settle time (a second is plenty) or
        re-read a small overlap and rely on ``run_key`` to drop duplicates.
        """
        query = select(Request).where(Request.status == Status.QUEUED.value, Request.lane == Lane(lane).value)
        if after is not None:
            after_at, after_id = after
            query = query.where(
                tuple_(Request.queued_at, Request.id) > tuple_(_aware(after_at, "after[0]"), after_id)
            )
        query = query.order_by(Request.queued_at, Request.id).limit(_limit(limit))
        with self._tx() as session:
            return [RequestRecord.from_row(row) for row in session.scalars(query)]

    def stale_running(
        self, older_than: timedelta, limit: int = 100, after: tuple[datetime, str] | None = None
    ) -> builtins.list[RequestRecord]:
        """Requests ``running`` with no change for ``older_than``: candidates for reclaim or failure.

        In ``(updated_at, id)`` order, strictly after ``after`` (the last record's
        ``(updated_at, id)``): long runs under live owners stay at the head of this list for as long
        as they run, so a caller looking for stranded requests behind them must be able to page on.
        """
        query = select(Request).where(
            Request.status == Status.RUNNING.value,
            Request.updated_at < func.clock_timestamp() - older_than,
        )
        if after is not None:
            after_at, after_id = after
            query = query.where(
                tuple_(Request.updated_at, Request.id) > tuple_(_aware(after_at, "after[0]"), after_id)
            )
        query = query.order_by(Request.updated_at, Request.id).limit(_limit(limit))
        with self._tx() as session:
            return [RequestRecord.from_row(row) for row in session.scalars(query)]

    def seconds_until_stale(self, older_than: timedelta) -> float | None:
        """Seconds until the next ``running`` request not yet stale becomes :meth:`stale_running`.

        None when no running request is younger than ``older_than``. Lets a recovery pass that
        found nothing to judge yet come back exactly when there will be (a request left running
        by a worker killed moments before a restart), instead of a whole period later.
        """
        age = func.extract("epoch", func.clock_timestamp() - Request.updated_at)
        query = select(func.min(older_than.total_seconds() - age)).where(
            Request.status == Status.RUNNING.value,
            Request.updated_at >= func.clock_timestamp() - older_than,
        )
        with self._tx() as session:
            due = session.scalar(query)
        return max(0.0, float(due)) if due is not None else None

    def count_by_status(self) -> dict[Status, int]:
        """How many requests are in each status; every status is present (0 included), for gauges."""
        counts = dict.fromkeys(Status, 0)
        with self._tx() as session:
            for status, count in session.execute(
                select(Request.status, func.count()).group_by(Request.status)
            ):
                counts[Status(status)] = count
        return counts

    def history(self, request_id: str) -> builtins.list[Transition]:
        """The request's status changes, oldest first (the first is ``None -> received``)."""
        with self._tx() as session:
            rows = session.scalars(
                select(RequestTransition)
                .where(RequestTransition.request_id == request_id)
                .order_by(RequestTransition.id)
            ).all()
            if not rows and session.get(Request, request_id) is None:
                raise RequestNotFound(request_id)
            return [Transition.from_row(row) for row in rows]

    # ------------------------------------------------------------------ state machine

    def transition(
        self,
        request_id: str,
        to: Status | str,
        *,
        actor: str,
        reason: str | None = None,
        expected: Status | str | Iterable[Status | str] | None = None,
        run_id: str | None = None,
        attempt: bool = False,
        **fields: Any,
    ) -> RequestRecord:
        """Move the request to ``to`` and update ``fields``, atomically with its history and audit rows.

        ``expected``: the status(es) the caller believes the request is in; if it is elsewhere, nothing
        changes and :class:`StaleTransition` is raised (compare-and-set). Without it, any legal
        transition from the current status is applied. Illegal transitions raise
        :class:`IllegalTransition`. ``fields`` may be intent, confidence, entities, agent, workflow,
        priority, lane, last_error, nlp_model_version (``None`` clears one); ``run_id`` appends a Dagster
        run id to ``run_ids`` (once); ``attempt=True`` increments ``attempts``.
        """
        target = Status(to)
        updates = _normalize_fields(fields)
        with self._tx() as session:
            row, now = self._lock(session, request_id)
            self._apply(
                session,
                row,
                now,
                target,
                actor=actor,
                reason=reason,
                expected=expected,
                updates=updates,
                run_id=run_id,
                attempt=attempt,
            )
            return RequestRecord.from_row(row)

    def classify(
        self,
        request_id: str,
        *,
        intent: str | None,
        confidence: float | None,
        entities: Any,
        agent: str | None,
        workflow: str | None,
        priority: Priority | int | None,
        lane: Lane | str | None,
        model_version: str | None,
        needs_review: bool,
        actor: str = "nlp",
        reason: str | None = None,
        expected: Status | str | Iterable[Status | str] | None = Status.RECEIVED,
    ) -> RequestRecord:
        """Record the NLP result and routing: to ``needs_review`` if asked, else to ``classified``.

        ``expected`` defaults to ``received`` so that a request is classified once even when the gateway
        and the reconciler both get an answer; pass another set (or None) to re-classify deliberately.
        """
        return self.transition(
            request_id,
            Status.NEEDS_REVIEW if needs_review else Status.CLASSIFIED,
            actor=actor,
            reason=reason,
            expected=expected,
            intent=intent,
            confidence=confidence,
            entities=entities,
            agent=agent,
            workflow=workflow,
            priority=priority,
            lane=lane,
            nlp_model_version=model_version,
        )

    # ------------------------------------------------------------------ approvals

    def request_approval(
        self,
        request_id: str,
        approver: str,
        deadline: datetime,
        actor: str,
        *,
        reason: str | None = None,
        stage: int = 1,
    ) -> ApprovalRecord:
        """Move the request ``running -> awaiting_approval`` and open its approval, in one transaction.

        The run that asks for approval then ends: nothing stays running while a person decides.
        ``stage`` is the approval's level (2: the second approver role after the first approved).
        """
        if stage < 1:
            raise ValueError(f"stage must be 1 or more, got {stage}")
        deadline = _aware(deadline, "deadline")
        with self._tx() as session:
            row, now = self._lock(session, request_id)
            self._apply(
                session,
                row,
                now,
                Status.AWAITING_APPROVAL,
                actor=actor,
                reason=reason,
                expected=Status.RUNNING,
            )
            approval = Approval(
                request_id=request_id, approver=approver, deadline=deadline, created_at=now, stage=stage
            )
            session.add(approval)
            session.flush()
            self._audit(
                session,
                request_id,
                actor,
                "approval.requested",
                {
                    "approval_id": approval.id,
                    "approver": approver,
                    "deadline": deadline.isoformat(),
                    "stage": stage,
                },
                at=now,
            )
            return ApprovalRecord.from_row(approval)

    def decide(
        self,
        request_id: str,
        decision: Decision | Status,
        decided_by: str,
        reason: str | None = None,
        *,
        approval_id: int | None = None,
        principal: str | None = None,
        route_role: str | None = None,
    ) -> ApprovalRecord:
        """Decide the request's pending approval and move the request to approved or rejected, atomically.

        A second decision raises :class:`ApprovalAlreadyDecided` (naming who decided and when), whichever
        way it goes. ``approval_id``, when given (a Slack button carries it), must be the pending
        approval; a button left over from an earlier approval of the same request is refused.

        ``principal``, when given (the gateway and the approvals agent always give it), must have
        authority over the approval (:mod:`eas_pipelines.store.authority`: named approver, role
        holder, ``route_role`` holder at the first level, or a delegate in force of one of them), read
        under the same locks as the decision; else :class:`ApprovalForbidden`. The audit entry says
        on what basis, and on whose behalf, the decision was taken.
        """
        decision_value = str(decision)
        if decision_value not in _DECISIONS:
            raise ValueError(f"decision must be 'approved' or 'rejected', got {decision!r}")
        with self._tx() as session:
            row, now = self._lock(session, request_id)
            pending = session.scalars(
                select(Approval)
                .where(Approval.request_id == request_id, Approval.decision.is_(None))
                .with_for_update()
            ).first()
            if pending is None or (approval_id is not None and pending.id != approval_id):
                query = select(Approval).where(Approval.request_id == request_id)
                if approval_id is not None:
                    query = query.where(Approval.id == approval_id)
                latest = session.scalars(query.order_by(Approval.id.desc())).first()
                if latest is not None and latest.decision is not None:
                    raise ApprovalAlreadyDecided(ApprovalRecord.from_row(latest))
                wanted = f"approval {approval_id}" if approval_id is not None else "pending approval"
                raise ApprovalNotFound(f"request {request_id} has no {wanted}")
            authority = (
                self._authority(session, pending, principal, route_role, now)
                if principal is not None
                else None
            )
            self._apply(
                session,
                row,
                now,
                Status(decision_value),
                actor=decided_by,
                reason=reason,
                expected=Status.AWAITING_APPROVAL,
            )
            pending.decision = decision_value
            pending.decided_by = decided_by
            pending.decided_at = now
            pending.reason = reason
            self._audit(
                session,
                request_id,
                decided_by,
                "approval.decided",
                {
                    "approval_id": pending.id,
                    "decision": decision_value,
                    "reason": reason,
                    "approver": pending.approver,
                    "stage": pending.stage,
                    **(
                        {"basis": authority.basis, "on_behalf_of": authority.on_behalf_of}
                        if authority is not None
                        else {}
                    ),
                },
                at=now,
            )
            return ApprovalRecord.from_row(pending)

    def _delegated_roles(
        self, session: Session, name: str, now: Any
    ) -> tuple[builtins.list[str], dict[str, set[str]]]:
        """Whom ``name`` stands in for now (delegations in force), and the approver roles of ``name`` and
        of each of them: what :func:`decision_authority` weighs, for deciding and for listing alike."""
        delegators = list(
            session.scalars(
                select(ApprovalDelegation.delegator).where(
                    *self._in_force(now), ApprovalDelegation.delegate == name
                )
            )
        )
        roles: dict[str, set[str]] = {}
        for who, role in session.execute(
            select(ApproverRole.principal, ApproverRole.role).where(
                ApproverRole.principal.in_([name, *delegators])
            )
        ):
            roles.setdefault(who, set()).add(role)
        return delegators, roles

    def _authority(
        self, session: Session, pending: Approval, principal: str, route_role: str | None, now: datetime
    ) -> Authority:
        """The principal's authority over ``pending`` (read in the deciding transaction), or refuse."""
        name = principal_name(principal)
        delegators, roles = self._delegated_roles(session, name, now)
        earlier = session.scalars(
            select(Approval.decided_by).where(
                Approval.request_id == pending.request_id,
                Approval.decision == Status.APPROVED.value,
                Approval.stage < pending.stage,
                Approval.decided_by.is_not(None),
            )
        ).all()
        found = decision_authority(
            name,
            pending.approver,
            roles,
            delegators,
            stage=pending.stage,
            route_role=route_role,
            earlier_deciders=[d for d in earlier if d is not None],
        )
        if isinstance(found, str):
            raise ApprovalForbidden(ApprovalRecord.from_row(pending), name, found)
        return found

    def escalate(
        self,
        approval_id: int,
        next_approver: str,
        new_deadline: datetime,
        actor: str,
        *,
        reason: str | None = None,
    ) -> ApprovalRecord:
        """Hand a pending approval to ``next_approver`` with a new deadline; ``escalation_level`` + 1.

        The previous approver and deadline are kept in the audit entry.
        """
        new_deadline = _aware(new_deadline, "new_deadline")
        with self._tx() as session:
            found = session.execute(
                select(Approval, Request.status, func.clock_timestamp())
                .join(Request, Request.id == Approval.request_id)
                .where(Approval.id == approval_id)
                .with_for_update(of=Approval)
            ).first()
            if found is None:
                raise ApprovalNotFound(f"approval {approval_id} not found")
            approval, request_status, now = found
            if approval.decision is not None:
                raise ApprovalAlreadyDecided(ApprovalRecord.from_row(approval))
            if request_status != Status.AWAITING_APPROVAL.value:
                raise ApprovalError(
                    f"approval {approval_id}: request {approval.request_id} is {request_status}, "
                    "no longer awaiting approval"
                )
            detail = {
                "approval_id": approval.id,
                "from_approver": approval.approver,
                "to_approver": next_approver,
                "previous_deadline": approval.deadline.isoformat(),
                "deadline": new_deadline.isoformat(),
                "escalation_level": approval.escalation_level + 1,
                "reason": reason,
            }
            approval.approver = next_approver
            approval.deadline = new_deadline
            approval.escalation_level += 1
            self._audit(session, approval.request_id, actor, "approval.escalated", detail, at=now)
            return ApprovalRecord.from_row(approval)

    def overdue_approvals(
        self, now: datetime | None = None, limit: int = 100
    ) -> builtins.list[ApprovalRecord]:
        """Pending approvals past their deadline (at ``now``, default the database clock), oldest first."""
        cutoff = func.clock_timestamp() if now is None else _aware(now, "now")
        query = (
            self._pending_approvals()
            .where(Approval.deadline < cutoff)
            .order_by(Approval.deadline, Approval.id)
            .limit(_limit(limit))
        )
        with self._tx() as session:
            return [ApprovalRecord.from_row(row) for row in session.scalars(query)]

    def approvals(
        self,
        status: str | None = _PENDING,
        *,
        request_id: str | None = None,
        limit: int = 100,
    ) -> builtins.list[ApprovalRecord]:
        """Approvals by state: ``"pending"`` (by deadline), ``"approved"``/``"rejected"`` or None for all
        (newest first).

        Pending means undecided on a request still awaiting approval: the approval of a request
        cancelled meanwhile is not waiting for anyone.
        """
        if status == _PENDING:
            query = self._pending_approvals().order_by(Approval.deadline, Approval.id)
        else:
            query = select(Approval)
            if status is not None:
                if status not in _DECISIONS:
                    raise ValueError(f"status must be pending, approved, rejected or None, got {status!r}")
                query = query.where(Approval.decision == status)
            query = query.order_by(Approval.id.desc())
        if request_id is not None:
            query = query.where(Approval.request_id == request_id)
        with self._tx() as session:
            return [ApprovalRecord.from_row(row) for row in session.scalars(query.limit(_limit(limit)))]

    def get_approval(self, approval_id: int) -> ApprovalRecord:
        """The approval, or :class:`ApprovalNotFound`."""
        with self._tx() as session:
            row = session.get(Approval, approval_id)
            if row is None:
                raise ApprovalNotFound(f"approval {approval_id} not found")
            return ApprovalRecord.from_row(row)

    def decidable_by(
        self, principal: str, *, route_roles: Mapping[str, str | None] | None = None, limit: int = 100
    ) -> builtins.list[ApprovalRecord]:
        """Pending approvals ``principal`` may decide (own authority or delegated), by deadline.

        ``route_roles`` maps an intent to its route's approver role (the first level's extra role).
        """
        name = principal_name(principal)
        with self._tx() as session:
            now = session.scalar(select(func.clock_timestamp()))
            delegators, roles = self._delegated_roles(session, name, now)
            found = session.execute(
                self._pending_approvals()
                .add_columns(Request.intent)
                .order_by(Approval.deadline, Approval.id)
                .limit(MAX_PAGE)
            ).all()
            earlier: dict[str, set[str]] = {}
            ids = [row.request_id for row, _ in found]
            for request_id, decided_by in session.execute(
                select(Approval.request_id, Approval.decided_by).where(
                    Approval.request_id.in_(ids), Approval.decision == Status.APPROVED.value
                )
            ):
                earlier.setdefault(request_id, set()).add(decided_by or "")
            mine = []
            for row, intent in found:
                verdict = decision_authority(
                    name,
                    row.approver,
                    roles,
                    delegators,
                    stage=row.stage,
                    route_role=(route_roles or {}).get(intent or ""),
                    earlier_deciders=earlier.get(row.request_id, ()),
                )
                if isinstance(verdict, Authority):
                    mine.append(ApprovalRecord.from_row(row))
            return mine[: _limit(limit)]

    # ------------------------------------------------------------------ approver roles and delegations

    def grant_role(self, principal: str, role: str, actor: str) -> bool:
        """Give ``principal`` approver ``role``; False if they held it already. Audited."""
        name = principal_name(principal)
        with self._tx() as session:
            inserted = session.execute(
                insert(ApproverRole)
                .values(principal=name, role=role, granted_by=actor)
                .on_conflict_do_nothing()
                .returning(ApproverRole.role)
            ).first()
            if inserted is not None:
                self._audit(session, None, actor, "approver_role.granted", {"principal": name, "role": role})
            return inserted is not None

    def revoke_role(self, principal: str, role: str, actor: str) -> bool:
        """Take approver ``role`` from ``principal``; False if they did not hold it. Audited."""
        name = principal_name(principal)
        with self._tx() as session:
            row = session.get(ApproverRole, (name, role))
            if row is None:
                return False
            session.delete(row)
            self._audit(session, None, actor, "approver_role.revoked", {"principal": name, "role": role})
            return True

    def roles_of(self, principal: str) -> frozenset[str]:
        """The approver roles ``principal`` holds (not counting delegations)."""
        with self._tx() as session:
            return frozenset(
                session.scalars(
                    select(ApproverRole.role).where(ApproverRole.principal == principal_name(principal))
                )
            )

    def delegate(
        self,
        delegator: str,
        delegate: str,
        until: datetime,
        actor: str,
        *,
        starts_at: datetime | None = None,
        reason: str | None = None,
    ) -> DelegationRecord:
        """Let ``delegate`` decide what ``delegator`` may, from ``starts_at`` (default now) to ``until``."""
        frm, to = principal_name(delegator), principal_name(delegate)
        if frm == to:
            raise ValueError(f"{frm} cannot delegate to themselves")
        until = _aware(until, "until")
        with self._tx() as session:
            now = session.scalar(select(func.clock_timestamp()))
            start = _aware(starts_at, "starts_at") if starts_at is not None else now
            if until <= start:
                raise ValueError(f"until ({until.isoformat()}) must be after the start ({start.isoformat()})")
            row = ApprovalDelegation(
                delegator=frm, delegate=to, starts_at=start, until=until, reason=reason, created_by=actor
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                None,
                actor,
                "approval.delegated",
                {
                    "delegation_id": row.id,
                    "delegator": frm,
                    "delegate": to,
                    "starts_at": start.isoformat(),
                    "until": until.isoformat(),
                    "reason": reason,
                },
            )
            session.flush()
            return DelegationRecord.from_row(row)

    def revoke_delegation(self, delegation_id: int, actor: str) -> DelegationRecord:
        """End a delegation now (kept, marked revoked). Idempotent."""
        with self._tx() as session:
            row = session.get(ApprovalDelegation, delegation_id, with_for_update=True)
            if row is None:
                raise LookupError(f"delegation {delegation_id} not found")
            if row.revoked_at is None:
                row.revoked_at = session.scalar(select(func.clock_timestamp()))
                row.revoked_by = actor
                self._audit(
                    session,
                    None,
                    actor,
                    "approval.delegation_revoked",
                    {"delegation_id": row.id, "delegator": row.delegator, "delegate": row.delegate},
                )
            return DelegationRecord.from_row(row)

    def delegations(
        self, *, delegator: str | None = None, delegate: str | None = None, in_force: bool = True
    ) -> builtins.list[DelegationRecord]:
        """Delegations from and/or to someone; only those in force now unless ``in_force=False``."""
        query = select(ApprovalDelegation)
        if delegator is not None:
            query = query.where(ApprovalDelegation.delegator == principal_name(delegator))
        if delegate is not None:
            query = query.where(ApprovalDelegation.delegate == principal_name(delegate))
        with self._tx() as session:
            if in_force:
                query = query.where(*self._in_force(session.scalar(select(func.clock_timestamp()))))
            rows = session.scalars(query.order_by(ApprovalDelegation.id))
            return [DelegationRecord.from_row(row) for row in rows]

    @staticmethod
    def _in_force(now: Any) -> tuple[Any, ...]:
        return (
            ApprovalDelegation.revoked_at.is_(None),
            ApprovalDelegation.starts_at <= now,
            ApprovalDelegation.until > now,
        )

    # ------------------------------------------------------------------ audit

    def audit(
        self, request_id: str | None, actor: str, action: str, detail: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Append an entry to the audit log (for events that are not status changes)."""
        with self._tx() as session:
            entry = self._audit(session, request_id, actor, action, dict(detail or {}))
            session.flush()  # INSERT ... RETURNING id, at (eager_defaults): no second query
            return AuditEntry.from_row(entry)

    def verify_audit_chain(self, *, after: tuple[int, str] | None = None) -> ChainReport:
        """Check the audit log's hash chain (from checkpoint ``after``); see :mod:`.chain`."""
        return verify_chain(self.engine, after=after)

    def requests_mentioning(
        self,
        entity_type: str,
        value: str,
        *,
        status: Status | str | Iterable[Status | str] | None = None,
        limit: int = 20,
    ) -> builtins.list[RequestRecord]:
        """Requests whose extracted entities include ``entity_type`` = ``value`` (case-insensitive),
        newest first: how "approve INV-1042" or "who approved INV-1042?" finds the request meant."""
        entity = func.jsonb_array_elements(Request.entities).table_valued("value").alias("entity")
        query = (
            select(Request)
            .where(func.jsonb_typeof(Request.entities) == "array")
            .where(
                select(1)
                .select_from(entity)
                .where(
                    entity.c.value.op("->>")("type") == entity_type,
                    func.upper(entity.c.value.op("->>")("value")) == value.upper(),
                )
                .exists()
            )
        )
        if status is not None:
            query = query.where(Request.status.in_([s.value for s in _statuses(status)]))
        query = query.order_by(Request.created_at.desc(), Request.id.desc()).limit(_limit(limit))
        with self._tx() as session:
            return [RequestRecord.from_row(row) for row in session.scalars(query)]

    def find_request(self, reference: str) -> RequestRecord | None:
        """The request an id as a person writes it names ("3F1C2A9E-..." upper-cased by the NLP
        normaliser), or None."""
        with self._tx() as session:
            row = session.scalars(select(Request).where(Request.id == reference.strip().lower())).first()
            return RequestRecord.from_row(row) if row is not None else None

    def audit_trail(self, request_id: str) -> builtins.list[AuditEntry]:
        """Every audit entry about the request, oldest first (kept even after the request is deleted)."""
        with self._tx() as session:
            rows = session.scalars(
                select(AuditLog).where(AuditLog.request_id == request_id).order_by(AuditLog.id)
            )
            return [AuditEntry.from_row(row) for row in rows]

    def audit_entries(
        self, actions: Iterable[str], *, after_id: int = 0, limit: int = 500
    ) -> builtins.list[AuditEntry]:
        """Audit entries of any request with one of ``actions`` and an id above ``after_id``, oldest
        first: a cursor-based reader's page (a sensor keeps the last id it has settled, see
        :meth:`audit_settled_id`). A range scan of the primary key from the cursor on."""
        query = (
            select(AuditLog)
            .where(AuditLog.id > after_id, AuditLog.action.in_(list(actions)))
            .order_by(AuditLog.id)
            .limit(_limit(limit))
        )
        with self._tx() as session:
            return [AuditEntry.from_row(row) for row in session.scalars(query)]

    def audit_settled_id(self, settle: timedelta = timedelta(seconds=30)) -> int:
        """The highest audit id written more than ``settle`` ago (0 when none): ids are taken before
        their transaction commits, so an entry with a lower id can still appear shortly after a higher
        one; a reader that advances its cursor no further than this misses none."""
        query = select(func.max(AuditLog.id)).where(AuditLog.at < func.clock_timestamp() - settle)
        with self._tx() as session:
            return int(session.scalar(query) or 0)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _pending_approvals() -> Select[tuple[Approval]]:
        return (
            select(Approval)
            .join(Request, Request.id == Approval.request_id)
            .where(Approval.decision.is_(None), Request.status == Status.AWAITING_APPROVAL.value)
        )

    @staticmethod
    def _lock(session: Session, request_id: str) -> tuple[Request, datetime]:
        """Lock the request row and read the database clock once the lock is held."""
        found = session.execute(
            select(Request, func.clock_timestamp())
            .where(Request.id == request_id)
            .with_for_update(of=Request)
        ).first()
        if found is None:
            raise RequestNotFound(request_id)
        row, now = found
        return row, now

    def _apply(
        self,
        session: Session,
        row: Request,
        now: datetime,
        to: Status,
        *,
        actor: str,
        reason: str | None,
        expected: Status | str | Iterable[Status | str] | None,
        updates: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        attempt: bool = False,
    ) -> None:
        """Check and apply one status change to a locked row, and write its history and audit rows."""
        current = Status(row.status)
        if expected is not None:
            allowed = _statuses(expected)
            if current not in allowed:
                raise StaleTransition(row.id, current, to, allowed)
        if not is_legal(current, to):
            raise IllegalTransition(row.id, current, to)

        updates = dict(updates or {})
        if to is Status.QUEUED and (
            updates.get("lane", row.lane) is None or updates.get("priority", row.priority) is None
        ):
            raise ValueError(f"request {row.id}: cannot queue it without a lane and a priority")

        for name, value in updates.items():
            setattr(row, name, value)
        changes: dict[str, Any] = {k: v for k, v in updates.items() if k not in _NOT_AUDITED}
        changed = set(updates)
        if run_id is not None:
            if run_id not in row.run_ids:
                row.run_ids = [*row.run_ids, run_id]
            changes["run_id"] = run_id
            changed.add("run_ids")
        if attempt:
            row.attempts += 1
            changes["attempts"] = row.attempts
            changed.add("attempts")

        stamp = _TIMESTAMP_ON_ENTRY.get(to)
        if stamp is not None:
            setattr(row, stamp, now)
        if to is Status.QUEUED:
            row.finished_at = None  # a retry after a failure is not finished any more
        row.status = to.value
        row.updated_at = now

        detail: dict[str, Any] = {"from": current.value, "to": to.value, "reason": reason}
        if changed:
            detail["fields"] = sorted(changed)
            detail["changes"] = changes
        self._record_change(
            session, row, from_status=current, actor=actor, reason=reason, at=now, detail=detail
        )

    def _record_change(
        self,
        session: Session,
        row: Request,
        *,
        from_status: Status | None,
        actor: str,
        reason: str | None,
        at: datetime,
        detail: dict[str, Any],
    ) -> None:
        session.add(
            RequestTransition(
                request_id=row.id,
                from_status=from_status.value if from_status is not None else None,
                to_status=row.status,
                actor=actor,
                reason=reason,
                at=at,
            )
        )
        self._audit(session, row.id, actor, f"request.{row.status}", detail, at=at)

    @staticmethod
    def _audit(
        session: Session,
        request_id: str | None,
        actor: str,
        action: str,
        detail: dict[str, Any],
        *,
        at: datetime | None = None,
    ) -> AuditLog:
        """The one place audit rows are written: ``detail`` is stored with every PII type masked
        (an audit trail is kept for years and read by auditors, who need what happened, not the
        card number, SSN or e-mail address a request carried)."""
        entry = AuditLog(
            request_id=request_id,
            actor=actor,
            action=action,
            detail=mask_value(detail),
            at=at if at is not None else func.clock_timestamp(),
        )
        session.add(entry)
        return entry
