"""The storages of ``dagster.yaml``: Dagster's own PostgreSQL event log, less the NOTIFYs; its run
storage, less the schema reflection on every run status change.

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
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage

from eas_pipelines.dagster_storage import REMEMBERED_COLUMN_CHECKS, EventLogStorage, RunStorage

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


def storage_overrides(url: str) -> dict[str, dict]:
    """``dagster.yaml``'s storages, each pointed at ``url``."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    return {
        key: {**config[key], "config": {"postgres_url": url}}
        for key in ("run_storage", "event_log_storage", "schedule_storage")
    }


@pytest.fixture
def postgres_instance(
    postgres_database_factory: Callable[[], str],
) -> Iterator[tuple[dg.DagsterInstance, str]]:
    """An instance whose storages are ``dagster.yaml``'s, on a database of its own."""
    url = postgres_database_factory()
    overrides = storage_overrides(url)
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance, url


def test_dagster_yaml_names_these_storages() -> None:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["event_log_storage"]["module"] == EventLogStorage.__module__
    assert config["event_log_storage"]["class"] == EventLogStorage.__name__
    assert config["run_storage"]["module"] == RunStorage.__module__
    assert config["run_storage"]["class"] == RunStorage.__name__


def test_run_storage_reflects_the_runs_table_once(
    postgres_instance: tuple[dg.DagsterInstance, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upstream asks the database for the runs table's columns at each run's creation, start and end;
    this storage asks once per check, and still records the backfill column's row and both times (the
    UI's run durations)."""
    instance, _ = postgres_instance
    storage = instance.run_storage
    assert isinstance(storage, RunStorage)
    asked: list[str] = []
    for check in REMEMBERED_COLUMN_CHECKS:
        upstream = getattr(SqlRunStorage, check)

        def counting(self: SqlRunStorage, _check: str = check, _upstream=upstream) -> bool:  # noqa: ANN001
            asked.append(_check)
            return _upstream(self)

        monkeypatch.setattr(SqlRunStorage, check, counting)
    storage._columns_present.clear()  # as a process that has not asked yet
    runs = [two_ops.execute_in_process(instance=instance) for _ in range(3)]
    assert sorted(asked) == ["has_backfill_id_column", "has_run_stats_index_cols"], asked
    for result in runs:
        record = instance.get_run_record_by_id(result.run_id)
        assert record is not None and record.start_time is not None and record.end_time is not None
        assert record.end_time >= record.start_time


def test_run_storage_asks_again_until_the_columns_exist(
    postgres_instance: tuple[dg.DagsterInstance, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "no" is not remembered: ``dagster instance migrate`` may add the columns under a live process."""
    instance, _ = postgres_instance
    answers = iter([False, False, True])
    monkeypatch.setattr(SqlRunStorage, "has_backfill_id_column", lambda self: next(answers))
    storage = instance.run_storage
    storage._columns_present.clear()
    assert [storage.has_backfill_id_column() for _ in range(4)] == [False, False, True, True]


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


@dg.op
def chatty(context: dg.OpExecutionContext) -> int:
    for index in range(5):
        context.log.info(f"line {index}")
    return 1


@dg.op
def fails(context: dg.OpExecutionContext, value: int) -> int:
    context.log.info("about to fail")
    raise RuntimeError("planned failure")


@dg.job
def chatty_then_fails() -> None:
    fails(chatty())


def event_inserts(instance: dg.DagsterInstance) -> list[str]:
    """Every INSERT into the event log the instance's storage sends, recorded as it sends them."""
    sent: list[str] = []

    @sa.event.listens_for(instance.event_log_storage._engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO EVENT_LOGS"):
            sent.append(statement)

    return sent


def test_a_runs_events_are_written_in_batches_in_order(postgres_instance) -> None:
    instance, _ = postgres_instance
    inserts = event_inserts(instance)

    result = chatty_then_fails.execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    records = instance.get_records_for_run(result.run_id).records
    entries = [record.event_log_entry for record in records]
    # Everything is there, in the order it happened: the log lines inside their step, the run's
    # failure last (written after all that its run held).
    types = [entry.dagster_event_type for entry in entries if entry.is_dagster_event]
    assert types[0] is dg.DagsterEventType.RUN_START and types[-1] is dg.DagsterEventType.RUN_FAILURE
    messages = [entry.user_message for entry in entries]
    lines = [messages.index(f"line {index}") for index in range(5)]
    assert lines == sorted(lines)
    starts = [
        i for i, entry in enumerate(entries) if entry.dagster_event_type is dg.DagsterEventType.STEP_START
    ]
    assert starts[0] < lines[0] and lines[-1] < starts[1] < messages.index("about to fail")
    assert [record.storage_id for record in records] == sorted(record.storage_id for record in records)
    # Far fewer statements than events: one per batch (each step's start, each run event).
    assert len(inserts) < len(entries) / 2, (len(inserts), len(entries))


def test_held_events_are_written_when_the_storage_is_disposed(postgres_database_factory) -> None:
    url = postgres_database_factory()
    overrides = storage_overrides(url)
    with (
        dg.instance_for_test(overrides=overrides) as writer,
        dg.instance_for_test(overrides=overrides) as reader,
    ):
        run = writer.create_run_for_job(two_ops)
        writer.report_engine_event("held until a batch ends", run)
        assert reader.all_logs(run.run_id) == []

        writer.event_log_storage.dispose()

        stored = reader.all_logs(run.run_id)
        assert [entry.dagster_event.message for entry in stored] == ["held until a batch ends"]


def test_batching_can_be_turned_off(postgres_database_factory) -> None:
    url = postgres_database_factory()
    overrides = storage_overrides(url)
    overrides["event_log_storage"]["config"]["batch_step_events"] = False
    with dg.instance_for_test(overrides=overrides) as instance:
        inserts = event_inserts(instance)
        result = two_ops.execute_in_process(instance=instance)
        assert len(inserts) == len(instance.all_logs(result.run_id))
