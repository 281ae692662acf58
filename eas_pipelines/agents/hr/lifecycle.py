"""HR agent: ``hr_onboarding`` and ``hr_offboarding``, a person's arrival and departure.

``hr_onboarding``: the new hire (found in BambooHR, else added to it with a work e-mail made from the
name) -> their accounts provisioned with the security agent's grant function
(:meth:`~eas_pipelines.agents.security.accounts.AccountSystems.grant`: the policy's accounts for every
new hire and their department, :func:`~eas_pipelines.agents.security.policy.onboarding_grants`, plus the
non-sensitive systems the request names; compensable: when a later step is refused, Jira refusing the
equipment issue say, the saga revokes them again in the same run) -> an equipment request as a Jira
issue in OPS -> orientation on the first day, an e-mail with an iCalendar invitation (``icalendar``) ->
a welcome message on Slack -> succeeded. Systems the policy keeps for the security officer are not
granted here: the requester is told to ask for them (``security.access_grant``), so no approval is
skipped.

``hr_offboarding``: the leaver (BambooHR) and their last day -> a last day still ahead is scheduled
(:mod:`eas_pipelines.agents.deferred`): the request succeeds as scheduled and its due request, queued at
the end of that day (:data:`OFFBOARDING_AT`, the organisation's time zone), does the rest; a last day
that is today or past goes on at once -> their access revoked on every managed system with the
security agent's revoke function (each system audited; partial failures handled as
``security_access_revoke`` does) -> final pay flagged to payroll (#payroll and the requester) -> succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from eas_pipelines.agents.common import Passed, Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.deferred.work import defer, is_due_run, organisation_zone, scheduled_by
from eas_pipelines.agents.hr.people import find_employee
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.agents.saga import CompletedStep
from eas_pipelines.agents.security.accounts import GRANTED, AccountChange, AccountSystems, Person, summary
from eas_pipelines.agents.security.jobs import changes_settled, systems_named
from eas_pipelines.agents.security.people import identify, person_of
from eas_pipelines.agents.security.policy import (
    POLICY,
    Grant,
    grant_problem,
    needs_security_officer,
    onboarding_grants,
)
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack_scim import SlackScimResource
from eas_pipelines.resources import RequestStoreResource
from eas_pipelines.runs import now_utc

LIFECYCLE_CONNECTORS = {
    "salesforce": SalesforceResource,
    "servicenow": ServiceNowResource,
    "jira": JiraResource,
    "slack_scim": SlackScimResource,
    "outlook_calendar": OutlookCalendarResource,
}
"""The connectors onboarding and offboarding add to the HR agent's (the systems accounts live on; the
calendars' time zone, in which a last day ends)."""

ONBOARDING_JOB = "hr_onboarding"
OFFBOARDING_JOB = "hr_offboarding"
HR_CHANNEL = "#hr"
PAYROLL_CHANNEL = "#payroll"
EQUIPMENT_PROJECT = "OPS"
EQUIPMENT = ("laptop", "monitor", "headset", "building badge")
ORIENTATION_START = time(9, 30)
ORIENTATION_LENGTH = timedelta(hours=1)
ORGANIZER = "hr@example.com"
OFFBOARDING_AT = time(18, 0)
"""When a last day still ahead is acted on: the end of that working day (the organisation's time zone)."""
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True)
class Lifecycle:
    """A joiner or a leaver as the workflow carries them from op to op."""

    item: WorkItem
    person: Person
    day: date  # the first day (onboarding) or the last (offboarding)
    title: str = ""
    personal_email: str | None = None
    deferred: tuple[str, ...] = ()  # systems left for a security.access_grant (sensitive)
    changes: tuple[AccountChange, ...] = ()
    equipment_issue: str = ""
    done: tuple[str, ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> Lifecycle:
        return replace(self, **changes)


def next_monday(day: date) -> date:
    """The first Monday after ``day`` (a start date nobody gave)."""
    return day + timedelta(days=7 - day.weekday())


def day_of(item: WorkItem) -> date:
    """The request's date entity (ISO), else the Monday after the request."""
    value = item.value("date")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    return next_monday(item.requested_on or datetime.now(UTC).date())


def work_email(full_name: str) -> str:
    """first.last@example.com, the company's address scheme (BambooHR's seeded people follow it)."""
    parts = [p for p in full_name.lower().replace("'", "").split() if p.isalpha() or "-" in p]
    return ".".join(parts) + f"@{EMAIL_DOMAIN}"


def orientation_invite(
    person: Person, day: date, *, uid: str, attendees: list[str], start: time = ORIENTATION_START
) -> bytes:
    """The orientation as an iCalendar REQUEST (one VEVENT): mail clients show it as an invite."""
    calendar = Calendar()
    calendar.add("prodid", "-//EAS//HR onboarding//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    begins = datetime.combine(day, start, tzinfo=UTC)
    event.add("uid", uid)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", begins)
    event.add("dtend", begins + ORIENTATION_LENGTH)
    event.add("summary", f"Orientation: welcome {person.full_name}")
    event.add(
        "description", "Your first-day orientation: accounts, equipment pick-up, the team and the tools."
    )
    event.add("location", "HR meeting room / video call")
    organizer = vCalAddress(f"mailto:{ORGANIZER}")
    organizer.params["cn"] = vText("EAS HR")
    event["organizer"] = organizer
    for address in attendees:
        attendee = vCalAddress(f"mailto:{address}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


# -- onboarding --------------------------------------------------------------------------------------


@workflow_step(Lifecycle)
def identify_new_hire(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """The new hire in BambooHR, added to it when HR has no record yet (the work e-mail is the key)."""
    name = item.value("employee")
    if not name or " " not in str(name).strip():
        return Step.refused("name the new hire (first and last name) to onboard them")
    client = bamboohr.client()
    day = day_of(item)
    title = str(item.value("role") or "")
    personal = item.value("email")
    known = find_employee(client, str(name))
    created = False
    if known is None:
        first, _, last = str(name).strip().partition(" ")
        try:
            known = client.add_employee(
                first,
                last,
                work_email(str(name)),
                title or "New hire",
                str(item.value("department") or ""),
                day,
                item.key("bamboohr"),
            )
        except VendorRejected as exc:
            return Step.refused(f"BambooHR refused the new hire: {exc}")
        created = True
    person = person_of(known)
    if person is None:
        return Step.refused(f"{name} has no work e-mail in BambooHR")
    hire = Lifecycle(item, person, day, title or known.job_title or "", str(personal) if personal else None)
    return Step.passed(
        hire,
        "onboarding.new_hire",
        person=person.email,
        employee_id=known.id,
        added_to_bamboohr=created,
        start=str(day),
    )


def revoke_provisioned_accounts(
    done: CompletedStep,
    *,
    bamboohr: BambooHRResource,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
) -> str | None:
    """Compensation of :func:`provision_accounts`: revoke the accounts it granted, with the security
    agent's revoke function (each system on its own; revoking twice changes nothing).

    The step's audit detail names the hire by BambooHR number (an e-mail address would be masked in
    the audit log), so the work e-mail every system keys accounts by is read from BambooHR again. A
    system that refused is a failed compensation (:class:`VendorRejected`: audited, tried again by a
    later rollback); one that could not be reached fails the op, for its retries.
    """
    employee_id = done.detail.get("employee_id")
    systems = [str(system) for system in done.detail.get("granted") or ()]
    if employee_id is None or not systems:
        return None
    employee = bamboohr.client().employee(int(employee_id))
    person = person_of(employee) if employee is not None else None
    if person is None:
        raise VendorRejected(
            f"BambooHR has no employee {employee_id} with a work e-mail to revoke accounts of"
        )
    changes = AccountSystems(salesforce, servicenow, jira, slack_scim).revoke(person, systems)
    failed = [change for change in changes if change.failed]
    if any(change.retryable for change in failed):
        raise ConnectorUnavailable(f"revoking the accounts of {person.full_name}: {summary(failed)}")
    if failed:
        raise VendorRejected(f"revoking the accounts of {person.full_name}: {summary(failed)}")
    return f"accounts of {person.full_name} (BambooHR {employee_id}) revoked: {summary(changes)}"


@workflow_step(Lifecycle, compensate=revoke_provisioned_accounts)
def provision_accounts(
    hire: Lifecycle,
    *,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    store: RequestStoreResource,
    notifications: NotificationsResource,
) -> Step:
    """The policy's accounts for a new hire of the department, plus named non-sensitive systems."""
    grants = onboarding_grants(hire.person.department)
    named, _unmanaged = systems_named(hire.item)
    deferred = []
    for system in named:
        grant = Grant(system, POLICY[system].default_level)
        if any(g.system == system for g in grants):
            continue
        if needs_security_officer(grant) or grant_problem(grant, hire.person.department):
            deferred.append(system)
        else:
            grants.append(grant)
    systems = AccountSystems(salesforce, servicenow, jira, slack_scim)
    changes = systems.grant(hire.person, grants, hire.item.request_id)
    outcome = changes_settled(
        hire, "granted", changes, store=store, notifications=notifications, deferred=tuple(deferred)
    )
    if not isinstance(outcome, Passed):
        return outcome
    # What the compensation revokes if a later step is refused (the saga): the accounts granted here.
    granted = [change.system for change in changes if change.outcome == GRANTED]
    return Step.passed(
        outcome.value,
        "onboarding.accounts_provisioned",
        employee_id=hire.person.employee_id,
        granted=granted,
    )


@workflow_step(Lifecycle)
def request_equipment(hire: Lifecycle, *, jira: JiraResource) -> Step:
    """A Jira issue in OPS for the hire's equipment, once per request (its idempotency label)."""
    person = hire.person
    description = (
        f"New hire {person.full_name} ({hire.title or 'new hire'}, {person.department or 'no department'}) "
        f"starts on {hire.day:%A %d %B %Y}.\nPlease prepare: {', '.join(EQUIPMENT)}.\n"
        f"BambooHR employee {person.employee_id}. EAS request {hire.item.request_id}."
    )
    try:
        issue = jira.client().create_issue(
            EQUIPMENT_PROJECT,
            f"Equipment for new hire {person.full_name} (starts {hire.day.isoformat()})",
            idempotency_key=hire.item.key("equipment"),
            description=description,
            labels=["onboarding", "equipment"],
        )
    except VendorRejected as exc:
        return Step.refused(f"Jira refused the equipment request: {exc}")
    return Step.passed(
        hire.with_(equipment_issue=issue.key), "onboarding.equipment_requested", issue=issue.key
    )


@workflow_step(Lifecycle)
def schedule_orientation(hire: Lifecycle, *, notifications: NotificationsResource) -> Step:
    """An e-mail to the hire (work and personal address) with the orientation as an iCalendar invite."""
    attendees = list(dict.fromkeys(a for a in (hire.person.email, hire.personal_email) if a))
    invite = orientation_invite(
        hire.person, hire.day, uid=f"{hire.item.request_id}-orientation@eas", attendees=attendees
    )
    when = datetime.combine(hire.day, ORIENTATION_START, tzinfo=UTC)
    email = notifications.email
    body = (
        f"Welcome, {hire.person.first_name}!\n\nYour orientation is on {when:%A %d %B %Y at %H:%M} UTC "
        f"({int(ORIENTATION_LENGTH.total_seconds() // 60)} minutes). The invitation is attached."
        "\n\nEAS request "
        f"{hire.item.request_id}"
    )
    email.client().send(
        attendees,
        email.outgoing(f"Orientation on {hire.day.isoformat()}: welcome to the team"),
        email.outgoing(body),
        attachments=[("orientation.ics", invite, "text/calendar")],
        idempotency_key=hire.item.key("orientation"),
    )
    return Step.passed(
        hire, "onboarding.orientation_scheduled", start=when.isoformat(), attendees=len(attendees)
    )


@workflow_step(WorkResult, optional=False)
def welcome_new_hire(hire: Lifecycle, *, notifications: NotificationsResource) -> Step:
    """A welcome message on Slack (their new account), then the requester and #hr told what was done."""
    item, person = hire.item, hire.person
    notifications.slack.client().post_direct_message(
        person.email,
        f"Welcome to the team, {person.first_name}! Your accounts are ready; see your e-mail for the "
        f"orientation invite. (EAS request {item.request_id})",
        idempotency_key=item.key("welcome"),
    )
    accounts = summary(hire.changes)
    later = (
        f" Ask for {', '.join(hire.deferred)} with an access request: it needs the security officer."
        if hire.deferred
        else ""
    )
    report = (
        f"Onboarding of {person.full_name} (starts {hire.day.isoformat()}): accounts {accounts}; "
        f"equipment {hire.equipment_issue}; orientation invite sent.{later}"
    )
    for recipient in (item.requester, HR_CHANNEL):
        notifications.send(
            recipient,
            f"Onboarded {person.full_name}",
            report,
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:onboarded:{recipient}"),
        )
    detail = {
        "person": person.email,
        "equipment_issue": hire.equipment_issue,
        "deferred": list(hire.deferred),
    }
    result = WorkResult(item, f"onboarded {person.email}: {accounts}", detail)
    return Step.passed(result, "onboarding.welcomed", recipients=[person.email, item.requester, HR_CHANNEL])


hr_onboarding = workflow_job(
    name=ONBOARDING_JOB,
    agent="hr",
    description="Onboard a hire: BambooHR, accounts, equipment ticket, orientation invite, welcome.",
    steps=(identify_new_hire, provision_accounts, request_equipment, schedule_orientation, welcome_new_hire),
)


# -- offboarding -------------------------------------------------------------------------------------


@workflow_step(Lifecycle)
def identify_leaver(item: WorkItem, *, bamboohr: BambooHRResource) -> Step:
    """The leaver, by e-mail or name (BambooHR), and their last day (the date given, else today)."""
    person, named = identify(item, bamboohr.client())
    if person is None:
        return Step.refused(f"{named!r} was not found in BambooHR: name the leaver by work e-mail")
    value = item.value("date")
    last_day = (
        date.fromisoformat(value[:10])
        if isinstance(value, str) and value[:10].count("-") == 2
        else (item.requested_on or datetime.now(UTC).date())
    )
    leaver = Lifecycle(item, person, last_day)
    return Step.passed(
        leaver,
        "offboarding.leaver",
        person=person.email,
        employee_id=person.employee_id,
        last_day=str(last_day),
    )


@workflow_step(Lifecycle)
def defer_until_last_day(
    leaver: Lifecycle,
    *,
    store: RequestStoreResource,
    notifications: NotificationsResource,
    outlook_calendar: OutlookCalendarResource,
) -> Step:
    """A last day still ahead: schedule the offboarding for it (access is revoked then, not now) and
    tell the requester and #hr. Today, past, or the due request of that schedule: go on now."""
    item, person = leaver.item, leaver.person
    zone = organisation_zone(outlook_calendar)
    today = now_utc().astimezone(zone).date()
    if is_due_run(item) or leaver.day <= today:
        return Step.passed(
            leaver, "offboarding.due", last_day=str(leaver.day), scheduled_by=scheduled_by(item)
        )
    due = datetime.combine(leaver.day, OFFBOARDING_AT, tzinfo=zone)
    defer(store.get_store(), item, due_at=due, what=f"offboarding of {person.full_name}")
    label = f"{leaver.day:%A %d %B %Y} at {OFFBOARDING_AT:%H:%M} ({zone.key})"
    for recipient in (item.requester, HR_CHANNEL):
        notifications.send(
            recipient,
            f"Offboarding of {person.full_name} scheduled",
            f"{person.full_name}'s last day is {leaver.day.isoformat()}: their access will be revoked on "
            f"{label}, and payroll told to run the final pay then. Nothing is revoked before.",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:offboarding_scheduled:{recipient}"),
        )
    result = WorkResult(
        item,
        f"offboarding of {person.full_name} scheduled for {label}",
        {"last_day": leaver.day.isoformat(), "due_at": due.isoformat()},
    )
    return Step.completed(result, "offboarding.scheduled", last_day=str(leaver.day), due_at=due.isoformat())


@workflow_step(Lifecycle)
def revoke_leaver_access(
    leaver: Lifecycle,
    *,
    salesforce: SalesforceResource,
    servicenow: ServiceNowResource,
    jira: JiraResource,
    slack_scim: SlackScimResource,
    store: RequestStoreResource,
    notifications: NotificationsResource,
) -> Step:
    """Revoke everywhere with the security agent's function, each system audited."""
    changes = AccountSystems(salesforce, servicenow, jira, slack_scim).revoke(leaver.person)
    return changes_settled(leaver, "revoked", changes, store=store, notifications=notifications)


@workflow_step(WorkResult, optional=False)
def flag_final_pay(leaver: Lifecycle, *, notifications: NotificationsResource) -> Step:
    """Payroll told to run the final pay (last day, BambooHR number); the requester and #hr told."""
    item, person = leaver.item, leaver.person
    who = f"{person.full_name} (BambooHR employee {person.employee_id or 'unknown'})"
    notifications.send(
        PAYROLL_CHANNEL,
        f"Final pay: {who}",
        f"{who} leaves on {leaver.day.isoformat()}. Please run the final pay: salary to the last day, "
        "unused vacation payout, expenses outstanding.",
        request_id=item.request_id,
        idempotency_key=item.key("notify:final_pay"),
        detail={"employee_id": person.employee_id, "last_day": leaver.day.isoformat()},
    )
    revoked = summary(leaver.changes)
    for recipient in (item.requester, HR_CHANNEL):
        notifications.send(
            recipient,
            f"Offboarded {person.full_name}",
            f"Access revoked ({revoked}); final pay flagged to payroll for {leaver.day.isoformat()}.",
            request_id=item.request_id,
            idempotency_key=item.key(f"notify:offboarded:{recipient}"),
        )
    result = WorkResult(item, f"offboarded {person.email}: {revoked}", {"person": person.email})
    return Step.passed(
        result, "offboarding.final_pay_flagged", recipients=[PAYROLL_CHANNEL, item.requester, HR_CHANNEL]
    )


hr_offboarding = workflow_job(
    name=OFFBOARDING_JOB,
    agent="hr",
    description="Offboard a leaver: access revoked on every system, final pay flagged to payroll.",
    steps=(identify_leaver, defer_until_last_day, revoke_leaver_access, flag_final_pay),
)
