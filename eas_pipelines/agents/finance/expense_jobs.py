"""Finance agent: ``finance_expense_submission``, on QuickBooks Online.

read the claim (amount, category, day, receipt) -> expense policy (category limit, receipt, date)
-> duplicate check (QuickBooks, by the claim's fingerprint) -> approval above the amount (finance
manager) -> the expense booked in QuickBooks (a ``Purchase``) -> notify -> succeeded.

The rules are :mod:`eas_pipelines.agents.finance.expenses`. The booking is made once: QuickBooks'
``requestid`` is the request's key, so a retried or re-run create returns the first expense, and
the duplicate check recognises this request's own expense (its ``PrivateNote`` names the request)
as no duplicate. A QuickBooks refusal about the expense (an account gone, a validation fault) ends
the request with QuickBooks' reason; its refusing EAS itself (401/403: credentials, the app's
authorisation) fails the run, for the retries and the failure sensor.
"""

from __future__ import annotations

import hashlib

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, notify_all, workflow_job, workflow_step
from eas_pipelines.agents.finance.expenses import (
    ExpenseClaim,
    money,
    needs_approval,
    policy_problem,
    read_claim,
)
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.quickbooks import QuickBooksClient, QuickBooksResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.resources import WorkflowPolicyResource
from eas_pipelines.routing import ROUTES
from eas_pipelines.runs import now_utc

INTENT = "finance.expense_submit"
EXPENSE_JOB = ROUTES[INTENT].job or "finance_expense_submission"
APPROVER_ROLE = ROUTES[INTENT].approver_role or "finance_manager"
FINANCE_CHANNEL = "#finance"
NOT_ABOUT_THE_CLAIM = frozenset({401, 403})
"""QuickBooks refusing EAS itself: fail the run (retried), not the request."""


def booking_key(item: WorkItem) -> str:
    """QuickBooks' ``requestid`` of the request's one expense (at most 50 characters)."""
    key = item.key("expense")
    return key if len(key) <= 50 else hashlib.sha256(key.encode()).hexdigest()[:50]


def _refusal(exc: VendorRejected, what: str) -> str | None:
    if exc.status in NOT_ABOUT_THE_CLAIM:
        return None
    return f"QuickBooks refused {what}: {exc}"


@workflow_step(ExpenseClaim)
def read_expense_claim(item: WorkItem, *, policy: WorkflowPolicyResource) -> Step:
    """Amount, category (from the request's words), day, receipt and who claims it."""
    claim = read_claim(item, policy.default_currency)
    if isinstance(claim, str):
        return Step.refused(claim)
    return Step.passed(
        claim,
        "expense.read",
        claimant=claim.claimant,
        amount=claim.amount,
        currency=claim.currency,
        category=claim.category,
        account=claim.account,
        spent_on=claim.spent_on.isoformat(),
        receipt=claim.receipt,
        fingerprint=claim.fingerprint,
    )


@workflow_step(ExpenseClaim)
def check_expense_policy(claim: ExpenseClaim) -> Step:
    """The category's limit, a receipt above the receipt threshold, and no future date."""
    problem = policy_problem(claim, now_utc().date())
    if problem is not None:
        return Step.refused(problem, category=claim.category, amount=claim.amount)
    return Step.passed(claim, "expense.policy_checked", category=claim.category, receipt=bool(claim.receipt))


@workflow_step(ExpenseClaim)
def check_duplicate_claim(claim: ExpenseClaim, *, quickbooks: QuickBooksResource) -> Step:
    """Refuse a claim QuickBooks already holds (same claimant, day, amount, category) for another request."""
    for existing in quickbooks.client().expenses(doc_number=claim.fingerprint):
        if claim.item.request_id not in existing.private_note:
            return Step.refused(
                f"duplicate claim: the same {claim.label} was already booked as QuickBooks expense "
                f"{existing.id} ({existing.private_note or 'entered outside EAS'})",
                duplicate_of=existing.id,
            )
    return Step.passed(claim, "expense.duplicate_check", duplicate=False, fingerprint=claim.fingerprint)


@workflow_step(ExpenseClaim)
def approve_expense(claim: ExpenseClaim, *, policy: WorkflowPolicyResource) -> Step:
    """Claims over the approval amount wait for the finance manager; the run ends until they decide."""
    threshold = policy.expense_approval_threshold
    if not needs_approval(claim, threshold):
        return Step.passed(claim, "approval.not_required", amount=claim.amount, threshold=threshold)
    return Step.needs_approval(
        approver=APPROVER_ROLE,
        reason=f"{claim.label} by {claim.claimant} is over {money(threshold, claim.currency)}",
        deadline_hours=policy.approval_deadline_hours,
    )


def _vendor_id(client: QuickBooksClient, vendor: str | None) -> str | None:
    """The QuickBooks vendor the claim names, when QuickBooks knows it (else the expense has none)."""
    if not vendor:
        return None
    found = client.vendor_by_name(vendor)
    return None if found is None else found.id


@workflow_step(ExpenseClaim)
def book_expense(claim: ExpenseClaim, *, quickbooks: QuickBooksResource) -> Step:
    """Book the expense in QuickBooks against the category's account, once (``requestid`` = the request)."""
    client = quickbooks.client()
    card = claim.company_card
    try:
        expense = client.create_expense(
            claim.amount,
            claim.account,
            payment_account="Mastercard" if card else "Checking",
            payment_type="CreditCard" if card else "Cash",
            vendor_name_or_id=_vendor_id(client, claim.vendor),
            doc_number=claim.fingerprint,
            txn_date=claim.spent_on,
            description=f"{claim.category}: {claim.item.text}"[:4000],
            private_note=claim.note,
            request_id=booking_key(claim.item),
        )
    except VendorRejected as exc:
        if (reason := _refusal(exc, f"the {claim.label}")) is None:
            raise
        return Step.refused(reason)
    return Step.passed(
        claim.with_(expense_id=expense.id),
        "expense.booked",
        expense_id=expense.id,
        account=claim.account,
        amount=expense.total,
        payment_type=expense.payment_type,
    )


@workflow_step(WorkResult, optional=False)
def notify_expense_booked(claim: ExpenseClaim, *, notifications: NotificationsResource) -> Step:
    """Tell the claimant (and the finance channel) what was booked."""
    item = claim.item
    summary = f"booked {claim.label} for {claim.claimant} (QuickBooks expense {claim.expense_id})"
    body = f"{summary[0].upper()}{summary[1:]}. Request {item.request_id}."
    recipients = notify_all(
        notifications,
        item,
        list(dict.fromkeys([item.requester, FINANCE_CHANNEL])),
        f"Expense booked: {money(claim.amount, claim.currency)} {claim.category}",
        body,
        key="expense",
        detail={"expense_id": claim.expense_id},
    )
    detail = {"expense_id": claim.expense_id, "category": claim.category, "amount": claim.amount}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=recipients)


finance_expense_submission = workflow_job(
    name=EXPENSE_JOB,
    agent="finance",
    description="Submit an expense: category limit, receipt, duplicates, approval, QuickBooks, notify.",
    steps=(
        read_expense_claim,
        check_expense_policy,
        check_duplicate_claim,
        approve_expense,
        book_expense,
        notify_expense_booked,
    ),
)
