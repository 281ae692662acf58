"""Verifying the audit log's hash chain: which row, if any, no longer follows from the one before it.

The database computes each row's hash when it is inserted (``eas_audit_entry_hash``, migration
0004); verification asks the same function to recompute it from the row as it is *now* and walks
the rows in ``seq`` order, checking three things per row:

- ``seq`` is the previous row's + 1 (a deleted row leaves a gap);
- ``prev_hash`` is the previous row's ``hash`` (a row removed or re-inserted elsewhere);
- ``hash`` is the recomputed hash (a row whose content, or stored hash, was changed).

Rows are read in pages, so a long log is verified in bounded memory; ``after`` resumes from a
checkpoint (a ``seq`` and its hash verified earlier), so a scheduled check need not re-read years
of history each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text

GENESIS = "0" * 64
PAGE = 5000

_PAGE_SQL = text(
    """
    SELECT seq, id, request_id, action, prev_hash, hash,
           eas_audit_entry_hash(prev_hash, seq, id, at, request_id, actor, action, detail) AS recomputed
    FROM audit_log
    WHERE seq > :after
    ORDER BY seq
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class ChainBreak:
    """The first row that does not follow: where it is and what is wrong with it."""

    seq: int
    entry_id: int
    request_id: str | None
    action: str
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of one verification: how far it got and the first break, if any."""

    checked: int
    head_seq: int
    head_hash: str
    first_break: ChainBreak | None = None
    breaks: int = 0
    sample: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify_chain(
    engine: Engine, *, after: tuple[int, str] | None = None, page: int = PAGE, max_breaks: int = 20
) -> ChainReport:
    """Walk the chain from the start (or from checkpoint ``after`` = (seq, hash)) to its head.

    Every break is counted; the first ``max_breaks`` are kept in ``sample``. After a broken row the
    walk goes on from the row as stored, so one tampered row is reported once, not as a cascade.
    """
    last_seq, last_hash = after if after is not None else (0, GENESIS)
    checked = 0
    found: list[ChainBreak] = []
    count = 0
    with engine.connect() as connection:
        while True:
            rows = connection.execute(_PAGE_SQL, {"after": last_seq, "limit": page}).all()
            if not rows:
                break
            for row in rows:
                problems = []
                if row.seq != last_seq + 1:
                    problems.append(
                        f"seq {row.seq} follows {last_seq}: {row.seq - last_seq - 1} row(s) missing"
                    )
                if row.prev_hash != last_hash:
                    problems.append("prev_hash is not the previous row's hash")
                if row.hash != row.recomputed:
                    problems.append("content does not match its hash (the row was changed)")
                if problems:
                    count += 1
                    if len(found) < max_breaks:
                        found.append(
                            ChainBreak(row.seq, row.id, row.request_id, row.action, "; ".join(problems))
                        )
                last_seq, last_hash = row.seq, row.hash
                checked += 1
    return ChainReport(
        checked=checked,
        head_seq=last_seq,
        head_hash=last_hash,
        first_break=found[0] if found else None,
        breaks=count,
        sample=found,
    )
