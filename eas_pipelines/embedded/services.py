"""Starting what is not configured, and the child processes of ``eas up``.

:func:`resolve_services` turns settings into URLs: a configured ``EAS_DATABASE_URL`` /
``EAS_REDIS_URL`` is used as is, an unset one starts the embedded server. :class:`ProcessGroup`
(in :mod:`eas_pipelines.embedded.supervisor`, importable from here too) runs the long-lived
children of ``eas up`` (Dagster, gateway, NLP server, workers): it restarts one that crashes, and
Ctrl-C or SIGTERM stops every one of them, and everything they started, before ``eas up`` returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from eas_pipelines.embedded.postgres import EmbeddedPostgres
from eas_pipelines.embedded.redis_server import EmbeddedRedis
from eas_pipelines.embedded.supervisor import Child, ProcessGroup, RestartPolicy
from eas_pipelines.settings import EASSettings

__all__ = ["Child", "EmbeddedServer", "ProcessGroup", "ResolvedServices", "RestartPolicy", "resolve_services"]

_log = logging.getLogger(__name__)


class EmbeddedServer(Protocol):
    """What :class:`ResolvedServices` needs of an embedded server."""

    owned: bool

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class ResolvedServices:
    """The URLs every EAS process should use, and the embedded servers started to provide them.

    ``started`` holds the servers this call started (and must stop); ``reused`` those that another
    live EAS process owns (left running by :meth:`stop_all`).
    """

    database_url: str
    redis_url: str
    started: list[EmbeddedServer] = field(default_factory=list)
    reused: list[EmbeddedServer] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Environment for child processes, so that they use these servers instead of starting their own."""
        return {"EAS_DATABASE_URL": self.database_url, "EAS_REDIS_URL": self.redis_url}

    def stop_all(self) -> None:
        """Stop the started servers in reverse order of start; every one is tried even if one fails."""
        errors: list[BaseException] = []
        while self.started:
            server = self.started.pop()
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others; report all at the end
                _log.error("could not stop embedded %s: %s", server.name, exc)
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> ResolvedServices:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def resolve_services(settings: EASSettings) -> ResolvedServices:
    """URLs for PostgreSQL and Redis, starting an embedded server for each one not configured.

    If a later start fails, the servers already started are stopped before the error propagates,
    so a failed ``eas up`` leaves nothing running.
    """
    planned: list[tuple[str, EmbeddedServer]] = []
    if settings.database_url is None:
        planned.append(("database_url", EmbeddedPostgres(settings.data_dir, settings.embedded_postgres_port)))
    if settings.redis_url is None:
        planned.append(("redis_url", EmbeddedRedis(settings.data_dir, settings.embedded_redis_port)))
    urls: dict[str, str | None] = {"database_url": settings.database_url, "redis_url": settings.redis_url}
    resolved = ResolvedServices(database_url="", redis_url="")
    try:
        for key, server in planned:
            urls[key] = server.start()
            (resolved.started if server.owned else resolved.reused).append(server)
    except BaseException:
        resolved.stop_all()
        raise
    resolved.database_url = urls["database_url"] or ""
    resolved.redis_url = urls["redis_url"] or ""
    return resolved
