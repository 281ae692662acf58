"""The event log storage of ``dagster.yaml``: Dagster's own PostgreSQL event log, less the NOTIFYs.

A real Dagster instance on a fresh PostgreSQL database, configured as ``dagster.yaml`` configures
it, runs a job that yields an asset materialization: every event is stored and read back, the
asset's index is kept (the UI's Catalog reads it), and a session listening on the channel
dagster-postgres used to notify hears nothing.
"""

import select
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import sqlalchemy as sa
import yaml

from eas_pipelines.dagster_storage import EventLogStorage

ROOT = Path(__file__).resolve().parents[2]


@dg.op
def produce(context: dg.OpExecutionContext) -> int:
    context.log_event(dg.AssetMaterialization(asset_key="eas_storage_check", metadata={"rows": 3}))
    return 3


@dg.op
def consume(value: int) -> int:
    return value + 1


@dg.job
def two_ops() -> None:
    consume(produce())


@pytest.fixture
def postgres_instance(
    postgres_database_factory: Callable[[], str],
) -> Iterator[tuple[dg.DagsterInstance, str]]:
    """An instance whose storages are ``dagster.yaml``'s, on a database of its own."""
    url = postgres_database_factory()
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    overrides = {
        key: {**config[key], "config": {"postgres_url": url}}
        for key in ("run_storage", "event_log_storage", "schedule_storage")
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance, url


def test_dagster_yaml_names_this_storage() -> None:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["event_log_storage"]["module"] == EventLogStorage.__module__
    assert config["event_log_storage"]["class"] == EventLogStorage.__name__


def test_events_are_stored_without_notifications(postgres_instance: tuple[dg.DagsterInstance, str]) -> None:
    instance, url = postgres_instance
    assert isinstance(instance.event_log_storage, EventLogStorage)
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    listener = psycopg2.connect(dsn)
    listener.autocommit = True
    try:
        listener.cursor().execute("LISTEN run_events")
        result = two_ops.execute_in_process(instance=instance)
        assert result.success

        events = instance.all_logs(result.run_id)
        types = [event.dagster_event_type for event in events if event.is_dagster_event]
        assert types[0] is dg.DagsterEventType.RUN_START
        assert types[-1] is dg.DagsterEventType.RUN_SUCCESS
        assert types.count(dg.DagsterEventType.STEP_SUCCESS) == 2
        stored_ids = [event.storage_id for event in instance.get_records_for_run(result.run_id).records]
        assert stored_ids == sorted(stored_ids) and len(stored_ids) == len(events)

        latest = instance.get_latest_materialization_event(dg.AssetKey("eas_storage_check"))
        assert latest is not None and latest.run_id == result.run_id

        select.select([listener], [], [], 0.5)
        listener.poll()
        assert listener.notifies == []
    finally:
        listener.close()
