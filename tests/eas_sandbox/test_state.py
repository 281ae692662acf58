"""The emulators' records: JSON documents in PostgreSQL, numbered in creation order."""

from __future__ import annotations

import pytest

from eas_sandbox.state import RecordExists, Records


@pytest.fixture
def records(postgres_database_factory):
    store = Records(postgres_database_factory())
    yield store
    store.close()


def test_insert_get_put_delete_and_order(records):
    records.insert("v", "things", {"n": 1}, key="a")
    numbered = records.insert("v", "things", {"n": 2}, key=lambda seq: f"T{seq:04d}")
    assert numbered == {"n": 2}
    assert [row["n"] for row in records.all("v", "things")] == [1, 2]
    assert records.count("v", "things") == 2 and records.count("v", "other") == 0

    records.put("v", "things", "a", {"n": 10})
    assert records.get("v", "things", "a") == {"n": 10}
    assert records.delete("v", "things", "a") and records.get("v", "things", "a") is None
    assert not records.delete("v", "things", "a")


def test_a_key_is_stored_once(records):
    records.insert("v", "things", {"n": 1}, key="a")
    with pytest.raises(RecordExists, match="v/things/a"):
        records.insert("v", "things", {"n": 2}, key="a")
    assert records.get("v", "things", "a") == {"n": 1}


def test_reset_forgets_one_vendor_or_all(records):
    records.insert("v", "things", {}, key="a")
    records.insert("w", "things", {}, key="a")
    records.reset("v")
    assert records.count("v", "things") == 0 and records.count("w", "things") == 1
    records.reset()
    assert records.count("w", "things") == 0
