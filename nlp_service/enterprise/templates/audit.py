"""Templates for the audit agent: who did what, when."""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "audit.query": (
        "who changed {system} (on {date:on}|{date:past}|{date_range:past})",
        "show the audit log for {system} (for {date_range:past}|)",
        "what did {employee} (do|access|change) in {system} {date_range:past}",
        "audit trail for {request_id}",
        "who approved {invoice_id}",
        "list all logins (to|on) {system} (for|during) {date_range:past}",
        "who accessed {system} {date_range:past}",
        "show changes made by {email} (since {date:past}|)",
        "audit activity of {employee} on {system}",
        "pull the history of {po_number}",
        "who deleted records in {system} (on {date:on}|{date:past})",
        "audit query: {system}, {date_range:past}",
        "when was {employee} given access to {system}",
        "show every action on {request_id}",
        "export the access logs for {system} for {date_range:past}",
        "who edited the {report_name} (during|over) {date_range:past}",
    ),
}
