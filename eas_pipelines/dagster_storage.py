"""Dagster's PostgreSQL event log without the ``NOTIFY`` it sends after every stored event.

dagster-postgres 0.29 still runs ``NOTIFY run_events, '<run id>_<event id>'`` after each event's
``INSERT``, "preserved here to support version skew" (its own comment): no Dagster 1.13 process
listens any more (the webserver and daemon poll the event log). A fast-lane run of the invoice
workflow stores about 60 events, so the notifications cost 60 statements, each its own transaction,
per run: about a quarter of the event log's time in a worker's profile (BENCHMARKS.md). Every EAS
process (webserver, daemon, workers) uses the same ``dagster.yaml``, so they all use this storage;
nothing else about the event log changes (same tables, same asset and asset-check index rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config


class EventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose ``store_event`` is dagster-postgres's own less the ``NOTIFY``:
    the event's ``INSERT``, then for asset and asset-check events the same index rows as upstream."""

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> EventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    def store_event(self, event: EventLogEntry) -> None:
        statement = self.prepare_insert_event(event).returning(SqlEventLogStorageTable.c.id)
        with self._connect() as conn:
            result = conn.execute(statement)
            event_id = int(result.scalar_one())
            result.close()
        if not event.is_dagster_event:
            return
        if event.dagster_event_type in ASSET_EVENTS and event.dagster_event.asset_key:  # type: ignore[union-attr]
            with self.index_transaction() as conn:
                self._store_asset_event_tags(conn, [event], [event_id])
                self._store_asset_event(conn, event, event_id)
        if event.dagster_event_type in ASSET_CHECK_EVENTS:
            self.store_asset_check_event(event, event_id)
