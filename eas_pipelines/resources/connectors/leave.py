"""The HR system: the org chart (who approves whose leave) and leave balances.

Balances are kept per employee and pool. "pto" and "annual" draw on the vacation pool; parental,
bereavement, unpaid leave and jury duty are statutory or unpaid and have no balance to check
(:meth:`SandboxLeaveLedger.balance` returns ``None`` for them). In the sandbox an employee the
seeded org chart does not know is given the default yearly entitlement on first look-up, so a
demo request from anybody works; a real HRIS would answer "unknown employee" instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Protocol

from sqlalchemy import Engine, RowMapping, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from eas_pipelines.resources.circuit import ConnectorRejected
from eas_pipelines.resources.connectors.base import ConnectorResource
from eas_pipelines.resources.connectors.tables import employees, leave_balances, leave_debits

POOLS: dict[str, str] = {"pto": "vacation", "annual": "vacation", "holiday": "vacation"}
UNTRACKED: frozenset[str] = frozenset({"parental", "bereavement", "unpaid", "jury_duty"})
DEFAULT_ENTITLEMENT: dict[str, float] = {"vacation": 20.0, "sick": 10.0, "personal": 3.0}


def pool_of(leave_type: str) -> str:
    """The balance a leave type draws on ("pto" -> "vacation")."""
    return POOLS.get(leave_type, leave_type)


def employee_key(name: str) -> str:
    """An id for a person the org chart does not know: "Dana Lee" -> "dana.lee"."""
    return ".".join(re.sub(r"[^a-z0-9 ]+", " ", name.lower()).split()) or name.lower()


@dataclass(frozen=True)
class Employee:
    employee_id: str
    display_name: str
    email: str | None
    title: str | None
    manager_id: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> Employee:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class LeaveBalance:
    employee_id: str
    leave_type: str
    balance_days: float


class InsufficientBalance(ConnectorRejected):
    def __init__(self, employee_id: str, leave_type: str, requested: float, available: float) -> None:
        self.requested = requested
        self.available = available
        super().__init__(f"{employee_id} has {available:g} {leave_type} day(s) left, {requested:g} requested")


class LeaveLedger(Protocol):
    def find_employee(self, name_or_id: str) -> Employee | None: ...

    def employee(self, employee_id: str) -> Employee | None: ...

    def balance(self, employee_id: str, leave_type: str) -> LeaveBalance | None: ...

    def debit(
        self,
        employee_id: str,
        leave_type: str,
        days: float,
        start: date,
        end: date,
        *,
        request_id: str | None,
        idempotency_key: str,
    ) -> LeaveBalance: ...


class SandboxLeaveLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find_employee(self, name_or_id: str) -> Employee | None:
        """By id, full name, email or (when unique) first name, case-insensitively."""
        needle = name_or_id.strip().lower()
        query = select(employees).where(
            or_(
                func.lower(employees.c.employee_id) == needle,
                func.lower(employees.c.display_name) == needle,
                func.lower(employees.c.email) == needle,
            )
        )
        first_name = select(employees).where(func.lower(employees.c.display_name).startswith(needle + " "))
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
            if row is None and " " not in needle:
                matches = conn.execute(first_name.limit(2)).mappings().all()
                row = matches[0] if len(matches) == 1 else None
        return Employee.from_row(row) if row is not None else None

    def employee(self, employee_id: str) -> Employee | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(employees).where(employees.c.employee_id == employee_id))
                .mappings()
                .first()
            )
        return Employee.from_row(row) if row is not None else None

    def balance(self, employee_id: str, leave_type: str) -> LeaveBalance | None:
        pool = pool_of(leave_type)
        if pool in UNTRACKED:
            return None
        with self._engine.begin() as conn:
            self._provision(conn, employee_id)
            row = conn.execute(
                select(leave_balances.c.balance_days).where(
                    leave_balances.c.employee_id == employee_id, leave_balances.c.leave_type == pool
                )
            ).first()
        return LeaveBalance(employee_id, pool, float(row[0]) if row is not None else 0.0)

    def debit(
        self,
        employee_id: str,
        leave_type: str,
        days: float,
        start: date,
        end: date,
        *,
        request_id: str | None,
        idempotency_key: str,
    ) -> LeaveBalance:
        """Take ``days`` off the balance once per ``idempotency_key``, refusing to go below zero."""
        pool = pool_of(leave_type)
        with self._engine.begin() as conn:
            recorded = conn.execute(
                insert(leave_debits)
                .values(
                    idempotency_key=idempotency_key,
                    request_id=request_id,
                    employee_id=employee_id,
                    leave_type=pool,
                    days=days,
                    start_date=start,
                    end_date=end,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(leave_debits.c.id)
            ).first()
            if pool in UNTRACKED:
                return LeaveBalance(employee_id, pool, 0.0)
            self._provision(conn, employee_id)
            current = conn.execute(
                select(leave_balances.c.balance_days)
                .where(leave_balances.c.employee_id == employee_id, leave_balances.c.leave_type == pool)
                .with_for_update()
            ).first()
            available = float(current[0]) if current is not None else 0.0
            if recorded is None:  # already debited by an earlier try of this step
                return LeaveBalance(employee_id, pool, available)
            if available < days:
                raise InsufficientBalance(employee_id, pool, days, available)
            conn.execute(
                update(leave_balances)
                .where(leave_balances.c.employee_id == employee_id, leave_balances.c.leave_type == pool)
                .values(balance_days=leave_balances.c.balance_days - days, updated_at=func.now())
            )
            return LeaveBalance(employee_id, pool, round(available - days, 2))

    def _provision(self, conn, employee_id: str) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
        """Give an employee with no balances at all the default entitlement (sandbox only)."""
        has_any = conn.execute(
            select(leave_balances.c.employee_id).where(leave_balances.c.employee_id == employee_id).limit(1)
        ).first()
        if has_any is None:
            conn.execute(
                insert(leave_balances)
                .values(
                    [
                        {"employee_id": employee_id, "leave_type": pool, "balance_days": days}
                        for pool, days in DEFAULT_ENTITLEMENT.items()
                    ]
                )
                .on_conflict_do_nothing()
            )


class LeaveLedgerResource(ConnectorResource):
    """The HR system connector (``leave_ledger`` circuit breaker)."""

    connector: ClassVar[str] = "leave_ledger"

    def client(self) -> LeaveLedger:
        return super().client()

    def _sandbox(self) -> LeaveLedger:
        return SandboxLeaveLedger(self.engine)

    def find_employee(self, name_or_id: str) -> Employee | None:
        return self._call(self.client().find_employee, name_or_id)

    def employee(self, employee_id: str) -> Employee | None:
        return self._call(self.client().employee, employee_id)

    def balance(self, employee_id: str, leave_type: str) -> LeaveBalance | None:
        return self._call(self.client().balance, employee_id, leave_type)

    def debit(
        self,
        employee_id: str,
        leave_type: str,
        days: float,
        start: date,
        end: date,
        *,
        request_id: str | None,
        idempotency_key: str,
    ) -> LeaveBalance:
        return self._call(
            self.client().debit,
            employee_id,
            leave_type,
            days,
            start,
            end,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )
