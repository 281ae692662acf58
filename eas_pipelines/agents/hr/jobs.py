"""HR agent: ``hr_leave_request``.

read the request (employee, dates, leave type) -> balance check -> policy (notice period,
blackout windows) -> manager approval (always) -> debit the balance -> calendar entry -> notify
-> succeeded. The balance and policy are checked before asking the manager (no point asking for
leave that cannot be granted) and again on the run after the approval, since time has passed.
"""

from collections.abc import Iterator

import dagster as dg

from eas_pipelines.agents.common import (
    WorkItem,
    WorkResult,
    approval_gate,
    audit,
    complete_request,
    refuse,
    start_request,
    workflow_job,
)
from eas_pipelines.agents.hr.leave import (
    DEFAULT_LEAVE_TYPE,
    LeaveRequest,
    blackout_problem,
    leave_dates,
    notice_problem,
    working_days,
)
from eas_pipelines.resources import (
    CalendarResource,
    LeaveLedgerResource,
    NotificationResource,
    RequestStoreResource,
    WorkflowPolicyResource,
)
from eas_pipelines.resources.connectors.leave import InsufficientBalance, employee_key
from eas_pipelines.routing import LEAVE_JOB
from eas_pipelines.runs import now_utc


@dg.op(out=dg.Out(LeaveRequest, is_required=False))
def read_leave_request(
    context: dg.OpExecutionContext,
    item: WorkItem,
    store: RequestStoreResource,
    leave_ledger: LeaveLedgerResource,
    notifications: NotificationResource,
) -> Iterator[dg.Output]:
    """Who (the named employee, else the requester), when, what kind, and who approves."""
    dates = leave_dates(item)
    if isinstance(dates, str):
        refuse(context, store, notifications, item, dates)
        return
    start, end = dates
    days = working_days(start, end)
    if days == 0:
        refuse(context, store, notifications, item, f"{start} to {end} has no working days")
        return
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
    audit(
        store.get_store(),
        item,
        "leave.read",
        employee_id=employee_id,
        leave_type=leave.leave_type,
        start=start.isoformat(),
        end=end.isoformat(),
        working_days=days,
        approver=approver,
    )
    yield dg.Output(leave)


@dg.op(out=dg.Out(LeaveRequest, is_required=False))
def check_leave_balance(
    context: dg.OpExecutionContext,
    leave: LeaveRequest,
    store: RequestStoreResource,
    leave_ledger: LeaveLedgerResource,
    notifications: NotificationResource,
) -> Iterator[dg.Output]:
    """Enough days left in the pool the leave type draws on (untracked types always pass)."""
    balance = leave_ledger.balance(leave.employee_id, leave.leave_type)
    if balance is not None and balance.balance_days < leave.working_days:
        reason = (
            f"insufficient {balance.leave_type} balance: {leave.employee_name} has "
            f"{balance.balance_days:g} day(s) left, {leave.working_days} requested"
        )
        refuse(context, store, notifications, leave.item, reason, balance=balance.balance_days)
        return
    audit(
        store.get_store(),
        leave.item,
        "leave.balance_checked",
        pool=balance.leave_type if balance else None,
        balance=balance.balance_days if balance else None,
        requested=leave.working_days,
    )
    yield dg.Output(leave)


@dg.op(out=dg.Out(LeaveRequest, is_required=False))
def check_leave_policy(
    context: dg.OpExecutionContext,
    leave: LeaveRequest,
    store: RequestStoreResource,
    notifications: NotificationResource,
    policy: WorkflowPolicyResource,
) -> Iterator[dg.Output]:
    """Notice period and blackout windows."""
    # Notice counts from the day the request was made: a run resumed after a slow approval must not
    # refuse leave that was asked for in good time.
    asked_on = leave.item.requested_on or now_utc().date()
    problem = notice_problem(leave.leave_type, leave.start, asked_on, policy.leave_notice_days)
    problem = problem or blackout_problem(leave.leave_type, leave.start, leave.end, policy.blackouts())
    if problem:
        refuse(context, store, notifications, leave.item, problem)
        return
    audit(
        store.get_store(),
        leave.item,
        "leave.policy_checked",
        notice_days=policy.leave_notice_days,
        blackouts=policy.leave_blackouts,
    )
    yield dg.Output(leave)


@dg.op(out=dg.Out(LeaveRequest, is_required=False))
def manager_approval(
    context: dg.OpExecutionContext,
    leave: LeaveRequest,
    store: RequestStoreResource,
    notifications: NotificationResource,
    policy: WorkflowPolicyResource,
) -> Iterator[dg.Output]:
    """Every leave request waits for the employee's manager."""
    if approval_gate(
        context,
        store.get_store(),
        notifications,
        leave.item,
        approver=leave.approver,
        recipient=leave.approver_contact,
        reason=f"{leave.label} needs your approval",
        deadline_hours=policy.approval_deadline_hours,
    ):
        yield dg.Output(leave)


@dg.op(out=dg.Out(LeaveRequest, is_required=False))
def debit_leave_balance(
    context: dg.OpExecutionContext,
    leave: LeaveRequest,
    store: RequestStoreResource,
    leave_ledger: LeaveLedgerResource,
    notifications: NotificationResource,
) -> Iterator[dg.Output]:
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
        refuse(context, store, notifications, leave.item, f"insufficient balance at booking time: {exc}")
        return
    audit(
        store.get_store(),
        leave.item,
        "leave.debited",
        days=leave.working_days,
        pool=balance.leave_type,
        balance_after=balance.balance_days,
    )
    yield dg.Output(leave.with_(balance_after=balance.balance_days))


@dg.op
def add_leave_to_calendar(
    leave: LeaveRequest, store: RequestStoreResource, calendar: CalendarResource
) -> LeaveRequest:
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
    audit(store.get_store(), leave.item, "calendar.entry_created", entry_id=entry.id, calendar=entry.calendar)
    return leave


@dg.op
def notify_leave_booked(
    leave: LeaveRequest, store: RequestStoreResource, notifications: NotificationResource
) -> WorkResult:
    """Tell the employee and the manager that the leave is booked."""
    item = leave.item
    summary = f"booked {leave.label}"
    remaining = f" {leave.balance_after:g} day(s) left." if leave.balance_after is not None else ""
    recipients = list(dict.fromkeys([leave.employee_contact, leave.approver_contact]))
    for recipient in recipients:
        notifications.send(
            recipient,
            f"Leave booked: {leave.employee_name}, {leave.start} to {leave.end}",
            f"{summary[0].upper()}{summary[1:]}.{remaining} Request {item.request_id}.",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:booked:{recipient}"),
        )
    audit(store.get_store(), item, "notifications.sent", recipients=recipients)
    return WorkResult(item, summary, {"employee_id": leave.employee_id, "days": leave.working_days})


@workflow_job(
    name=LEAVE_JOB,
    agent="hr",
    description="Book leave: balance, notice and blackout checks, manager approval, debit, calendar, notify.",
)
def hr_leave_request() -> None:
    leave = check_leave_policy(check_leave_balance(read_leave_request(start_request())))
    booked = add_leave_to_calendar(debit_leave_balance(manager_approval(leave)))
    complete_request(notify_leave_booked(booked))
