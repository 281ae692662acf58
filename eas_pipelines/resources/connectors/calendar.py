"""Calendars: out-of-office and other entries the workflows put in people's calendars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import calendar_entries


@dataclass(frozen=True)
class CalendarEntry:
    id: int
    request_id: str | None
    calendar: str
    title: str
    kind: str
    start_date: date
    end_date: date
    created_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> CalendarEntry:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class Calendar(Protocol):
    def create_entry(
        self,
        calendar: str,
        title: str,
        start: date,
        end: date,
        *,
        kind: str,
        request_id: str | None,
        idempotency_key: str,
    ) -> CalendarEntry: ...

    def entries(
        self, *, calendar: str | None = None, request_id: str | None = None
    ) -> list[CalendarEntry]: ...


class SandboxCalendar:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_entry(
        self,
        calendar: str,
        title: str,
        start: date,
        end: date,
        *,
        kind: str,
        request_id: str | None,
        idempotency_key: str,
    ) -> CalendarEntry:
        with self._engine.begin() as conn:
            conn.execute(
                insert(calendar_entries)
                .values(
                    idempotency_key=idempotency_key,
                    request_id=request_id,
                    calendar=calendar,
                    title=title,
                    kind=kind,
                    start_date=start,
                    end_date=end,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                conn.execute(
                    select(calendar_entries).where(calendar_entries.c.idempotency_key == idempotency_key)
                )
                .mappings()
                .one()
            )
        return CalendarEntry.from_row(row)

    def entries(self, *, calendar: str | None = None, request_id: str | None = None) -> list[CalendarEntry]:
        query = select(calendar_entries).order_by(calendar_entries.c.id)
        if calendar is not None:
            query = query.where(calendar_entries.c.calendar == calendar)
        if request_id is not None:
            query = query.where(calendar_entries.c.request_id == request_id)
        with self._engine.connect() as conn:
            return [CalendarEntry.from_row(row) for row in conn.execute(query).mappings()]


class CalendarResource(ConnectorResource):
    """The calendar connector (``calendar`` circuit breaker)."""

    connector: ClassVar[str] = "calendar"

    def client(self) -> Calendar:
        return super().client()

    def _sandbox(self) -> Calendar:
        return SandboxCalendar(self.engine)

    def create_entry(
        self,
        calendar: str,
        title: str,
        start: date,
        end: date,
        *,
        kind: str,
        request_id: str | None,
        idempotency_key: str,
    ) -> CalendarEntry:
        return self._call(
            self.client().create_entry,
            calendar,
            title,
            start,
            end,
            kind=kind,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )

    def entries(self, *, calendar: str | None = None, request_id: str | None = None) -> list[CalendarEntry]:
        return self._call(self.client().entries, calendar=calendar, request_id=request_id)
