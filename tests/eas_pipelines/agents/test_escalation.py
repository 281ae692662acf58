"""The approval escalation job and its schedule (eas_pipelines/agents/approvals).

A person's next approver is their supervisor in BambooHR's org chart (the emulator's), found by the
readable id approvals carry (the work email's local part).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eas_pipelines.agents.approvals import approval_escalation_job, approval_escalation_schedule
from eas_pipelines.agents.hr.people import person_id
from tests.eas_pipelines.dagster_support import awaiting
from tests.eas_pipelines.notifications_support import received


def test_escalation_walks_each_chain(store, eas_resources, staff, sandbox_session, redis_url):
    vp = staff.hire("Morgan", "Reyes")
    director = staff.hire("Priya", "Patel", manager=vp)
    vp_id, director_id = person_id(vp), person_id(director)
    overdue = datetime.now(UTC) - timedelta(minutes=1)
    finance, finance_approval = awaiting(store, "finance_manager", overdue)
    placeholder, _ = awaiting(store, "manager:zoe.walker", overdue)
    person, _ = awaiting(store, director_id, overdue)
    top, _ = awaiting(store, vp_id, overdue)
    stranger, _ = awaiting(store, f"nobody.{staff.tag.lower()}", overdue)
    not_due, _ = awaiting(store, "finance_manager", datetime.now(UTC) + timedelta(hours=1))

    result = approval_escalation_job.execute_in_process(resources=eas_resources)

    assert result.success and result.output_for_node("escalate_overdue_approvals") == 5
    approver = {
        r.id: store.approvals(request_id=r.id)[0]
        for r in (finance, placeholder, person, top, stranger, not_due)
    }
    assert approver[finance.id].approver == "cfo"
    assert approver[placeholder.id].approver == "director:zoe.walker"
    assert approver[person.id].approver == vp_id == f"morgan.reyes.{staff.tag.lower()}"
    assert approver[top.id].approver == vp_id  # top of the chart: a reminder
    assert approver[stranger.id].approver == f"nobody.{staff.tag.lower()}"  # not in BambooHR: a reminder
    assert approver[not_due.id].escalation_level == 0
    assert approver[finance.id].escalation_level == 1
    assert approver[finance.id].deadline > datetime.now(UTC) + timedelta(hours=23)
    (entry,) = [e for e in store.audit_trail(finance.id) if e.action == "approval.escalated"]
    assert (entry.actor, entry.detail["from_approver"]) == ("eas/escalation", "finance_manager")
    (escalated,) = received(sandbox_session, redis_url, vp.work_email, request_id=person.id)
    assert escalated.text.strip().startswith("Escalated:")
    assert f"escalated from {director_id}" in escalated.text
    assert received(sandbox_session, redis_url, director.work_email, request_id=person.id) == []
    (reminder,) = received(sandbox_session, redis_url, vp.work_email, request_id=top.id)
    assert reminder.text.strip().startswith("Reminder:")
    assert approval_escalation_schedule.cron_schedule == "*/5 * * * *"
    assert finance_approval.id == approver[finance.id].id
