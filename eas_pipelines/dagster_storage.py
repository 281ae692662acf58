"""Dagster's PostgreSQL event log without the ``NOTIFY`` it sends after every stored event, and its
run storage without the schema reflection it runs on every run status change.

dagster-postgres 0.29 still runs ``NOTIFY run_events, '<run id>_<event id>'`` after each event's
``INSERT``, "preserved here to support version skew" (its own comment): no Dagster 1.13 process
listens any more (the webserver and daemon poll the event log). A fast-lane run of the invoice
workflow stores about 60 events, so the notifications cost 60 statements, each its own transaction,
per run: about a quarter of the event log's time in a worker's profile (BENCHMARKS.md). Every EAS
process (webserver, daemon, workers) uses the same ``dagster.yaml``, so they all use this storage;
nothing else about the event log changes (same tables, same asset and asset-check index rows).

It also writes a run's events in batches rather than one statement each (``batch_step_events``,
on by default): a run's events are held in memory and written in one multi-row ``INSERT`` when a
step starts or fails, when the run starts or ends (a run-level event), when something of warning
level or worse is logged, and when the storage is disposed. The event log then reads the same,
in the same order; a reader simply sees a step's inputs, outputs, log lines and success when the
next step starts (or the run ends) rather than as they happen, and the run's status (run storage)
only changes after everything before it is written. Asset and asset-check events are never held
(their index rows need the event's id at once). What a process killed mid-step loses is that step's
log lines since it started: its start is already written, and the run is failed by whoever finds
it dead.

The run storage (:class:`RunStorage`) is dagster-postgres's, except that it asks the database once
per process, not at every run's creation, start and end, whether the runs table has its optional
columns (``backfill_id``, ``start_time``/``end_time``): upstream reflects the table each time
(SQLAlchemy's column reflection, catalog queries), three times per fast-lane run.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from dagster import DagsterEventType
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

BATCH_ENDS = frozenset(
    {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_FAILURE,
        DagsterEventType.STEP_UP_FOR_RETRY,
        DagsterEventType.STEP_RESTARTED,
    }
)
"""Events that write out their run's held events, themselves included. A step's success is written
with the next step's start (the next moment in an in-process run) or before the run's end."""
NEVER_HELD = (
    ASSET_EVENTS
    | ASSET_CHECK_EVENTS
    | {
        DagsterEventType.RUN_ENQUEUED,
        DagsterEventType.RUN_DEQUEUED,
        DagsterEventType.RUN_STARTING,
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
        DagsterEventType.RUN_FAILURE,
        DagsterEventType.RUN_CANCELING,
        DagsterEventType.RUN_CANCELED,
    }
)
"""Written at once, after what their run holds: index rows need their ids; run status changes must
follow everything that happened before them."""


def postgres_storage_arguments(
    inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
) -> dict[str, Any]:
    """What dagster-postgres's storages are built from, read from their ``dagster.yaml`` config as
    their own ``from_config_value`` reads it (which builds the upstream class, not a subclass)."""
    return {
        "inst_data": inst_data,
        "postgres_url": pg_url_from_config(config_value),
        "should_autocreate_tables": config_value.get("should_autocreate_tables", True),
        "token_provider": get_token_provider_from_config(config_value),
    }


class EventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose ``store_event`` is dagster-postgres's own less the ``NOTIFY``
    (the event's ``INSERT``, then for asset and asset-check events the same index rows as upstream),
    with a run's other events written in batches."""

    def __init__(self, *args: Any, batch_step_events: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch = batch_step_events
        self._held: defaultdict[str, list[EventLogEntry]] = defaultdict(list)
        self._held_lock = threading.Lock()

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Field

        return {
            **super().config_type(),
            "batch_step_events": Field(bool, is_required=False, default_value=True),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> EventLogStorage:
        return cls(
            **postgres_storage_arguments(inst_data, config_value),
            batch_step_events=config_value.get("batch_step_events", True),
        )

    def store_event(self, event: EventLogEntry) -> None:
        if not self._batch or not event.run_id:
            self._store_now(event)
            return
        event_type = event.dagster_event_type if event.is_dagster_event else None
        if event_type in NEVER_HELD:
            self.flush_run(event.run_id)
            self._store_now(event)
            return
        with self._held_lock:
            self._held[event.run_id].append(event)
        if event_type in BATCH_ENDS or event.level >= logging.WARNING:
            self.flush_run(event.run_id)

    def flush_run(self, run_id: str) -> None:
        """Write what ``run_id`` holds, in order, in one statement."""
        with self._held_lock:
            events = self._held.pop(run_id, None)
        if events:
            rows = [self._event_to_row(event) for event in events]
            with self._connect() as conn:
                # executemany of one cached INSERT (SQLAlchemy sends it as one multi-row statement):
                # a VALUES list built per batch was compiled anew each time.
                conn.execute(SqlEventLogStorageTable.insert(), rows)

    def flush(self) -> None:
        """Write what every run holds."""
        with self._held_lock:
            run_ids = list(self._held)
        for run_id in run_ids:
            self.flush_run(run_id)

    def get_records_for_run(self, run_id: Any, *args: Any, **kwargs: Any) -> Any:
        self.flush_run(run_id)  # a reader in this process sees what it stored
        return super().get_records_for_run(run_id, *args, **kwargs)

    def dispose(self) -> None:
        self.flush()
        super().dispose()

    def _store_now(self, event: EventLogEntry) -> None:
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


class RunStorage(PostgresRunStorage):
    """``PostgresRunStorage`` that remembers which optional columns the runs tables have.

    Upstream reflects the table (:data:`REMEMBERED_COLUMN_CHECKS`) each time it asks: at every run's
    creation (``backfill_id``), start and end (``start_time``/``end_time``). Only a yes is remembered:
    the columns come with a schema migration and are never dropped, while a no may turn into a yes when
    ``dagster instance migrate`` runs beside a live process.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._columns_present: set[str] = set()  # before upstream's __init__, which already asks
        super().__init__(*args, **kwargs)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> RunStorage:
        return cls(**postgres_storage_arguments(inst_data, config_value))

    def _remembered(self, check: str) -> bool:
        if check not in self._columns_present:
            if not getattr(super(), check)():
                return False
            self._columns_present.add(check)
        return True

    def has_run_stats_index_cols(self) -> bool:
        return self._remembered("has_run_stats_index_cols")

    def has_backfill_id_column(self) -> bool:
        return self._remembered("has_backfill_id_column")

    def has_bulk_actions_selector_cols(self) -> bool:
        return self._remembered("has_bulk_actions_selector_cols")

    def has_bulk_action_job_name_column(self) -> bool:
        return self._remembered("has_bulk_action_job_name_column")


REMEMBERED_COLUMN_CHECKS = (
    "has_run_stats_index_cols",
    "has_backfill_id_column",
    "has_bulk_actions_selector_cols",
    "has_bulk_action_job_name_column",
)
"""The upstream column checks :class:`RunStorage` answers from memory once they said yes."""
