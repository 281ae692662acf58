"""HR agent: the questions people ask HR, answered from the systems of record.

``hr_leave_balance`` (BambooHR's time-off calculator): who -> their balances -> answer -> succeeded.
``hr_payroll_question`` (ADP Workforce Now's workers and pay statements): who and what about ->
approval when it asks for a change -> answer (or hand the approved change to payroll) -> succeeded.

Both answer about one person: the one the request names, else the requester. Pay and leave are
personal: somebody else's are told only to that person's manager as the system of record has them
(BambooHR's supervisor, ADP's ``reportsTo``); anyone else is refused, naming the rule. A question
about a whole team or department is refused too: the answer would be a report, not a reply.

Payroll questions are sorted by their words (:func:`payroll_topic`): a *change* (direct deposit,
tax withholding, a W-4) is never made by EAS: it waits for the payroll administrator's approval and
is then handed to the payroll team with the employee's details (ADP's pay-distribution and
withholding changes need the employee's bank and tax data, which a sentence does not carry). The
other topics are answered from the pay statements: the next payday (the pay cycle continued from
the last pay dates), the latest statement's gross, net and deductions, and the year's totals that
a W-2 will show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.hr.jobs import not_found_reason
from eas_pipelines.agents.hr.leave import time_off_type
from eas_pipelines.agents.hr.people import contact_of, find_employee, manager_of, person_id
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.adp import ADPClient, ADPResource, PayStatement
from eas_pipelines.connectors.adp import Worker as ADPWorker
from eas_pipelines.connectors.bamboohr import BambooHRResource, Employee
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.runs import now_utc

BALANCE_JOB = ROUTES["hr.leave_balance"].job or "hr_leave_balance"
PAYROLL_JOB = ROUTES["hr.payroll_question"].job or "hr_payroll_question"
PAYROLL_ADMIN = ROUTES["hr.payroll_question"].approver_role or "payroll_admin"
PAYROLL_CHANNEL = "#payroll"
STATEMENTS_PER_YEAR = 27
"""Pay statements asked of ADP for a year's totals (a biweekly year has 26 or 27 pay dates)."""

_CHANGE = re.compile(
    r"\b(?:change|update|switch(?:ed)?|increase|lower|new bank|submit)\b.*\b(?:direct deposit|"
    r"withholding|w-?4|bank)\b|\b(?:direct deposit|withholding|w-?4)\b.*\b(?:change|update)\b",
    re.IGNORECASE,
)
_PAYDAY = re.compile(r"\b(?:payday|get paid|paid (?:early|this month)|next pay(?:check)?|pay date)\b", re.I)
_YEAR_END = re.compile(r"\b(?:w-?2|1099|tax form|year-end tax statement|p60)\b", re.IGNORECASE)
_STATEMENT = re.compile(r"\b(?:pay ?stub|pay ?slip|earnings statement)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(?:my team|our team|everyone|department)\b", re.IGNORECASE)


def may_see(requester: str, person: set[str], manager: set[str]) -> bool:
    """Whether ``requester`` may be told a person's pay or leave: it is them, or their manager.

    ``person`` and ``manager`` are the ids each is known by (work email, readable id), lower-cased.
    """
    who = requester.strip().lower()
    return bool(who) and (who in person or who in manager)


def _ids(*values: str | None) -> set[str]:
    found = {v.strip().lower() for v in values if v}
    return found | {v.partition("@")[0] for v in found if "@" in v}


def asks_about_a_group(item: WorkItem) -> bool:
    return bool(item.values("department")) or bool(_GROUP.search(item.text))


# --------------------------------------------------------------------------- leave balance


@dataclass(frozen=True)
class BalanceQuestion:
    item: WorkItem
    employee_id: int
    employee_name: str
    contact: str
    as_of: date
    leave_type: str | None
    balances: tuple[tuple[str, float, float], ...] = field(default_factory=tuple)
    """(time-off type, days left, days used this year)."""

    def with_(self, **changes: Any) -> BalanceQuestion:
        return replace(self, **changes)


def balance_date(item: WorkItem, today: date) -> date:
    """The day the balance is asked for: a date entity ("by March 3"), else today."""
    for value in item.values("date"):
        if isinstance(value, str):
            return max(date.fromisoformat(value), today)
    return today


@workflow_step(BalanceQuestion)
def read_balance_question(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """Whose balance (the named employee, else the requester), of what type, on which day; who may know."""
    if asks_about_a_group(item) and not item.value("employee"):
        return Step.refused("leave balances are answered per person: name the employee")
    name = str(item.value("employee") or item.requester)
    client = bamboohr.client()
    employee = find_employee(client, name)
    if employee is None:
        return Step.refused(not_found_reason(item, name), employee=name)
    manager: Employee | None = manager_of(client, employee)
    person = _ids(employee.work_email, person_id(employee))
    boss = _ids(manager.work_email, person_id(manager)) if manager is not None else set()
    if not may_see(item.requester, person, boss):
        return Step.refused(
            f"{employee.full_name}'s leave balance is told to them and their manager only",
            employee=person_id(employee),
        )
    question = BalanceQuestion(
        item=item,
        employee_id=employee.id,
        employee_name=employee.full_name,
        contact=contact_of(employee) if item.requester.lower() in person else item.requester,
        as_of=balance_date(item, now_utc().date()),
        leave_type=item.value("leave_type"),
    )
    return Step.passed(
        question,
        "leave_balance.asked",
        employee_id=person_id(employee),
        leave_type=question.leave_type,
        as_of=question.as_of.isoformat(),
    )


@workflow_step(BalanceQuestion)
def read_leave_balances(question: BalanceQuestion, *, bamboohr: BambooHRResource) -> Step:
    """BambooHR's time-off calculator on the day asked; only the asked type when one is named."""
    rows = bamboohr.client().balances(question.employee_id, as_of=question.as_of)
    balances = [(row.name, row.balance, row.used_year_to_date) for row in rows]
    if question.leave_type:
        wanted = time_off_type(question.leave_type).lower()
        balances = [b for b in balances if b[0].lower() == wanted]
        if not balances:
            return Step.refused(
                f"{question.employee_name} has no {question.leave_type} time-off type in BambooHR "
                f"(they have {', '.join(row.name for row in rows) or 'none'})"
            )
    return Step.passed(
        question.with_(balances=tuple(balances)),
        "leave_balance.read",
        balances={name: left for name, left, _ in balances},
    )


@workflow_step(WorkResult, optional=False)
def answer_leave_balance(question: BalanceQuestion, *, notifications: NotificationsResource) -> Step:
    """Send the balances to whoever asked."""
    item = question.item
    lines = [
        f"{name}: {left:g} day(s) left ({used:g} used this year)" for name, left, used in question.balances
    ]
    body = f"{question.employee_name}'s time off as of {question.as_of}:\n" + "\n".join(lines)
    recipients = notify_all(
        notifications,
        item,
        [question.contact],
        f"Leave balance: {question.employee_name}",
        body,
        key="balance",
    )
    summary = f"{question.employee_name}: " + ", ".join(f"{n} {left:g}" for n, left, _ in question.balances)
    detail = {"balances": {name: left for name, left, _ in question.balances}}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


hr_leave_balance = workflow_job(
    name=BALANCE_JOB,
    agent="hr",
    description="Answer a leave balance question from BambooHR's time-off calculator.",
    steps=(read_balance_question, read_leave_balances, answer_leave_balance),
)


# --------------------------------------------------------------------------- payroll questions


@dataclass(frozen=True)
class PayrollQuestion:
    item: WorkItem
    topic: str
    """change | payday | year_end | statements | pay (see :func:`payroll_topic`)."""
    aoid: str
    worker_name: str
    contact: str
    answer: str = ""

    def with_(self, **changes: Any) -> PayrollQuestion:
        return replace(self, **changes)


def payroll_topic(item: WorkItem) -> str:
    """What a payroll question is about, from its words and pay-document entities."""
    text = item.text
    documents = " ".join(item.texts("document_type"))
    if _CHANGE.search(text):
        return "change"
    if _PAYDAY.search(text):
        return "payday"
    if _YEAR_END.search(documents) or _YEAR_END.search(text):
        return "year_end"
    if _STATEMENT.search(documents) or _STATEMENT.search(text):
        return "statements"
    return "pay"


def next_payday(statements: list[PayStatement], today: date) -> date | None:
    """The first pay date on or after ``today``, continuing the cycle of the last two pay dates."""
    dates = sorted({s.pay_date for s in statements})
    if len(dates) < 2:
        return None
    cycle = dates[-1] - dates[-2]
    if cycle <= timedelta(0):
        return None
    upcoming = dates[-1]
    while upcoming < today:
        upcoming += cycle
    return upcoming


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def payroll_answer(question: PayrollQuestion, client: ADPClient, today: date) -> str:
    """The answer to a question that changes nothing, from the worker's pay statements in ADP."""
    aoid = question.aoid
    if question.topic == "payday":
        statements = client.pay_statements(aoid, last_n=3)
        upcoming = next_payday(statements, today)
        if upcoming is None:
            return "ADP has too few pay statements to tell the pay cycle; payroll will confirm the payday."
        last = max(statements, key=lambda s: s.pay_date)
        return (
            f"The next payday is {upcoming:%A %d %B %Y} (the pay cycle continued from ADP). The last one "
            f"was {last.pay_date}, net {_money(last.net_pay, last.currency)}."
        )
    if question.topic == "year_end":
        year = today.year
        this_year = [
            s for s in client.pay_statements(aoid, last_n=STATEMENTS_PER_YEAR) if s.pay_date.year == year
        ]
        if not this_year:
            return f"ADP has no {year} pay statements for {question.worker_name} yet."
        tax = 0.0
        for statement in this_year:
            detail = client.pay_statement(aoid, statement.statement_id)
            tax += sum(d.amount for d in (detail.deductions if detail else []) if "tax" in d.name.lower())
        gross = sum(s.gross_pay for s in this_year)
        currency = this_year[0].currency
        return (
            f"The {year} W-2 is issued by ADP after the year ends. So far in {year} ({len(this_year)} pay "
            f"statements): gross {_money(gross, currency)}, income tax withheld {_money(tax, currency)}."
        )
    statements = client.pay_statements(aoid, last_n=3)
    if not statements:
        return f"ADP has no pay statements for {question.worker_name}."
    if question.topic == "statements":
        listed = "; ".join(
            f"{s.pay_date} (statement {s.statement_id}, net {_money(s.net_pay, s.currency)})"
            for s in statements
        )
        return f"Your latest pay statements in ADP: {listed}."
    latest = max(statements, key=lambda s: s.pay_date)
    detail = client.pay_statement(aoid, latest.statement_id)
    lines = [
        f"Pay statement of {latest.pay_date}: gross {_money(latest.gross_pay, latest.currency)}, "
        f"net {_money(latest.net_pay, latest.currency)}."
    ]
    if detail is not None:
        lines += [f"Earning {e.name}: {_money(e.amount, latest.currency)}" for e in detail.earnings]
        lines += [f"Deduction {d.name}: {_money(d.amount, latest.currency)}" for d in detail.deductions]
    lines.append("If something is missing or wrong, reply and payroll will look into it.")
    return "\n".join(lines)


def _adp_ids(worker: ADPWorker) -> set[str]:
    return _ids(worker.work_email, worker.personal_email, worker.full_name)


@workflow_step(PayrollQuestion)
def read_payroll_question(item: WorkItem, *, adp: ADPResource) -> Step:
    """Whose pay (the named employee, else the requester, as ADP knows them), what about, who may know."""
    if asks_about_a_group(item) and not item.value("employee"):
        return Step.refused("payroll questions are answered per person: name the employee")
    name = str(item.value("employee") or item.requester)
    client = adp.client()
    worker = client.worker_by_name_or_email(name)
    if worker is None:
        return Step.refused(f"{name!r} is not a worker in ADP (by work email or full name)", employee=name)
    manager = client.worker(worker.manager_aoid) if worker.manager_aoid else None
    person = _adp_ids(worker)
    topic = payroll_topic(item)
    boss = _adp_ids(manager) if manager is not None and topic != "change" else set()
    if not may_see(item.requester, person, boss):
        rule = "themselves" if topic == "change" else "them and their manager"
        return Step.refused(f"{worker.full_name}'s pay is discussed with {rule} only", topic=topic)
    question = PayrollQuestion(
        item=item,
        topic=topic,
        aoid=worker.associate_oid,
        worker_name=worker.full_name,
        contact=item.requester,
    )
    return Step.passed(question, "payroll.asked", topic=topic, associate_oid=worker.associate_oid)


@workflow_step(PayrollQuestion)
def approve_payroll_change(question: PayrollQuestion, *, policy: WorkflowPolicyResource) -> Step:
    """A change of pay details waits for the payroll administrator; questions go straight on."""
    if question.topic != "change":
        return Step.passed(question, "approval.not_required", topic=question.topic)
    return Step.needs_approval(
        approver=PAYROLL_ADMIN,
        reason=f"{question.worker_name} asks to change their pay details",
        deadline_hours=policy.approval_deadline_hours,
    )


@workflow_step(PayrollQuestion)
def answer_payroll_question(question: PayrollQuestion, *, adp: ADPResource) -> Step:
    """The answer from ADP's pay statements, or, for an approved change, what payroll will do."""
    if question.topic == "change":
        answer = (
            f'Your request was approved and handed to payroll: "{question.item.text}". Payroll will '
            "contact you for the new details and confirm once it is in ADP."
        )
    else:
        answer = payroll_answer(question, adp.client(), now_utc().date())
    return Step.passed(question.with_(answer=answer), "payroll.answered", topic=question.topic)


@workflow_step(WorkResult, optional=False)
def notify_payroll_answer(question: PayrollQuestion, *, notifications: NotificationsResource) -> Step:
    """Send the answer to the requester; an approved change also goes to the payroll team."""
    item = question.item
    recipients = notify_all(
        notifications, item, [question.contact], f"Payroll: {question.topic}", question.answer, key="payroll"
    )
    if question.topic == "change":
        recipients += notify_all(
            notifications,
            item,
            [PAYROLL_CHANNEL],
            f"Approved pay change for {question.worker_name}",
            f'{question.worker_name} (ADP {question.aoid}, {question.contact}) asked: "{item.text}". '
            "Approved; please make the change in ADP.",
            key="payroll_change",
        )
    summary = f"answered a {question.topic} question for {question.worker_name}"
    detail = {"topic": question.topic, "associate_oid": question.aoid}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


hr_payroll_question = workflow_job(
    name=PAYROLL_JOB,
    agent="hr",
    description="Answer a payroll question from ADP pay statements; pay-detail changes go to approval.",
    steps=(read_payroll_question, approve_payroll_change, answer_payroll_question, notify_payroll_answer),
)
