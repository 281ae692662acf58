"""Templates for the monitoring agent: health checks, alerts and outages.

Monitoring traffic is partly machine-written, so alert-style lines ("ALERT: ...",
"WARN: ...") sit beside the questions people type.
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "monitoring.system_health": (
        "is {system} (up|healthy|running)",
        "(health|status) check (on|for) {system}",
        "how is {system} doing",
        "what's the (latency|error rate|CPU usage) (of|on) {system}",
        "any alerts on {system} (in the last {duration}|today)",
        "are all systems (green|operational)",
        "show (the|) (dashboard|status page) for {system}",
        "ALERT: latency on {system} above threshold",
        "is {system} slow right now",
        "check the servers in {location}",
        "monitor {system} for the next {duration}",
        "health report for {system} (for|over) {date_range:past}",
        "WARN: disk usage on {system} above 85%",
        "how's the infrastructure (looking|today)",
        "status of {system} in {location}",
        "MONITOR: {system} memory usage high for {duration}",
        "[warning] {system} response time degraded in {location}",
    ),
    "monitoring.outage_report": (
        "{system} is down",
        "(we have|there's) an outage (on|in|with) {system}",
        "report an outage: {system} (not responding|unreachable|returning 500s)",
        "CRITICAL: {system} unreachable (since {date:past}|for {duration})",
        "{system} has been down for {duration}",
        "nobody in {location} can reach {system}",
        "post an outage notice for {system} in {channel}",
        "declare {a} {priority} outage for {system}",
        "INCIDENT: {system} outage (in|affecting) {location}, {priority}",
        "I can't (connect to|access|log into) {system}, is it down for everyone",
        "the outage on {system} started {duration} ago",
        "outage: {system}",
        "{system} (crashed|went down) (again|this morning)",
        "report downtime on {system} since {date:past}",
        "ALERT: {system} health check failing in {location}",
        "users in {location} report {system} is completely unavailable",
    ),
}
