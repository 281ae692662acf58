"""One test's people in the BambooHR emulator, for the HR, leave and approval-escalation tests."""

from __future__ import annotations

import uuid
from datetime import date

from eas_pipelines.connectors.bamboohr import BambooHRResource, Employee, TimeOffRequest
from eas_sandbox.vendors import bamboohr as bamboohr_emulator


class Staff:
    """One test's people in the BambooHR emulator, hired through the connector's client.

    The supervisor and the balances go straight into the emulator's employee record, in the layout
    its seed uses (``supervisor``/``supervisorId``/``supervisorEmail``, ``_balances`` in days by
    lower-case type name): BambooHR's API has no call that sets them.
    """

    def __init__(self, sandbox_session, redis_url: str, breaker_prefix: str):
        env = sandbox_session.env
        self.records = sandbox_session.sandbox.records
        self.client = BambooHRResource(
            base_url=env["EAS_BAMBOOHR_URL"],
            api_key=env["EAS_BAMBOOHR_API_KEY"],
            ca_bundle=sandbox_session.ca_bundle,
            redis_url=redis_url,
            breaker_prefix=breaker_prefix,
        ).client()
        self.tag = uuid.uuid4().hex[:6].upper()

    def hire(
        self,
        first: str,
        last: str,
        balances: dict[str, float] | None = None,
        manager: Employee | None = None,
    ) -> Employee:
        """``first last<TAG>``, work email ``first.last.<tag>@example.com``: agent id ``first.last.<tag>``."""
        hired = self.client.add_employee(
            first,
            f"{last}{self.tag}",
            f"{first}.{last}.{self.tag}@example.com".lower(),
            "Tester",
            "Engineering",
            date(2024, 1, 8),
            idempotency_key=f"test-hire-{self.tag}-{first}",
        )
        row = self.records.get(bamboohr_emulator.NAME, "employees", str(hired.id))
        row["_balances"] = {kind: float(days) for kind, days in (balances or {}).items()}
        if manager is not None:
            row |= {
                "supervisor": manager.full_name,
                "supervisorId": str(manager.id),
                "supervisorEmail": manager.work_email,
            }
        self.records.put(bamboohr_emulator.NAME, "employees", str(hired.id), row)
        employee = self.client.employee(hired.id)
        assert employee is not None
        return employee

    def balance(self, employee: Employee, time_off_type: str = "Vacation") -> float:
        return next(b.balance for b in self.client.balances(employee.id) if b.name == time_off_type)

    def time_off(self, employee: Employee, start: date, end: date) -> list[TimeOffRequest]:
        """The employee's requests overlapping ``start``..``end`` (BambooHR's "Who's out")."""
        return self.client.time_off_requests(start, end, employee_id=employee.id)
