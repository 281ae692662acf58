"""The emulators' records: JSON documents in PostgreSQL, numbered in creation order."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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


def _invoices(records) -> None:
    """Three SAP-like documents, items nested under their invoice, plus a lookalike of another vendor."""
    for number, party, pos in (("1", "A", ["PO-1", "PO-2"]), ("2", "B", ["PO-2"]), ("3", "A", ["PO-3"])):
        items = [{"PurchaseOrder": po, "Amount": "1.00"} for po in pos]
        records.insert("v", "invoices", {"id": number, "party": party, "items": items}, key=number)
    records.insert("w", "invoices", {"id": "9", "party": "A", "items": []}, key="9")


def test_find_filters_by_containment_in_creation_order(records):
    _invoices(records)

    assert [row["id"] for row in records.find("v", "invoices", {"party": "A"})] == ["1", "3"]
    assert [row["id"] for row in records.find("v", "invoices", {"party": "A", "id": "3"})] == ["3"]
    assert records.find("v", "invoices", {"party": "C"}) == []
    assert records.find("v", "invoices", {"party": 1}) == []  # JSON types are compared too
    assert [row["id"] for row in records.find("v", "invoices")] == ["1", "2", "3"]
    assert records.find("v", "invoices") == records.all("v", "invoices")


def test_find_looks_inside_arrays_of_child_documents(records):
    _invoices(records)

    by_po = records.find("v", "invoices", {"items": [{"PurchaseOrder": "PO-2"}]})
    assert [row["id"] for row in by_po] == ["1", "2"]
    both = {"items": [{"PurchaseOrder": "PO-1", "Amount": "1.00"}]}  # one child holding both
    assert [row["id"] for row in records.find("v", "invoices", both)] == ["1"]
    assert records.find("v", "invoices", {"items": [{"PurchaseOrder": "PO-1", "Amount": "2.00"}]}) == []


def test_find_any_of_merges_alternatives_once_each_in_creation_order(records):
    _invoices(records)
    alternatives = [{"items": [{"PurchaseOrder": "PO-3"}]}, {"items": [{"PurchaseOrder": "PO-2"}]}]

    assert [row["id"] for row in records.find("v", "invoices", any_of=alternatives)] == ["1", "2", "3"]
    assert [row["id"] for row in records.find("v", "invoices", {"party": "A"}, any_of=alternatives)] == [
        "1",
        "3",
    ]
    assert records.find("v", "invoices", any_of=[]) == []
    assert records.count_matching("v", "invoices", any_of=alternatives) == 3
    assert records.count_matching("v", "invoices", {"party": "A"}) == 2


def test_find_pages_with_limit_and_offset(records):
    _invoices(records)

    assert [row["id"] for row in records.find("v", "invoices", limit=2)] == ["1", "2"]
    assert [row["id"] for row in records.find("v", "invoices", limit=2, offset=2)] == ["3"]
    assert [row["id"] for row in records.find("v", "invoices", {"party": "A"}, offset=1)] == ["3"]
    assert records.find("v", "invoices", {"party": "A"}, limit=1, offset=5) == []


def test_find_equal_ignoring_case_keeps_every_case_variant(records):
    for key, value in (("1", "EAS-Key"), ("2", "eas-key"), ("3", "other"), ("4", "eas-\u212aey")):
        records.insert("v", "incidents", {"correlation_id": value}, key=key)
    records.insert("v", "incidents", {}, key="5")

    found = records.find("v", "incidents", equal_ignoring_case={"correlation_id": "EAS-KEY"})
    # "\u212a" (the Kelvin sign) is not ASCII: kept for the caller, whose str.lower() folds it to "k".
    assert [row["correlation_id"] for row in found] == ["EAS-Key", "eas-key", "eas-\u212aey"]
    assert len(records.find("v", "incidents", equal_ignoring_case={"correlation_id": "caf\u00e9"})) == 5


def test_find_asking_for_a_nul_character_matches_nothing_and_does_not_fail(records):
    _invoices(records)

    assert records.find("v", "invoices", {"party": "A\x00"}) == []
    assert [row["id"] for row in records.find("v", "invoices", any_of=[{"id": "\x00"}, {"id": "2"}])] == ["2"]
    assert records.find("v", "invoices", equal_ignoring_case={"party": "a\x00"}) == []


def _plan_of_find(records, *args, **kwargs) -> str:
    """PostgreSQL's plan for the query ``records.find`` sends (captured as sent, then EXPLAINed)."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sa.event.listen(records.engine, "before_cursor_execute", capture)
    try:
        records.find(*args, **kwargs)
    finally:
        sa.event.remove(records.engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    with records.engine.connect() as conn:
        return "\n".join(conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())


def test_containment_is_answered_from_the_gin_index_even_without_statistics(records):
    """A burst of inserts outruns ANALYZE: the plan must not read the whole collection anyway."""
    with records.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sandbox_records (vendor, collection, key, body) "
                "SELECT 'v', 'invoices', g::text, jsonb_build_object('party', 'P' || (g % 500), "
                "'items', jsonb_build_array(jsonb_build_object('PurchaseOrder', 'PO-' || g))) "
                "FROM generate_series(1, 5000) g"
            )
        )
    alternatives = [{"items": [{"PurchaseOrder": "PO-7"}]}, {"items": [{"PurchaseOrder": "PO-8"}]}]

    plan = _plan_of_find(records, "v", "invoices", any_of=alternatives)
    assert "sandbox_records_body_path_ops" in plan, plan
    assert "sandbox_records_body_path_ops" in _plan_of_find(records, "v", "invoices", {"party": "P7"})
    found = records.find("v", "invoices", any_of=alternatives)
    assert [row["items"][0]["PurchaseOrder"] for row in found] == ["PO-7", "PO-8"]


def test_an_older_database_gets_the_index(records):
    with records.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX sandbox_records_body_path_ops")
    Records(records.engine.url.render_as_string(hide_password=False)).close()
    with records.engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'sandbox_records'")
        assert "sandbox_records_body_path_ops" in set(names.scalars())
