"""Templates for the audit agent: who did what, when.

Questions about actions in business systems; "who invented the telephone" or "who won the
game" is trivia and out of scope (see ``oos``).
"""

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
        "who (changed|deleted) the (record|setting|config) in {system} (on {date:on}|{date_range:past}|)",
        "(show|pull) the (change|access) (log|history) (for|of) {system} (since {date:past}|)",
        "(who|which user) (approved|rejected|submitted) {request_id}",
        "(who|which user) (paid|entered|edited) {invoice_id}",
        "(list|show) everything {employee} did (in {system}|) {date_range:past}",
        "(who|which admin) (granted|gave) {employee} {role:access} (on|in) {system}",
        "when did {employee} last (log in|sign in) (to|on) {system}",
        "(history|audit trail) (of|for) {invoice_id}",
        "(history|audit trail) (of|for) {ticket_id}",
        "(who|which user) (exported|downloaded) (data|files) from {system} {date_range:past}",
        "(show|find) (failed|suspicious) logins (on|to) {system} (from {location}|) {date_range:past}",
        "(who|what) (touched|updated) {po_number} last",
        "(trace|track) all the changes to {po_number}",
        "(give me|show) (an|the) audit trail for {department} (for {period}|)",
        "(was|has) {system} (changed|accessed) (out of hours|over the weekend) {date_range:past}",
        "(who|which users) (has|have) {role:access} (access|rights) (on|to) {system}",
        "(list|show) permission changes (in|on) {system} (since {date:past}|{date_range:past})",
        "who changed the bank details for {vendor} (and when|)",
        "(audit|check) the (logs|history) for {email}",
        "(did|has) {employee} (accessed|opened|viewed) {system} (on {date:on}|{date_range:past})",
        "(when|what time) was {request_id} (approved|processed|created)",
        "(show|list) (the|all) admin actions (in|on) {system} (for {period}|{date_range:past})",
        "(pull|export) (the|an) audit log (for|of) {employee} (for {date_range:past}|)",
        "who (ran|triggered|kicked off) the (job|export|sync) (on|in) {system} {date:past}",
        "(what|which) records did {email} (delete|change) (in {system}|) {date_range:past}",
        "who (signed off on|approved) the {amount} payment to {vendor}",
        "(show|give me) the (edit|version) history of the {report_name}",
        "(is there|do we have) a record of who (opened|viewed) {system} {date_range:past}",
        "(who|which person) (created|raised) {po_number}",
        "(who|which person) (closed|reassigned) {ticket_id}",
        "(need|I need) the audit trail for {request_id} for the auditors",
        "(when|who) did the (price|config|permission) change in {system} happen",
        "(log|history) of (approvals|rejections) by {employee} (for {period}|{date_range:past})",
        # who did what and when in the logs (out of hours, approvals someone made, logins): not system
        # health, not an incident report, not the list of pending approvals
        "(who|which person) (logged into|signed in to) {system} (after hours|at night|over the weekend) "
        "{date_range:past}",
        "(pull|get) (me|) the (login|sign-in) (history|records) (for|of) {employee} (on {system}|) "
        "(for {date_range:past}|)",
        "(did anyone|has anybody) (touch|modify|make changes to) {system} {date_range:past}",
        "(how many|list the) failed (login|sign-in) attempts (by|for) {employee} (in {system}|) "
        "{date_range:past}",
        "(I need|need) to know who (changed|edited|updated) the (pricing|permissions|config|settings) in "
        "{system}",
        "(someone|somebody) (changed|deleted|removed) (a|the) (setting|record|user) in {system}. "
        "(who was it|can you find out who)",
        "(the auditors|internal audit) (want|asked for|need) a list of (every|all) (change|changes) to "
        "{system} (in {period}|{date_range:past})",
        "(what|which) (requests|invoices) did {employee} approve {date_range:past}",
        "(who|which manager) (rejected|turned down) {request_id} and (when|why)",
        "(show|pull) the (record|log) of (every|each) (rejection|approval) {employee} (made|gave) (in|for) "
        "{period}",
        "(what|which) changes were made to {system} (on {date:on}|{date:past}|{date_range:past}) and by whom",
        "(any|were there) (logins|sign-ins) (to|on) {system} from {location} {date_range:past}",
        "(export|download) (a|the) (csv|CSV|spreadsheet) of (the|) audit (events|entries) for {system} "
        "({date_range:past}|)",
        "(look up|look at) the audit log (and see|to see) who (opened|touched|viewed) {invoice_id}",
        "(is there|do we have) (a|any) record of {employee} (approving|signing off on|editing) {po_number}",
        "(check|search) the (audit|access) logs (for|to see) (what|everything) {email} (did|changed) (in|on) "
        "{system} (on {date:on}|{date:past})",
        "who (added|removed) {employee} (to|from) {system} (and when|)",
        "(was|has) anyone (given|granted) {role:access} (access|rights) (on|to) {system} {date_range:past}",
        "(timeline|sequence) of (events|actions) (for|on) {request_id}",
        "(who|which user) (made|pushed) the last change to {system}",
        "(who|which user) approved {invoice_id} (without|with no) (a PO|a second approval)",
        "(any|were there) (changes|logins) (to|on) {system} "
        "(out of hours|outside working hours|at the weekend) {date_range:past}",
        "(can you|) (tell me|find out) who last (edited|updated) the {vendor} (record|bank details) "
        "(in {system}|)",
        "(we're|I'm) preparing for (the|an|our) (SOX|internal) audit, (need|I need) (the|a) log of "
        "(admin|privileged) changes (to|in) {system} (for {period}|)",
        "(change log|changelog|activity log) (for|of) {system} (over|for) {date_range:past}",
        "(trace|track down) who (deleted|removed) (the|those) (records|files|rows) (from|in) {system} "
        "{date:past}",
        "(who|which users) (looked at|viewed|downloaded) the {report_name} {date_range:past}",
        "(not an outage|nothing is broken), I just (need|want) to know who (changed|touched) {system} "
        "{date:past}",
        # issue 13, round 3: phrasings from dev-split errors
        "(list|show) (everyone|all users|all accounts) with {role:access} (on|in|to) {system}",
        "who (can|is able to) (edit|see|write to|administer) {system} (right now|today|at the moment)",
        "(how many|which) people (hold|have) {role:access} (permissions|access|roles) (in|on) {system}",
        "(give me|pull) a list of {role:access} (users|accounts) (in|on|for) {system}",
        "(any|were there any) (edits|changes|modifications) (to|in|on) {system} (during|over) "
        "{date_range:past}",
        "(has someone|has anybody|has anyone) (been in|gone into|messed with|tinkered with|edited) {system} "
        "{date_range:past}",
        "(who was|was anybody|was anyone) (poking around in|messing with|logged into) {system} "
        "{date_range:past}",
        "(did anyone log into|has anyone signed into|did anybody sign in to) {system} from {location} "
        "{date_range:past}",
        "(show|list) (logins|sign-ins|sessions) (to|on) {system} (coming|originating) from {location} "
        "(during|over|in) {date_range:past}",
        "(who|which accounts) (logged in|connected) (to|on) {system} from {location} {date_range:past}",
        "{system} (logins|sign-ins|access) from {location} {date_range:past}?",
        "(how many|count the) (logins|sign-ins) (on|to) {system} (from {location}|by {employee}) (over|for) "
        "{date_range:past}",
        "(who|which admin) (handed out|assigned|gave out) {role:access} (on|in|to) {system} "
        "{date_range:past}",
        "(list|show) (all|the) (new|) {role:access} (grants|assignments) (on|in) {system} {date_range:past}",
        "(did {system} get|has {system} had) any new {role:access} (users|accounts) {date_range:past}",
        "have any (permissions|roles) (on|in) {system} been (changed|escalated|elevated) {date_range:past}",
        "I don't need a compliance (check|review), just (tell me|show me) who has {role:access} on {system}",
        # issue 13, round 4: lessons from dev-split errors
        "who (signed off on|okayed|authorised) {invoice_id}",
        "(which person|who) (keyed in|created|booked|posted) {invoice_id} (in {system}|)",
        "who was the approver (on|for) {invoice_id}",
        "(change|edit|approval) history (on|of|for) {invoice_id}",
        "(show|pull) the (log|trail) of (every action|all actions|who did what) on {invoice_id}",
        "{invoice_id}: who (approved|entered|changed) it (and when|)?",
        "(list|show) (every|each) (login|sign-in) (to|on) {system} (in|across|over) {date_range:past}",
        "(all|list the) (sign-ins|logins) (to|on) {system} (on weekends|overnight|at night) "
        "(during|in) {date_range:past}",
        "number of {system} sign-ins from {location} {date_range:past}",
        "(which people currently have|who currently has|who has) (access to|rights on) {system} (now|)",
        "who (currently|right now) (has|holds) (write|read|edit|admin) access (to|on) {system}",
        "list the people who can (open|view|change) {system} (today|right now|as of now)",
    ),
}
