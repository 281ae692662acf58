"""Who an access request is about: the person's work e-mail and department, from the request and BambooHR.

Every managed system keys accounts by work e-mail. A request names the person by e-mail ("disable
dana.smith@example.com in Slack") or by name ("revoke all access for Dana Smith"), or not at all
("I need access to Jira": the requester, when the requester is an e-mail). BambooHR, the HR system of
record, turns a name into the work e-mail and gives the department the access policy asks about; a
person it does not know (a contractor named by e-mail) keeps the e-mail and has no department.
"""

from __future__ import annotations

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.agents.hr.people import find_employee
from eas_pipelines.agents.security.accounts import Person
from eas_pipelines.connectors.bamboohr import BambooHRClient, Employee


def person_of(employee: Employee) -> Person | None:
    if not employee.work_email:
        return None
    return Person(
        employee.work_email.lower(), employee.first_name, employee.last_name, employee.department, employee.id
    )


def identify(item: WorkItem, bamboohr: BambooHRClient) -> tuple[Person | None, str]:
    """The person the request is about, and how they were named (for a refusal naming who was not found)."""
    email = item.value("email")
    if email:
        known = bamboohr.employee_by_name_or_email(str(email))
        return (person_of(known) if known else None) or Person.from_email(str(email)), str(email)
    name = item.value("employee")
    if name:
        known = find_employee(bamboohr, str(name))
        return (person_of(known) if known else None), str(name)
    if "@" in item.requester:
        known = bamboohr.employee_by_name_or_email(item.requester)
        return (person_of(known) if known else None) or Person.from_email(item.requester), item.requester
    return None, item.requester
