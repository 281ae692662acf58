"""The emulators' records, kept in PostgreSQL (one JSON document per record).

Every vendor stores its objects (incidents, purchase orders, time-off requests...) as documents in
one table keyed by vendor, collection and key, so adding an emulator needs no migration. The
serial ``seq`` gives each record its creation order, which the emulators use for paging and for
the numbers a vendor assigns (INC0010001, 4500000001...).

Lookups by a field go through :meth:`Records.find` (JSONB containment, served by a GIN index) rather
than :meth:`Records.all` and a Python filter, so a query costs what it finds, not the size of the
collection: an emulator's answer stays as fast in a benchmark's thousandth request as in its first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
records_table = sa.Table(
    "sandbox_records",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("vendor", sa.Text, nullable=False),
    sa.Column("collection", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    sa.UniqueConstraint("vendor", "collection", "key"),
    # ``body @> '{...}'`` (Records.find): jsonb_path_ops indexes each path-to-value as one hash, the
    # smallest GIN form, and containment is the only operator the emulators need it for. Without
    # fastupdate each insert goes straight into the tree: with it, a burst of inserts queues in a
    # pending list that every query scans whole (and that makes the planner shun the index), the
    # O(records) read this index is here to avoid.
    sa.Index(
        "sandbox_records_body_path_ops",
        "body",
        postgresql_using="gin",
        postgresql_ops={"body": "jsonb_path_ops"},
        postgresql_with={"fastupdate": "off"},
    ),
)

_VENDOR_COLLECTION_STATISTICS = sa.DDL(
    "CREATE STATISTICS IF NOT EXISTS sandbox_records_vendor_collection (mcv) "
    "ON vendor, collection FROM sandbox_records"
)
"""Each collection belongs to one vendor: without this the planner multiplies the two selectivities,
takes a collection for a fraction of its size and prefers scanning it whole to the GIN index."""

Body = dict[str, Any]


def _holds_nul(value: Any) -> bool:
    """Whether ``value`` has U+0000 somewhere: no record can (jsonb and text refuse it), nor can a query.

    A condition asking for it matches nothing, and is answered so rather than sent (which would fail).
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class RecordExists(Exception):
    """A record with this vendor, collection and key is already stored."""


class Records:
    """The emulators' document store; thread-safe (each call is its own transaction)."""

    def __init__(self, database_url: str):
        self.engine = sa.create_engine(database_url, pool_pre_ping=True)
        metadata.create_all(self.engine)
        self._add_query_support()

    def _add_query_support(self) -> None:
        """The index and statistics :meth:`find` relies on, also in a database made before they were.

        ``create_all`` skips an existing table whole, indexes included.
        """
        with self._tx() as conn:
            for index in records_table.indexes:
                index.create(conn, checkfirst=True)
            conn.execute(_VENDOR_COLLECTION_STATISTICS)

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    def insert(self, vendor: str, collection: str, body: Body, key: str | Callable[[int], str]) -> Body:
        """Store ``body`` under ``key`` (or ``key(seq)``, for keys the vendor numbers); return it."""
        with self._tx() as conn:
            seq = conn.execute(sa.select(sa.func.nextval(sa.text("'sandbox_records_seq_seq'")))).scalar_one()
            record_key = key(seq) if callable(key) else key
            try:
                with conn.begin_nested():
                    conn.execute(
                        records_table.insert().values(
                            seq=seq, vendor=vendor, collection=collection, key=record_key, body=body
                        )
                    )
            except sa.exc.IntegrityError as exc:
                raise RecordExists(f"{vendor}/{collection}/{record_key}") from exc
        return body

    def get(self, vendor: str, collection: str, key: str) -> Body | None:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(records_table.c.body).where(*self._where(vendor, collection, key))
            ).first()
        return None if row is None else dict(row.body)

    def put(self, vendor: str, collection: str, key: str, body: Body) -> Body:
        """Create or replace the record under ``key``."""
        with self._tx() as conn:
            updated = conn.execute(
                records_table.update().where(*self._where(vendor, collection, key)).values(body=body)
            ).rowcount
            if not updated:
                row = {"vendor": vendor, "collection": collection, "key": key, "body": body}
                conn.execute(records_table.insert().values(**row))
        return body

    def delete(self, vendor: str, collection: str, key: str) -> bool:
        with self._tx() as conn:
            deleted = conn.execute(records_table.delete().where(*self._where(vendor, collection, key)))
            return bool(deleted.rowcount)

    def all(self, vendor: str, collection: str) -> list[Body]:
        """Every record of a collection, in creation order."""
        return self.find(vendor, collection)

    def find(
        self,
        vendor: str,
        collection: str,
        contains: Body | None = None,
        *,
        any_of: Sequence[Body] | None = None,
        equal_ignoring_case: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Body]:
        """The records of a collection that match, in creation order, filtered by PostgreSQL.

        ``contains``: the document must contain it (JSONB ``@>``: ``{"a": "x"}`` matches a record whose
        top-level ``a`` is ``"x"``, ``{"items": [{"po": "1"}]}`` one with some element of ``items``
        holding ``po = "1"``). ``any_of``: it must contain at least one of these (none: no record).
        ``equal_ignoring_case``: see :meth:`_equal_ignoring_case`. The conditions are joined by "and".
        ``limit``/``offset`` page the matches.
        """
        statement = (
            sa.select(records_table.c.body)
            .where(*self._matching(vendor, collection, contains, any_of, equal_ignoring_case))
            .order_by(records_table.c.seq)
            .limit(limit)
        )
        if offset:
            statement = statement.offset(offset)
        with self._tx() as conn:
            rows = conn.execute(statement).all()
        return [dict(row.body) for row in rows]

    def count_matching(
        self,
        vendor: str,
        collection: str,
        contains: Body | None = None,
        *,
        any_of: Sequence[Body] | None = None,
        equal_ignoring_case: Mapping[str, str] | None = None,
    ) -> int:
        """How many records :meth:`find` would answer without ``limit``/``offset``."""
        with self._tx() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(records_table)
                .where(*self._matching(vendor, collection, contains, any_of, equal_ignoring_case))
            ).scalar_one()

    def count(self, vendor: str, collection: str) -> int:
        return self.count_matching(vendor, collection)

    def reset(self, vendor: str | None = None) -> None:
        """Forget every record (of one vendor, or of all)."""
        with self._tx() as conn:
            statement = records_table.delete()
            if vendor is not None:
                statement = statement.where(records_table.c.vendor == vendor)
            conn.execute(statement)

    @classmethod
    def _matching(
        cls,
        vendor: str,
        collection: str,
        contains: Body | None,
        any_of: Sequence[Body] | None,
        equal_ignoring_case: Mapping[str, str] | None,
    ) -> list[sa.ColumnElement[bool]]:
        body = records_table.c.body
        clauses = cls._scope(vendor, collection, by_key_index=not contains and any_of is None)
        if contains:
            clauses.append(sa.false() if _holds_nul(contains) else body.contains(contains))
        if any_of is not None:
            alternatives = [body.contains(document) for document in any_of if not _holds_nul(document)]
            clauses.append(sa.or_(*alternatives) if alternatives else sa.false())
        for field, value in (equal_ignoring_case or {}).items():
            clauses.append(cls._equal_ignoring_case(field, value))
        return clauses

    @staticmethod
    def _scope(vendor: str, collection: str, *, by_key_index: bool) -> list[sa.ColumnElement[bool]]:
        """``vendor = :vendor AND collection = :collection``, hidden from the key index under containment.

        Statistics go stale in a burst of inserts (and never refresh where autovacuum is off); the
        planner then takes a grown collection for a few rows and reads all of it through the (vendor,
        collection, key) index, filtering each document, instead of asking the GIN index for the matches.
        ``vendor || ''`` means the same but no index serves it, which leaves the GIN index (or, on a tiny
        table, a sequential scan).
        """
        if by_key_index:
            return [records_table.c.vendor == vendor, records_table.c.collection == collection]
        return [
            records_table.c.vendor.concat("") == vendor,
            records_table.c.collection.concat("") == collection,
        ]

    @staticmethod
    def _equal_ignoring_case(field: str, value: str) -> sa.ColumnElement[bool]:
        """Top-level ``field``, as text, equals ``value`` with ASCII letters folded: a superset, re-check it.

        Folding stays ASCII (``COLLATE "C"``) so the answer does not hang on the database's locale (a
        Turkish one lowers "I" to "ı"). Texts holding other characters are all kept, as is every record for
        a non-ASCII ``value``: Python's ``str.lower`` maps some of those onto ASCII (the Kelvin sign onto
        "k"), so only the caller's own comparison can decide them. No index serves this (a scan of the
        collection in PostgreSQL, still far cheaper than decoding every document in Python).
        """
        if _holds_nul(value):
            return sa.false()
        if not value.isascii():
            return sa.true()
        text = records_table.c.body[field].astext
        folded = sa.func.lower(text.collate("C")) == sa.func.lower(sa.literal(value).collate("C"))
        return sa.or_(folded, sa.func.octet_length(text) != sa.func.length(text))

    @staticmethod
    def _where(vendor: str, collection: str, key: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (
            records_table.c.vendor == vendor,
            records_table.c.collection == collection,
            records_table.c.key == key,
        )

    def close(self) -> None:
        self.engine.dispose()
