"""People as the agents name them, looked up in BambooHR (the HR system of record).

BambooHR numbers its employees (``101``); approvals, audit entries and messages need an id a person
can read and that stays the same wherever the person is named. That id is the work email's local
part ("dana.smith" for dana.smith@example.com; :func:`person_id`), and the numeric id is kept only
for BambooHR's own API calls. The org chart (who approves whose leave, who is next when an approver
does not answer) is BambooHR's supervisor field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from eas_pipelines.agents.hr.leave import employee_key
from eas_pipelines.connectors.bamboohr import BambooHRClient, Employee


def person_id(employee: Employee) -> str:
    """The agent's id of an employee: the work email's local part ("dana.smith"), lower-cased.

    A person without a work email (BambooHR allows it) gets one made from the full name the same way.
    """
    if employee.work_email and "@" in employee.work_email:
        return employee.work_email.partition("@")[0].strip().lower()
    return employee_key(employee.full_name)


def contact_of(employee: Employee) -> str:
    """Where to write to an employee: the work email, else the readable id (the mail domain is added)."""
    return employee.work_email or person_id(employee)


class OrgChart:
    """The company directory indexed by the agent's ids and by BambooHR's, read once when first needed.

    The escalation job looks up many approvers per tick; one directory call serves them all, and a
    tick with only role approvers ("finance_manager") does not call BambooHR at all.
    """

    def __init__(self, load: Callable[[], Iterable[Employee]]):
        self._load = load
        self._by_id: dict[str, Employee] | None = None
        self._by_number: dict[int, Employee] = {}

    @classmethod
    def of(cls, client: BambooHRClient) -> OrgChart:
        return cls(client.directory)

    def _index(self) -> dict[str, Employee]:
        if self._by_id is None:
            people = list(self._load())
            self._by_id = {person_id(person): person for person in people}
            self._by_number = {person.id: person for person in people}
        return self._by_id

    def person(self, employee_id: str) -> Employee | None:
        """The employee whose readable id is ``employee_id`` ("dana.smith"), else None."""
        return self._index().get(employee_id.strip().lower())

    def manager_of(self, employee: Employee) -> Employee | None:
        """The employee's supervisor, else None (the top of the chart, or a supervisor who left)."""
        self._index()
        return self._by_number.get(employee.supervisor_id) if employee.supervisor_id is not None else None


def find_employee(client: BambooHRClient, text: str) -> Employee | None:
    """The employee a request names: by work email, full name or a unique partial name (BambooHR's
    look-up), else by the agent's readable id ("dana.smith"); None when nobody matches."""
    found = client.employee_by_name_or_email(text)
    if found is None and text.strip() and " " not in text.strip() and "@" not in text:
        found = OrgChart.of(client).person(text)
    return found


def manager_of(client: BambooHRClient, employee: Employee) -> Employee | None:
    """The employee's supervisor as BambooHR has them (with their work email), else None."""
    return client.employee(employee.supervisor_id) if employee.supervisor_id is not None else None
