"""Monitoring agent: ``monitoring_outage_report`` (P0).

describe the outage (system, where, since when) -> open the outage report (a ServiceNow incident,
urgency and impact 1, for the on-call group) -> dispatch it (PagerDuty page, Slack: the alert channel
and any channel the request names; Opsgenie too when the request lowers it to P1) -> confirm to the
requester -> succeeded.

One outage, one report: a second request about the same system while its report is open adds a work
note to that incident ("also reported by ...") instead of opening another, and the page goes out
under the same PagerDuty dedup key / Opsgenie alias (``outage:<system>``), so the on-call is paged
once however many people report it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.monitoring.alerts import Alert, dispatch_alert
from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.monitoring.severity import SEVERITIES
from eas_pipelines.agents.monitoring.systems import slug
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.opsgenie import OpsgenieResource
from eas_pipelines.connectors.pagerduty import PagerDutyResource
from eas_pipelines.connectors.retry import VendorRejected
from eas_pipelines.connectors.servicenow import Incident, ServiceNowClient, ServiceNowResource
from eas_pipelines.routing import ROUTES

OUTAGE_JOB = ROUTES["monitoring.outage_report"].job or "monitoring_outage_report"
OPEN_STATES = ("1", "2", "3")
OUTAGE_SYSTEM_FIELD = "u_outage_system"
"""Custom incident column: the system an outage report is about (its :func:`.systems.slug`)."""


@dataclass(frozen=True)
class Outage:
    """An outage as the request describes it, then the report it led to."""

    item: WorkItem
    system: str
    key: str  # outage:<system slug>: the dedup key / alias / incident look-up
    severity: str
    location: str | None = None
    since: str | None = None
    channels: tuple[str, ...] = ()
    incident_number: str | None = None
    incident_id: str | None = None
    existing: bool = False
    dispatched: tuple[str, ...] = ()

    def with_(self, **changes: Any) -> Outage:
        return replace(self, **changes)


def outage_severity(item: WorkItem) -> str:
    """P0 unless the request itself names a priority (a P1 "declare a P1 outage")."""
    named = [str(v) for v in item.values("priority") if str(v) in SEVERITIES]
    return min(named, key=SEVERITIES.index) if named else f"P{min(int(item.priority), 3)}"


@workflow_step(Outage)
def describe_outage(item: WorkItem) -> Step:
    """The system that is down (required), where, since when, and channels to notify."""
    systems = [str(v) for v in item.values("system")] or item.texts("system")
    if not systems:
        return Step.refused("name the system that is down (for example: SAP is down)")
    system = systems[0]
    since = item.value("date") or item.value("duration")
    channels = tuple(str(c) for c in item.values("channel") if str(c).startswith("#"))
    outage = Outage(
        item=item,
        system=system,
        key=f"outage:{slug(system)}",
        severity=outage_severity(item),
        location=str(item.value("location")) if item.value("location") else None,
        since=None if since is None else str(since),
        channels=channels,
    )
    return Step.passed(
        outage, "outage.described", system=system, severity=outage.severity, location=outage.location
    )


def open_report(client: ServiceNowClient, outage: Outage) -> Incident | None:
    """The open outage report of this system, if one is open."""
    found = client.incidents(f"{OUTAGE_SYSTEM_FIELD}={slug(outage.system)}^ORDERBYDESCnumber", limit=10)
    return next((i for i in found if i.state in OPEN_STATES), None)


def report_text(outage: Outage) -> str:
    where = f" in {outage.location}" if outage.location else ""
    since = f" since {outage.since}" if outage.since else ""
    return (
        f"Outage of {outage.system}{where}{since}, reported by {outage.item.requester} "
        f'(EAS request {outage.item.request_id}): "{outage.item.text}"'
    )


@workflow_step(Outage)
def open_outage_report(
    outage: Outage, *, servicenow: ServiceNowResource, monitoring: MonitoringResource
) -> Step:
    """Open the outage report (a ServiceNow incident for the on-call group), or add to the open one."""
    item = outage.item
    client = servicenow.client()
    try:
        existing = open_report(client, outage)
        if existing is not None and existing.correlation_id != item.key("outage_report"):
            client.add_work_note(
                existing.sys_id,
                f"Also reported: {report_text(outage)}",
                idempotency_key=item.key("outage_report:note"),
            )
            found = outage.with_(incident_number=existing.number, incident_id=existing.sys_id, existing=True)
            return Step.passed(found, "outage.report_updated", incident=existing.number, system=outage.system)
        incident = client.create_incident(
            f"[outage] {outage.system} is down",
            correlation_id=item.key("outage_report"),
            description=report_text(outage),
            urgency=1,
            impact=1,
            assignment_group=monitoring.oncall_team,
            u_requester=item.requester,
            **{OUTAGE_SYSTEM_FIELD: slug(outage.system)},
        )
    except VendorRejected as exc:
        if exc.status == 401:  # EAS's own credentials: fail the run, do not blame the request
            raise
        return Step.refused(f"ServiceNow refused the outage report: {exc}", system=outage.system)
    opened = outage.with_(incident_number=incident.number, incident_id=incident.sys_id)
    return Step.passed(
        opened,
        "outage.report_opened",
        incident=incident.number,
        system=outage.system,
        severity=outage.severity,
    )


@workflow_step(Outage)
def dispatch_outage(
    outage: Outage,
    *,
    monitoring: MonitoringResource,
    pagerduty: PagerDutyResource,
    opsgenie: OpsgenieResource,
    notifications: NotificationsResource,
) -> Step:
    """Page and post the outage by its severity (P0: PagerDuty and Slack)."""
    alert = Alert(
        key=outage.key,
        severity=outage.severity,
        summary=f"Outage: {outage.system} is down" + (f" in {outage.location}" if outage.location else ""),
        component=slug(outage.system),
        description=report_text(outage),
        details={"incident": outage.incident_number or "", "system": outage.system},
        channels=outage.channels,
    )
    sent = dispatch_alert(
        alert,
        monitoring=monitoring,
        pagerduty=pagerduty,
        opsgenie=opsgenie,
        notifications=notifications,
        request_id=outage.item.request_id,
    )
    return Step.passed(
        outage.with_(dispatched=tuple(sorted(sent))),
        "alert.dispatched",
        key=alert.key,
        severity=alert.severity,
        sent=sent,
        incident=outage.incident_number,
    )


@workflow_step(WorkResult, optional=False)
def confirm_outage(outage: Outage, *, notifications: NotificationsResource) -> Step:
    """Tell the requester the report's number and who was alerted."""
    item = outage.item
    report = f"Outage report {outage.incident_number}"
    what = (
        f"{report} for {outage.system} was already open: your report was added to it"
        if outage.existing
        else f"{report} opened for {outage.system}"
    )
    body = f"{what} ({outage.severity}). Alerted: {', '.join(outage.dispatched)}."
    notifications.send(
        item.requester,
        f"Outage report {outage.incident_number}: {outage.system}",
        body,
        request_id=item.request_id,
        idempotency_key=item.key("notify:outage"),
        detail={"incident": outage.incident_number},
    )
    verb = "added to open" if outage.existing else "opened"
    summary = (
        f"outage report {outage.incident_number} {verb} for {outage.system}, {outage.severity} dispatched"
    )
    detail = {
        "incident": outage.incident_number,
        "system": outage.system,
        "severity": outage.severity,
        "dispatched": list(outage.dispatched),
        "existing": outage.existing,
    }
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


monitoring_outage_report = workflow_job(
    name=OUTAGE_JOB,
    agent="monitoring",
    description="Open an outage report (ServiceNow), dispatch it by severity (PagerDuty, Opsgenie, Slack).",
    steps=(describe_outage, open_outage_report, dispatch_outage, confirm_outage),
)
