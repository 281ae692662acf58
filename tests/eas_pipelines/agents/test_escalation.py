"""The approval escalation job and its schedule (eas_pipelines/agents/approvals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eas_pipelines.agents.approvals import approval_escalation_job, approval_escalation_schedule
from eas_pipelines.resources.connectors.notifications import SandboxNotifier
from tests.eas_pipelines.dagster_support import awaiting


def test_escalation_walks_each_chain(store, eas_resources, sandbox):
    vp = sandbox.employee("Morgan", "Reyes")
    director = sandbox.employee("Priya", "Patel", manager_id=vp)
    overdue = datetime.now(UTC) - timedelta(minutes=1)
    finance, finance_approval = awaiting(store, "finance_manager", overdue)
    placeholder, _ = awaiting(store, "manager:zoe.walker", overdue)
    person, _ = awaiting(store, director, overdue)
    top, _ = awaiting(store, vp, overdue)
    not_due, _ = awaiting(store, "finance_manager", datetime.now(UTC) + timedelta(hours=1))

    result = approval_escalation_job.execute_in_process(resources=eas_resources)

    assert result.success and result.output_for_node("escalate_overdue_approvals") == 4
    approver = {
        r.id: store.approvals(request_id=r.id)[0] for r in (finance, placeholder, person, top, not_due)
    }
    assert approver[finance.id].approver == "cfo"
    assert approver[placeholder.id].approver == "director:zoe.walker"
    assert approver[person.id].approver == vp
    assert approver[top.id].approver == vp  # top of the chain: a reminder
    assert approver[not_due.id].escalation_level == 0
    assert approver[finance.id].escalation_level == 1
    assert approver[finance.id].deadline > datetime.now(UTC) + timedelta(hours=23)
    (entry,) = [e for e in store.audit_trail(finance.id) if e.action == "approval.escalated"]
    assert (entry.actor, entry.detail["from_approver"]) == ("eas/escalation", "finance_manager")
    notified = {n.recipient for n in SandboxNotifier(sandbox.engine).sent(request_id=person.id)}
    assert notified == {f"{vp}@example.com"}
    assert approval_escalation_schedule.cron_schedule == "*/5 * * * *"
    assert finance_approval.id == approver[finance.id].id
