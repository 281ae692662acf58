"""HR agent: ``hr_leave_request``.

read the request (employee, dates, leave type) -> balance check -> policy (notice period,
blackout windows) -> manager approval (always) -> book it in BambooHR -> notify -> succeeded. The
balance and policy are checked before asking the manager (no point asking for leave that cannot be
granted) and again on the run after the approval, since time has passed; BambooHR itself checks
the balance once more when the leave is booked.

Everything about people and time off is BambooHR's (:mod:`eas_pipelines.connectors.bamboohr`): the
employee and their manager (the supervisor field), the balance (the time-off calculator), and the
booking, one approved time-off request, which both takes the days off the balance and puts the
leave on BambooHR's "Who's out" calendar. Somebody BambooHR does not know cannot take leave: the
request is refused naming who was not found (a request that names nobody is about the requester,
often an API client id such as "cli", who is not an employee either).
"""

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.hr.leave import (
    DEFAULT_LEAVE_TYPE,
    LeaveRequest,
    blackout_problem,
    leave_dates,
    notice_problem,
    pool_of,
    time_off_type,
    working_days,
)
from eas_pipelines.agents.hr.people import contact_of, find_employee, manager_of, person_id
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import CompletedStep
from eas_pipelines.connectors.bamboohr import Balance, BambooHRClient, BambooHRResource, InsufficientBalance
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import LEAVE_JOB
from eas_pipelines.runs import now_utc

HR_CHANNEL = "#hr"
"""Who is asked about the leave of somebody with no manager in BambooHR (the top of the chart)."""
AUTH_FAILURES = frozenset({401, 403})
"""BambooHR refusing EAS itself (a bad API key, a missing permission): a misconfiguration to fail
the run on and retry, not an answer about this request."""


def not_found_reason(item: WorkItem, name: str) -> str:
    """Why a request is refused when BambooHR does not know the person it is about."""
    if item.value("employee"):
        return f"employee {name!r} was not found in BambooHR (by work email, full name or id)"
    return (
        f"the request names no employee and the requester {name!r} was not found in BambooHR: "
        "name the employee whose leave it is"
    )


def _balance_of(balances: list[Balance], type_name: str) -> float:
    """Days left of ``type_name``; a type the calculator does not list for the employee has none."""
    for row in balances:
        if row.name.lower() == type_name.lower():
            return row.balance
    return 0.0


@workflow_step(LeaveRequest)
def read_leave_request(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """Who (the named employee, else the requester), when, what kind, and who approves (their manager)."""
    dates = leave_dates(item)
    if isinstance(dates, str):
        return Step.refused(dates)
    start, end = dates
    days = working_days(start, end)
    if days == 0:
        return Step.refused(f"{start} to {end} has no working days")
    name = str(item.value("employee") or item.requester)
    client = bamboohr.client()
    employee = find_employee(client, name)
    if employee is None:
        return Step.refused(not_found_reason(item, name), employee=name)
    manager = manager_of(client, employee)
    employee_id = person_id(employee)
    # Nobody above (the top of the chart): a placeholder role the escalation job walks up, asked in
    # the HR team's channel.
    approver = person_id(manager) if manager is not None else f"manager:{employee_id}"
    leave_type = str(item.value("leave_type") or DEFAULT_LEAVE_TYPE)
    leave = LeaveRequest(
        item=item,
        employee_id=employee_id,
        employee_name=employee.full_name,
        employee_contact=contact_of(employee),
        approver=approver,
        approver_contact=contact_of(manager) if manager is not None else HR_CHANNEL,
        leave_type=leave_type,
        start=start,
        end=end,
        working_days=days,
        bamboohr_id=employee.id,
        time_off_type=time_off_type(leave_type),
    )
    return Step.passed(
        leave,
        "leave.read",
        employee_id=employee_id,
        bamboohr_id=employee.id,
        leave_type=leave.leave_type,
        time_off_type=leave.time_off_type,
        start=start.isoformat(),
        end=end.isoformat(),
        working_days=days,
        approver=approver,
    )


@workflow_step(LeaveRequest)
def check_leave_balance(leave: LeaveRequest, *, bamboohr: BambooHRResource) -> Step:
    """BambooHR has the time-off type and the employee has enough days of it (its calculator)."""
    client = bamboohr.client()
    known = {name.lower(): name for name in client.time_off_types().values()}
    type_name = known.get(leave.time_off_type.lower())
    if type_name is None:
        return Step.refused(
            f"{leave.leave_type} leave cannot be booked: BambooHR has no {leave.time_off_type!r} "
            f"time-off type (it has {', '.join(sorted(known.values()))})"
        )
    left = _balance_of(client.balances(leave.bamboohr_id, as_of=leave.end), type_name)
    pool = pool_of(leave.leave_type)
    if left < leave.working_days:
        reason = (
            f"insufficient {pool} balance: {leave.employee_name} has "
            f"{left:g} day(s) left, {leave.working_days} requested"
        )
        return Step.refused(reason, balance=left, time_off_type=type_name)
    return Step.passed(
        leave.with_(time_off_type=type_name),
        "leave.balance_checked",
        pool=pool,
        time_off_type=type_name,
        balance=left,
        requested=leave.working_days,
    )


@workflow_step(LeaveRequest)
def check_leave_policy(leave: LeaveRequest, *, policy: WorkflowPolicyResource) -> Step:
    """Notice period and blackout windows."""
    # Notice counts from the day the request was made: a run resumed after a slow approval must not
    # refuse leave that was asked for in good time.
    asked_on = leave.item.requested_on or now_utc().date()
    problem = notice_problem(leave.leave_type, leave.start, asked_on, policy.leave_notice_days)
    problem = problem or blackout_problem(leave.leave_type, leave.start, leave.end, policy.blackouts())
    if problem:
        return Step.refused(problem)
    return Step.passed(
        leave, "leave.policy_checked", notice_days=policy.leave_notice_days, blackouts=policy.leave_blackouts
    )


@workflow_step(LeaveRequest)
def manager_approval(leave: LeaveRequest, *, policy: WorkflowPolicyResource) -> Step:
    """Every leave request waits for the employee's manager."""
    return Step.needs_approval(
        approver=leave.approver,
        recipient=leave.approver_contact,
        reason=f"{leave.label} needs your approval",
        deadline_hours=policy.approval_deadline_hours,
    )


def file_time_off(leave: LeaveRequest, client: BambooHRClient) -> Step:
    """File the leave in BambooHR as an approved time-off request, once (keyed by request id).

    That one request is the booking: BambooHR counts it against the balance and shows it on its
    "Who's out" calendar. BambooHR checks the balance itself: one spent between the balance step
    and this one (another booking in BambooHR) refuses the request.
    """
    try:
        filed = client.request_time_off(
            leave.bamboohr_id,
            leave.start,
            leave.end,
            leave.time_off_type,
            amount=float(leave.working_days),
            note=f"{leave.label}; approved by {leave.approver}; EAS request {leave.item.request_id}",
            idempotency_key=leave.item.key("time-off"),
            status="approved",
        )
    except InsufficientBalance as exc:
        return Step.refused(f"insufficient balance at booking time: {exc}")
    except VendorRejected as exc:
        if exc.status in AUTH_FAILURES:
            raise
        return Step.refused(f"BambooHR refused the time-off request: {exc}")
    after = _balance_of(client.balances(leave.bamboohr_id, as_of=leave.end), filed.type_name)
    return Step.passed(
        leave.with_(balance_after=after, time_off_request_id=filed.id),
        "leave.booked",
        time_off_request_id=filed.id,
        status=filed.status,
        time_off_type=filed.type_name,
        days=filed.amount,
        balance_after=after,
    )


def cancel_booked_leave(done: CompletedStep, *, bamboohr: BambooHRResource) -> str | None:
    """Compensation of :func:`book_leave`: cancel the BambooHR time-off request it filed.

    Cancelled, the request no longer counts against the balance nor shows on "Who's out"; a second
    cancel changes nothing.
    """
    time_off_id = done.detail.get("time_off_request_id")
    if time_off_id is None:
        return None
    note = f"Cancelled by EAS: request {done.request_id} was rolled back"
    bamboohr.client().set_time_off_status(time_off_id, "canceled", note)
    return f"BambooHR time-off request {time_off_id} cancelled"


@workflow_step(LeaveRequest, compensate=cancel_booked_leave)
def book_leave(leave: LeaveRequest, *, bamboohr: BambooHRResource) -> Step:
    """Book the approved leave in BambooHR: an approved time-off request (see :func:`file_time_off`)."""
    client = bamboohr.client()
    return file_time_off(leave, client)


@workflow_step(WorkResult, optional=False)
def notify_leave_booked(leave: LeaveRequest, *, notifications: NotificationsResource) -> Step:
    """Tell the employee and the manager that the leave is booked."""
    item = leave.item
    summary = f"booked {leave.label}"
    remaining = f" {leave.balance_after:g} day(s) left." if leave.balance_after is not None else ""
    title = f"Leave booked: {leave.employee_name}, {leave.start} to {leave.end}"
    body = f"{summary[0].upper()}{summary[1:]}.{remaining} Request {item.request_id}."
    contacts = list(dict.fromkeys([leave.employee_contact, leave.approver_contact]))
    recipients = notify_all(notifications, item, contacts, title, body, key="booked")
    detail = {
        "employee_id": leave.employee_id,
        "days": leave.working_days,
        "time_off_request_id": leave.time_off_request_id,
    }
    result = WorkResult(item, summary, detail)
    return Step.passed(result, "notifications.sent", recipients=recipients)


hr_leave_request = workflow_job(
    name=LEAVE_JOB,
    agent="hr",
    description="Book leave: balance, notice and blackout checks, manager approval, BambooHR, notify.",
    steps=(
        read_leave_request,
        check_leave_balance,
        check_leave_policy,
        manager_approval,
        book_leave,
        notify_leave_booked,
    ),
)
