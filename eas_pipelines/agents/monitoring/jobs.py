"""Monitoring agent: ``monitoring_system_health``.

scope (which systems the request asks about) -> check EAS's services -> check the connectors ->
alert on what is wrong (by severity: :mod:`.severity`) -> answer the requester -> succeeded.

"Is SAP up?" checks SAP; "are all systems green?" checks everything. A system EAS does not monitor
("is GitHub up?") is a refusal naming what it can check. What is wrong raises one alert keyed by
the failing checks (``health:<names>``), so repeated checks of the same problem page and alert once
(PagerDuty's dedup key, Opsgenie's alias) while each requester still gets their answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from eas_pipelines.agents.common import Step, WorkItem, WorkResult, workflow_job, workflow_step
from eas_pipelines.agents.monitoring.alerts import Alert, dispatch_alert
from eas_pipelines.agents.monitoring.health import (
    CONNECTORS,
    SERVICES,
    Check,
    connector_check,
    gateway_check,
    nlp_check,
    overall,
    postgres_check,
    redis_check,
    severity_of,
    workers_check,
)
from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.monitoring.systems import EVERYTHING, check_of
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.bamboohr import BambooHRResource
from eas_pipelines.connectors.email import EmailResource
from eas_pipelines.connectors.jira import JiraResource
from eas_pipelines.connectors.opsgenie import OpsgenieResource
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.connectors.pagerduty import PagerDutyResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.salesforce import SalesforceResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource
from eas_pipelines.connectors.slack import SlackResource
from eas_pipelines.connectors.teams import TeamsResource
from eas_pipelines.resources import FastLaneResource, RequestStoreResource
from eas_pipelines.routing import ROUTES

HEALTH_JOB = ROUTES["monitoring.system_health"].job or "monitoring_system_health"


@dataclass(frozen=True)
class HealthReport:
    """What a health request asked about and what the checks found."""

    item: WorkItem
    targets: tuple[str, ...] = ()  # the checks asked for; empty: all of them
    checks: tuple[Check, ...] = ()
    alerted: dict[str, str] = field(default_factory=dict)

    def wants(self, name: str) -> bool:
        return not self.targets or name in self.targets

    def with_(self, **changes: Any) -> HealthReport:
        return replace(self, **changes)


def health_targets(item: WorkItem) -> tuple[tuple[str, ...], list[str]]:
    """The checks the request's systems name (none: all) and the names EAS does not monitor."""
    names = [str(n) for n in item.values("system")] or item.texts("system")
    targets: list[str] = []
    unknown: list[str] = []
    for name in names:
        if name.strip().lower() in EVERYTHING:
            return (), []
        found = check_of(name)
        (targets if found else unknown).append(found or name)
    return tuple(dict.fromkeys(targets)), unknown


@workflow_step(HealthReport)
def scope_health_check(item: WorkItem) -> Step:
    """Which systems to check: those the request names, else every service and connector."""
    targets, unknown = health_targets(item)
    if unknown and not targets:
        monitored = ", ".join((*SERVICES, *CONNECTORS))
        return Step.refused(
            f"EAS does not monitor {', '.join(unknown)}; it checks: {monitored}", systems=unknown
        )
    return Step.passed(
        HealthReport(item, targets), "health.scoped", targets=list(targets) or "all", not_monitored=unknown
    )


@workflow_step(HealthReport)
def check_services(
    report: HealthReport,
    *,
    monitoring: MonitoringResource,
    store: RequestStoreResource,
    fast_lane: FastLaneResource,
) -> Step:
    """EAS's own services: gateway, NLP replicas, PostgreSQL, Redis, the warm workers' heartbeats."""
    timeout, slow = monitoring.timeout_s, monitoring.slow_ms
    runs = {
        "gateway": lambda: gateway_check(monitoring.gateway(), timeout_s=timeout, slow_ms=slow),
        "nlp": lambda: nlp_check(monitoring.nlp_replicas(), timeout_s=timeout, slow_ms=slow),
        "postgres": lambda: postgres_check(store.get_store().engine, slow_ms=slow),
        "redis": lambda: redis_check(fast_lane.client, slow_ms=slow),
        "workers": lambda: workers_check(fast_lane.client, fast_lane.prefix),
    }
    checks = tuple(run() for name, run in runs.items() if report.wants(name))
    return Step.passed(
        report.with_(checks=checks), "health.services_checked", results=[c.as_row() for c in checks]
    )


@workflow_step(HealthReport)
def check_connectors(
    report: HealthReport,
    *,
    monitoring: MonitoringResource,
    sap: SapResource,
    servicenow: ServiceNowResource,
    salesforce: SalesforceResource,
    jira: JiraResource,
    slack: SlackResource,
    quickbooks: QuickBooksResource,
    bamboohr: BambooHRResource,
    outlook_calendar: OutlookCalendarResource,
    opsgenie: OpsgenieResource,
    pagerduty: PagerDutyResource,
    teams: TeamsResource,
    email: EmailResource,
) -> Step:
    """Each connector: its circuit breaker's state and one cheap read's latency (:data:`.health.PROBES`)."""
    resources = {
        "sap": sap,
        "servicenow": servicenow,
        "salesforce": salesforce,
        "jira": jira,
        "slack": slack,
        "quickbooks": quickbooks,
        "bamboohr": bamboohr,
        "outlook_calendar": outlook_calendar,
        "opsgenie": opsgenie,
        "pagerduty": pagerduty,
        "teams": teams,
        "email": email,
    }
    checks = tuple(
        connector_check(name, resource, slow_ms=monitoring.slow_ms)
        for name, resource in resources.items()
        if report.wants(name)
    )
    return Step.passed(
        report.with_(checks=report.checks + checks),
        "health.connectors_checked",
        results=[c.as_row() for c in checks],
    )


def health_alert(report: HealthReport) -> Alert | None:
    """The alert a report calls for (:func:`.health.severity_of`), keyed by what is wrong."""
    severity = severity_of(list(report.checks))
    if severity is None:
        return None
    wrong = [c for c in report.checks if str(c.health) != "ok"]
    names = sorted(c.name for c in wrong)
    summary = f"EAS health: {', '.join(f'{c.name} {c.health}' for c in wrong)}"
    return Alert(
        key=f"health:{'+'.join(names)}",
        severity=severity,
        summary=summary,
        component=names[0] if len(names) == 1 else "eas",
        description="\n".join(f"{c.name} ({c.kind}): {c.health}: {c.detail}" for c in wrong),
        details={c.name: f"{c.health}: {c.detail}" for c in wrong},
    )


@workflow_step(HealthReport)
def alert_on_findings(
    report: HealthReport,
    *,
    monitoring: MonitoringResource,
    pagerduty: PagerDutyResource,
    opsgenie: OpsgenieResource,
    notifications: NotificationsResource,
) -> Step:
    """Raise one alert for what is down or degraded, where its severity says; nothing when all is well."""
    alert = health_alert(report)
    if alert is None:
        return Step.passed(report, "health.all_ok", checks=len(report.checks))
    sent = dispatch_alert(
        alert,
        monitoring=monitoring,
        pagerduty=pagerduty,
        opsgenie=opsgenie,
        notifications=notifications,
        request_id=report.item.request_id,
    )
    return Step.passed(
        report.with_(alerted=sent), "alert.dispatched", key=alert.key, severity=alert.severity, sent=sent
    )


def health_answer(report: HealthReport) -> str:
    """The requester's answer: the overall state, then one line per check."""
    lines = [f"Overall: {overall(list(report.checks))}."]
    for check in report.checks:
        latency = "" if check.latency_ms is None else f", {check.latency_ms:.0f} ms"
        breaker = "" if check.breaker is None else f", circuit {check.breaker}"
        lines.append(f"- {check.name} ({check.kind}): {check.health}{latency}{breaker}. {check.detail}")
    if report.alerted:
        lines.append(f"Alert raised: {', '.join(sorted(report.alerted))}.")
    return "\n".join(lines)


@workflow_step(WorkResult, optional=False)
def answer_health(report: HealthReport, *, notifications: NotificationsResource) -> Step:
    """Tell the requester what was checked and what was found."""
    item = report.item
    state = overall(list(report.checks))
    notifications.send(
        item.requester,
        f"System health: {state}",
        health_answer(report),
        request_id=item.request_id,
        idempotency_key=item.key("notify:health"),
        detail={"health": str(state)},
    )
    bad = [c.name for c in report.checks if str(c.health) != "ok"]
    summary = f"{len(report.checks)} checks: {state}" + (f" ({', '.join(bad)})" if bad else "")
    detail = {"health": str(state), "checks": [c.as_row() for c in report.checks], "alerted": report.alerted}
    return Step.passed(WorkResult(item, summary, detail), "notifications.sent", recipients=[item.requester])


monitoring_system_health = workflow_job(
    name=HEALTH_JOB,
    agent="monitoring",
    description="Check EAS's services and connectors, alert on what is wrong by severity, answer.",
    steps=(scope_health_check, check_services, check_connectors, alert_on_findings, answer_health),
)
