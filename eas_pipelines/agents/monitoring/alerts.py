"""Raising an alert: to PagerDuty, Opsgenie, Slack or the digest, as its severity says (:mod:`.severity`).

Every destination is idempotent on the alert's ``key``: PagerDuty's ``dedup_key``, Opsgenie's
``alias`` (an open alert with it is counted, not doubled), the digest's set member. So a retried
dispatch, or the same problem found by two health checks, pages once. Slack posts are keyed by the
alert and the request (the delivery ledger): each request's alert is posted once, a retry does not
post again; an alert raised outside a request is posted at most once an hour. A destination that
stays down fails the call (the op retries, then the run fails with the connector's reason); those
reached before it are not repeated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eas_pipelines.agents.monitoring.resources import MonitoringResource
from eas_pipelines.agents.monitoring.severity import OPSGENIE_PRIORITY, PAGERDUTY_SEVERITY, destinations
from eas_pipelines.agents.notifications import NotificationsResource
from eas_pipelines.connectors.opsgenie import OpsgenieResource
from eas_pipelines.connectors.pagerduty import PagerDutyResource

SOURCE = "eas-monitoring"


@dataclass(frozen=True)
class Alert:
    """One problem to tell people about; ``key`` identifies the problem (not the request)."""

    key: str
    severity: str
    summary: str
    component: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()  # Slack channels besides the alert channel (an outage notice's)


def dispatch_alert(
    alert: Alert,
    *,
    monitoring: MonitoringResource,
    pagerduty: PagerDutyResource,
    opsgenie: OpsgenieResource,
    notifications: NotificationsResource,
    request_id: str | None,
) -> dict[str, str]:
    """Send ``alert`` where its severity says; returns destination -> that system's reference."""
    route = destinations(alert.severity)
    details = {
        "severity": alert.severity,
        **({"request_id": request_id} if request_id else {}),
        **alert.details,
    }
    sent: dict[str, str] = {}
    if route.pagerduty:
        accepted = pagerduty.client().trigger(
            alert.summary,
            source=SOURCE,
            severity=PAGERDUTY_SEVERITY[alert.severity],
            dedup_key=alert.key,
            component=alert.component,
            group="eas",
            event_class=alert.key.split(":", 1)[0],
            custom_details=details,
        )
        sent["pagerduty"] = accepted.dedup_key
    if route.opsgenie:
        receipt = opsgenie.client().create_alert(
            alert.summary,
            alias=alert.key,
            priority=OPSGENIE_PRIORITY[alert.severity],
            description=alert.description,
            responders=[{"type": "team", "name": monitoring.oncall_team}],
            tags=["eas", alert.severity, alert.component],
            details=details,
            entity=alert.component,
            source=SOURCE,
        )
        sent["opsgenie"] = receipt.request_id
    if route.slack:
        body = "\n".join(filter(None, [alert.description, _facts(details)]))
        for channel in dict.fromkeys((monitoring.alert_channel, *alert.channels)):
            delivery = notifications.send(
                channel,
                f"[{alert.severity}] {alert.summary}",
                body,
                request_id=request_id,
                idempotency_key=f"alert:{alert.key}:{request_id or _this_hour()}:{channel}",
                detail=details,
            )
            sent[f"slack:{channel}"] = delivery.reference
    if route.digest:
        monitoring.digest().add(alert.key, alert.summary, alert.component, details, time.time())
        sent["digest"] = monitoring.digest().key
    return sent


def _this_hour() -> str:
    """An alert raised outside a request is posted to a channel at most once an hour."""
    return time.strftime("%Y%m%d%H", time.gmtime())


def _facts(details: dict[str, Any]) -> str:
    return "\n".join(f"- {name}: {value}" for name, value in details.items())
