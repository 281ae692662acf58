"""HR agent: ``hr_leave_request``.

read the request (employee, dates, leave type) -> balance check -> policy (notice period,
blackout windows) -> manager approval (always) -> debit the balance -> calendar entry -> notify
-> succeeded. The balance and policy are checked before asking the manager (no point asking for
leave that cannot be granted) and again on the run after the approval, since time has passed.
"""

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.hr.leave import (
    DEFAULT_LEAVE_TYPE,
    LeaveRequest,
    blackout_problem,
    leave_dates,
    notice_problem,
    working_days,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.resources import (
    CalendarResource,
    LeaveLedgerResource,
    WorkflowPolicyResource,
)
from eas_pipelines.resources.connectors.leave import InsufficientBalance, employee_key
from eas_pipelines.routing import LEAVE_JOB
from eas_pipelines.runs import now_utc


@workflow_step(LeaveRequest)
def read_leave_request(item: WorkItem, *, leave_ledger: LeaveLedgerResource) -> Step:
    """Who (the named employee, else the requester), when, what kind, and who approves."""
    dates = leave_dates(item)
    if isinstance(dates, str):
        return Step.refused(dates)
    start, end = dates
    days = working_days(start, end)
    if days == 0:
        return Step.refused(f"{start} to {end} has no working days")
    name = item.value("employee") or item.requester
    employee = leave_ledger.find_employee(str(name))
    if employee is not None:
        employee_id, display, contact = employee.employee_id, employee.display_name, employee.email
        manager = leave_ledger.employee(employee.manager_id) if employee.manager_id else None
    else:
        employee_id, display, contact, manager = employee_key(str(name)), str(name), None, None
    approver = manager.employee_id if manager is not None else f"manager:{employee_id}"
    leave = LeaveRequest(
        item=item,
        employee_id=employee_id,
        employee_name=display,
        employee_contact=contact or employee_id,
        approver=approver,
        approver_contact=(manager.email if manager is not None and manager.email else approver),
        leave_type=str(item.value("leave_type") or DEFAULT_LEAVE_TYPE),
        start=start,
        end=end,
        working_days=days,
    )
    return Step.passed(
        leave,
        "leave.read",
        employee_id=employee_id,
        leave_type=leave.leave_type,
        start=start.isoformat(),
        end=end.isoformat(),
        working_days=days,
        approver=approver,
    )


@workflow_step(LeaveRequest)
def check_leave_balance(leave: LeaveRequest, *, leave_ledger: LeaveLedgerResource) -> Step:
    """Enough days left in the pool the leave type draws on (untracked types always pass)."""
    balance = leave_ledger.balance(leave.employee_id, leave.leave_type)
    if balance is not None and balance.balance_days < leave.working_days:
        reason = (
            f"insufficient {balance.leave_type} balance: {leave.employee_name} has "
            f"{balance.balance_days:g} day(s) left, {leave.working_days} requested"
        )
        return Step.refused(reason, balance=balance.balance_days)
    pool = balance.leave_type if balance else None
    days_left = balance.balance_days if balance else None
    return Step.passed(
        leave, "leave.balance_checked", pool=pool, balance=days_left, requested=leave.working_days
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


@workflow_step(LeaveRequest)
def debit_leave_balance(leave: LeaveRequest, *, leave_ledger: LeaveLedgerResource) -> Step:
    """Take the days off the balance, once (keyed by request id)."""
    try:
        balance = leave_ledger.debit(
            leave.employee_id,
            leave.leave_type,
            float(leave.working_days),
            leave.start,
            leave.end,
            request_id=leave.item.request_id,
            idempotency_key=leave.item.key("leave-debit"),
        )
    except InsufficientBalance as exc:
        return Step.refused(f"insufficient balance at booking time: {exc}")
    days, after = leave.working_days, balance.balance_days
    return Step.passed(
        leave.with_(balance_after=after),
        "leave.debited",
        days=days,
        pool=balance.leave_type,
        balance_after=after,
    )


@workflow_step(LeaveRequest, optional=False)
def add_leave_to_calendar(leave: LeaveRequest, *, calendar: CalendarResource) -> Step:
    """An out-of-office entry in the employee's calendar."""
    entry = calendar.create_entry(
        leave.employee_id,
        f"Out of office ({leave.leave_type}): {leave.employee_name}",
        leave.start,
        leave.end,
        kind="out_of_office",
        request_id=leave.item.request_id,
        idempotency_key=leave.item.key("calendar"),
    )
    return Step.passed(leave, "calendar.entry_created", entry_id=entry.id, calendar=entry.calendar)


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
    result = WorkResult(item, summary, {"employee_id": leave.employee_id, "days": leave.working_days})
    return Step.passed(result, "notifications.sent", recipients=recipients)


hr_leave_request = workflow_job(
    name=LEAVE_JOB,
    agent="hr",
    description="Book leave: balance, notice and blackout checks, manager approval, debit, calendar, notify.",
    steps=(
        read_leave_request,
        check_leave_balance,
        check_leave_policy,
        manager_approval,
        debit_leave_balance,
        add_leave_to_calendar,
        notify_leave_booked,
    ),
)
