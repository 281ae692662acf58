"""The emulators' records, kept in PostgreSQL (one JSON document per record).

Every vendor stores its objects (incidents, purchase orders, time-off requests...) as documents in
one table keyed by vendor, collection and key, so adding an emulator needs no migration. The
serial ``seq`` gives each record its creation order, which the emulators use for paging and for
the numbers a vendor assigns (INC0010001, 4500000001...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
)

Body = dict[str, Any]


class RecordExists(Exception):
    """A record with this vendor, collection and key is already stored."""


class Records:
    """The emulators' document store; thread-safe (each call is its own transaction)."""

    def __init__(self, database_url: str):
        self.engine = sa.create_engine(database_url, pool_pre_ping=True)
        metadata.create_all(self.engine)

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
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(records_table.c.body)
                .where(records_table.c.vendor == vendor, records_table.c.collection == collection)
                .order_by(records_table.c.seq)
            ).all()
        return [dict(row.body) for row in rows]

    def count(self, vendor: str, collection: str) -> int:
        with self._tx() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(records_table)
                .where(records_table.c.vendor == vendor, records_table.c.collection == collection)
            ).scalar_one()

    def reset(self, vendor: str | None = None) -> None:
        """Forget every record (of one vendor, or of all)."""
        with self._tx() as conn:
            statement = records_table.delete()
            if vendor is not None:
                statement = statement.where(records_table.c.vendor == vendor)
            conn.execute(statement)

    @staticmethod
    def _where(vendor: str, collection: str, key: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (
            records_table.c.vendor == vendor,
            records_table.c.collection == collection,
            records_table.c.key == key,
        )

    def close(self) -> None:
        self.engine.dispose()
