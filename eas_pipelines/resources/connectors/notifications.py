"""Notifications: messages to people (email) and team channels (chat, "#finance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import notifications


def channel_for(recipient: str) -> str:
    """ "#finance" is a chat channel; anything else is a person, reached by email."""
    return "chat" if recipient.startswith("#") else "email"


@dataclass(frozen=True)
class Notification:
    id: int
    request_id: str | None
    recipient: str
    channel: str
    subject: str
    body: str
    detail: dict[str, Any]
    sent_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Notification:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class Notifier(Protocol):
    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        *,
        request_id: str | None,
        idempotency_key: str,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Notification: ...

    def sent(self, *, request_id: str | None = None, recipient: str | None = None) -> list[Notification]: ...


class SandboxNotifier:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        *,
        request_id: str | None,
        idempotency_key: str,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Notification:
        with self._engine.begin() as conn:
            conn.execute(
                insert(notifications)
                .values(
                    idempotency_key=idempotency_key,
                    request_id=request_id,
                    recipient=recipient,
                    channel=channel or channel_for(recipient),
                    subject=subject[:500],
                    body=body,
                    detail=detail or {},
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                conn.execute(select(notifications).where(notifications.c.idempotency_key == idempotency_key))
                .mappings()
                .one()
            )
        return Notification.from_row(row)

    def sent(self, *, request_id: str | None = None, recipient: str | None = None) -> list[Notification]:
        query = select(notifications).order_by(notifications.c.id)
        if request_id is not None:
            query = query.where(notifications.c.request_id == request_id)
        if recipient is not None:
            query = query.where(notifications.c.recipient == recipient)
        with self._engine.connect() as conn:
            return [Notification.from_row(row) for row in conn.execute(query).mappings()]


class NotificationResource(ConnectorResource):
    """The notification connector (``notifications`` circuit breaker)."""

    connector: ClassVar[str] = "notifications"

    def client(self) -> Notifier:
        return super().client()

    def _sandbox(self) -> Notifier:
        return SandboxNotifier(self.engine)

    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        *,
        request_id: str | None,
        idempotency_key: str,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Notification:
        return self._call(
            self.client().send,
            recipient,
            subject,
            body,
            request_id=request_id,
            idempotency_key=idempotency_key,
            channel=channel,
            detail=detail,
        )

    def sent(self, *, request_id: str | None = None, recipient: str | None = None) -> list[Notification]:
        return self._call(self.client().sent, request_id=request_id, recipient=recipient)
