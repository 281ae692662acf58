"""The help desk: tickets, their first response and escalations.

The sandbox numbers tickets ``TCK-10001``, ``TCK-10002``... from a PostgreSQL sequence.
``external_ref`` holds the id a customer quoted ("escalate TCK-2231") when that ticket lives in
another system, so that an escalation of an unknown ticket still lands on one record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from eas_pipelines.resources.circuit import ConnectorRejected
from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import ticket_escalations, tickets


@dataclass(frozen=True)
class NewTicket:
    queue: str
    priority: str
    subject: str
    description: str
    requester: str
    external_ref: str | None = None
    response_due: datetime | None = None
    resolution_due: datetime | None = None


@dataclass(frozen=True)
class Ticket:
    ticket_number: str
    request_id: str | None
    external_ref: str | None
    queue: str
    priority: str
    subject: str
    description: str
    requester: str
    status: str
    first_response: str | None
    escalation_level: int
    escalated_to: str | None
    response_due: datetime | None
    resolution_due: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Ticket:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Escalation:
    ticket_number: str
    level: int
    escalated_to: str
    reason: str
    at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Escalation:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class UnknownTicket(ConnectorRejected):
    pass


class Ticketing(Protocol):
    def create_ticket(self, ticket: NewTicket, *, request_id: str | None, idempotency_key: str) -> Ticket: ...

    def get(self, ticket_number_or_ref: str) -> Ticket | None: ...

    def set_first_response(self, ticket_number: str, body: str) -> Ticket: ...

    def escalate(
        self, ticket_number: str, escalated_to: str, reason: str, *, idempotency_key: str
    ) -> Ticket: ...

    def tickets(
        self, *, queue: str | None = None, request_id: str | None = None, limit: int = 100
    ) -> list[Ticket]: ...

    def escalations(self, ticket_number: str) -> list[Escalation]: ...


class SandboxTicketing:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_ticket(self, ticket: NewTicket, *, request_id: str | None, idempotency_key: str) -> Ticket:
        with self._engine.begin() as conn:
            existing = (
                conn.execute(select(tickets).where(tickets.c.idempotency_key == idempotency_key))
                .mappings()
                .first()
            )
            if existing is not None:
                return Ticket.from_row(existing)
            number = conn.execute(text("SELECT nextval('sandbox_ticket_number_seq')")).scalar_one()
            row = (
                conn.execute(
                    insert(tickets)
                    .values(
                        ticket_number=f"TCK-{number}",
                        idempotency_key=idempotency_key,
                        request_id=request_id,
                        external_ref=ticket.external_ref,
                        queue=ticket.queue,
                        priority=ticket.priority,
                        subject=ticket.subject[:500],
                        description=ticket.description,
                        requester=ticket.requester,
                        response_due=ticket.response_due,
                        resolution_due=ticket.resolution_due,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(*tickets.c)
                )
                .mappings()
                .first()
            )
            if row is None:  # a concurrent try of the same step won the insert
                row = (
                    conn.execute(select(tickets).where(tickets.c.idempotency_key == idempotency_key))
                    .mappings()
                    .one()
                )
        return Ticket.from_row(row)

    def get(self, ticket_number_or_ref: str) -> Ticket | None:
        needle = ticket_number_or_ref.upper()
        query = (
            select(tickets)
            .where(or_(tickets.c.ticket_number == needle, func.upper(tickets.c.external_ref) == needle))
            .order_by(tickets.c.id)
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return Ticket.from_row(row) if row is not None else None

    def set_first_response(self, ticket_number: str, body: str) -> Ticket:
        with self._engine.begin() as conn:
            row = (
                conn.execute(
                    update(tickets)
                    .where(tickets.c.ticket_number == ticket_number)
                    .values(first_response=body, updated_at=func.now())
                    .returning(*tickets.c)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise UnknownTicket(f"no ticket {ticket_number}")
        return Ticket.from_row(row)

    def escalate(self, ticket_number: str, escalated_to: str, reason: str, *, idempotency_key: str) -> Ticket:
        """Raise the ticket one level and record why, once per ``idempotency_key``."""
        with self._engine.begin() as conn:
            current = (
                conn.execute(
                    select(tickets).where(tickets.c.ticket_number == ticket_number).with_for_update()
                )
                .mappings()
                .first()
            )
            if current is None:
                raise UnknownTicket(f"no ticket {ticket_number}")
            recorded = conn.execute(
                insert(ticket_escalations)
                .values(
                    idempotency_key=idempotency_key,
                    ticket_number=ticket_number,
                    level=current["escalation_level"] + 1,
                    escalated_to=escalated_to,
                    reason=reason,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(ticket_escalations.c.id)
            ).first()
            if recorded is None:
                return Ticket.from_row(current)
            row = (
                conn.execute(
                    update(tickets)
                    .where(tickets.c.ticket_number == ticket_number)
                    .values(
                        escalation_level=tickets.c.escalation_level + 1,
                        escalated_to=escalated_to,
                        status="escalated",
                        updated_at=func.now(),
                    )
                    .returning(*tickets.c)
                )
                .mappings()
                .one()
            )
        return Ticket.from_row(row)

    def tickets(
        self, *, queue: str | None = None, request_id: str | None = None, limit: int = 100
    ) -> list[Ticket]:
        query = select(tickets).order_by(tickets.c.id.desc()).limit(limit)
        if queue is not None:
            query = query.where(tickets.c.queue == queue)
        if request_id is not None:
            query = query.where(tickets.c.request_id == request_id)
        with self._engine.connect() as conn:
            return [Ticket.from_row(row) for row in conn.execute(query).mappings()]

    def escalations(self, ticket_number: str) -> list[Escalation]:
        query = (
            select(ticket_escalations)
            .where(ticket_escalations.c.ticket_number == ticket_number)
            .order_by(ticket_escalations.c.id)
        )
        with self._engine.connect() as conn:
            return [Escalation.from_row(row) for row in conn.execute(query).mappings()]


class TicketingResource(ConnectorResource):
    """The help-desk connector (``ticketing`` circuit breaker)."""

    connector: ClassVar[str] = "ticketing"

    def client(self) -> Ticketing:
        return super().client()

    def _sandbox(self) -> Ticketing:
        return SandboxTicketing(self.engine)

    def create_ticket(self, ticket: NewTicket, *, request_id: str | None, idempotency_key: str) -> Ticket:
        return self._call(
            self.client().create_ticket, ticket, request_id=request_id, idempotency_key=idempotency_key
        )

    def get(self, ticket_number_or_ref: str) -> Ticket | None:
        return self._call(self.client().get, ticket_number_or_ref)

    def set_first_response(self, ticket_number: str, body: str) -> Ticket:
        return self._call(self.client().set_first_response, ticket_number, body)

    def escalate(self, ticket_number: str, escalated_to: str, reason: str, *, idempotency_key: str) -> Ticket:
        return self._call(
            self.client().escalate, ticket_number, escalated_to, reason, idempotency_key=idempotency_key
        )

    def tickets(
        self, *, queue: str | None = None, request_id: str | None = None, limit: int = 100
    ) -> list[Ticket]:
        return self._call(self.client().tickets, queue=queue, request_id=request_id, limit=limit)

    def escalations(self, ticket_number: str) -> list[Escalation]:
        return self._call(self.client().escalations, ticket_number)
