"""Templates for the data analysis agent: reports and KPI questions.

Business reports and metrics; a weather, traffic, sports or credit report is out of
scope (see ``oos``).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "data_analysis.report_request": (
        "(generate|run|pull) the {report_name} (for {period}|)",
        "send me the {report_name}",
        "I need the {report_name} for {department}",
        "can I get the {report_name} (for {period}|) by {date}",
        "email the {report_name} to {email}",
        # a report sent somewhere is still a report request: the data agent runs it and delivers it
        "mail the {report_name} to {email}",
        "(email|send) {recipient} the {report_name}",
        "build a report on {metric} (for {period}|by department)",
        "(please|) prepare the {report_name} for {location}",
        "where's the {report_name} for {period}",
        "run {report_name}",
        "report request: {report_name}, {period}, {department}",
        "schedule the {report_name} (weekly|every monday|monthly) to {email}",
        "export the {report_name} as (a PDF|a spreadsheet|CSV)",
        "could you put together {a} {metric} report (for {period}|)",
        "refresh the {report_name} with {period} numbers",
        "share the latest {report_name} in {channel}",
        "I'd like a breakdown of {metric} by region for {period}, as a report",
        "(pull|get) me the {report_name} (for {period}|)",
        "{report_name} (for {period}|) pls",
        "(can|could) (you|I) (get|see) a report (of|on) {metric} (by department|for {period})",
        "I need a report (on|of|showing) {metric} (for {period}|by region)",
        "(generate|create|make) a (sales|expense|headcount|spend) report (for {period}|)",
        "report on (spend|sales|tickets) (by|per) (vendor|region|department) (for {period}|)",
        "where can I find the {report_name}",
        "(run|put together) a quick report on {metric} (for {department}|)",
        "(update|refresh) the {report_name} (dashboard|)",
        "(what|which) reports (are available|can I get) (for {department}|)",
        "(monthly|weekly|quarterly) report (for|on) {metric}, please",
        "I want the {report_name} (broken down|split) by (region|department|product)",
        "(need|want) a spreadsheet of {metric} (for {period}|)",
        "report of all (expenses|invoices|tickets) (over {amount}|for {period})",
        "(set up|schedule) a (weekly|monthly) {report_name} (for {department}|)",
        "{report_name}?",
        "get the {report_name} over to {email} (by {date}|)",
        "is the {period} {report_name} (ready|out) yet",
        "(please|) rerun the {report_name}, the numbers look off",
        "(make|build) me a (dashboard|report) (of|with) {metric} and {metric}",
        "need the {report_name} for the board meeting {date}",
        "send the {report_name} for {location} to {email}",
        "(draft|compile) the {report_name} for {period} (in {currency}|)",
        "(give me|pull) a report of vendor spend (for {period}|) in {currency}",
        "{department} wants the {report_name}, can you (run|send) it",
        "report please: {metric} by month (for {period}|)",
        "can you (do|make) an ad hoc report on {metric} for {location}",
        "the {report_name} didn't arrive ({date_range:past}|{date:past}), please resend",
        "PDF of the {report_name} for {period} please",
        # a report is produced and maybe delivered (inbox, channel, a recurring subscription): not an
        # e-mail to a person (communication.send_email), not a meeting ("schedule ... every monday"),
        # and a report that never arrived is sent again here, not recovery.retry_request
        "(can you|could you|) (set up|create) a (recurring|standing) (delivery|subscription) of the "
        "{report_name} to {email}",
        "I want the {report_name} (in my inbox|emailed to me) every (monday|morning|week)",
        "(subscribe|sign) me (to|up for) the {report_name}",
        "(auto-send|automatically send) the {report_name} to {channel} (every week|each month|on fridays)",
        "(never got|didn't get|haven't received) the {report_name} (for {period}|), (can you|) (send|run) it "
        "(again|)",
        "where is the latest {report_name}, it (never came|didn't come through)",
        "is there a report (that shows|showing|with) {metric} (by|per) (region|team|customer)",
        "(prepping|getting ready) for the (board meeting|offsite|all-hands), (can you|) pull together a "
        "report on {metric} and {metric} (for {period}|)",
        "my manager (asked for|wants) the {report_name} (by {date}|by end of day), can you (run|generate) it",
        "{report_name} (for|) {department} {period} (pls|please|)",
        "(excel|xlsx|csv) (export|version) of the {report_name} (for {period}|) (please|)",
        "(download|export) a report of (all|) {metric} (data|numbers) (for {period}|) (to excel|as a csv|)",
        "(write up|produce) a (summary|written) report on {metric} (trends|performance) (for {period}|)",
        "(I'd like|i want) to see a report (of|on) "
        "(open POs|vendor spend|overdue invoices|headcount changes) (for {period}|)",
        "(run|pull) the (numbers|report) (for|on) {department} (for {period}|) and (send|email) (it|them) to "
        "{email}",
        "(post|drop) the {report_name} (in|into) {channel} (when it's ready|every monday)",
        "can the {report_name} include {metric} (too|as well) (from now on|)",
        "(add|include) {location} (to|in) the {report_name}",
        "(need|want) (a one-off|a custom|an ad-hoc) report: {metric} (by|per) (week|month|region) "
        "(for {period}|)",
        "(generate|produce) a (summary|report) of (all|) (expenses|invoices|tickets|orders) "
        "(for {department}|) (from|over) {date_range:past}",
        "(can I|could I) (have|get) a PDF (copy|version) of the {report_name} (sent|emailed) to {email}",
        "two things: the {report_name} for {period} and the {report_name} for {period}. (need|I need) both "
        "(by {date}|)",
        "the auditors (are coming|visit us) soon, (please|) (pull|prepare) the {report_name} for {period}",
        "report request (for|from) {department}: {report_name} (for {period}|)",
        "(I'm|we're) new (to|in) {department}, which report (has|shows) {metric}",
        "run the {report_name} (again|) for {period} (instead|) and (email|send) it to {email}",
        "(email|send) me a report (of|on) {metric} (for {period}|by region)",
        "(can|could) (we|you) (get|set up) a (dashboard|report) (tracking|for) {metric} (for {department}|)",
        # issue 13, round 3: phrasings from dev-split errors
        # (a named report is run here even when its name sounds like payroll, compliance or cash)
        "(kick off|fire off|produce) (the|a fresh) {report_name} (now|asap|for {period})",
        "{report_name}, {period}, (asap|by eod|when you can)",
        "(can you|) (put|get) the {report_name} (for {period}|) (together|out) (today|by {date})",
        "(how do I|where would I) (get|access|pull up) (last month's|the latest|this week's) {report_name}",
        "it's my first (week|day) (in|on) {department}, (how do I|where do I) (get|find) the {report_name}",
        "I don't need (an audit|a compliance review|a payroll change), just the {report_name} "
        "(for {period}|)",
        "(kick off|trigger|start) the {report_name} (run|job) (now|for {period}|)",
        "(the CFO needs|the board wants|the auditors need) (the|our) {report_name} (for {period}|) "
        "(by {date}|today)",
        "do we have {a} {report_name} (for {period}|) (I can look at|I could share|)",
        "(could I|can I) get {metric} (by|per) (region|segment|product) (in a report|as a spreadsheet) "
        "(by {date}|)",
        "(not the number|not just the number), (I want|I need) a (full|proper) report on {metric} "
        "(for {period}|)",
        # issue 13, round 4: phrasings from dev-split errors
        # a number is not enough: an explicit report on a metric is a report request, also when it starts with
        # "not"
        "a single (number|figure) won't cut it, (I need|please do) a (full|detailed|written) report "
        "(covering|about) {metric} (for {period}|)",
        "(skip|forget) the headline (number|figure) and (put together|write up) a (complete|proper) report "
        "on {metric} (for {period}|)",
        "no, not (a quick number|one figure|a KPI lookup): (a report|an actual report) on {metric} (by "
        "region|for {period}|by month)",
        # a metric broken down over time in a report stays a metric, not a report name
        "(weekly|monthly|quarterly) breakdown of {metric} as a (report|spreadsheet) (please|pls|)",
        "(reporting|report) needed: {metric} (split|broken down) by (week|quarter|team) (for {period}|)",
        "{metric} (per|by) (week|quarter|region), (in a report|as a report) (please|thx|)",
        # producing a named report (a summary, a statement, a plan) is the data agent's job, not documents
        "(the CFO|my director|finance) (needs|asked for) the {report_name} (today|before the meeting|by "
        "{date}). (please|can you) (produce|create|generate) it",
        "(generate|produce|create) the {report_name} (for {period}|) and (email|send) it (to me|over|to "
        "{email})",
        "(could you|can you) (whip up|spin up|knock out) the {report_name} (for {period}|) (before lunch|by "
        "eod|today)",
        # report names with "statement", "plan", "register" or "schedule" in them, posted to a channel
        "(post|drop|upload) the (newest|current|most recent) {report_name} (to|into) {channel}",
        "(can you|) put a copy of the {report_name} in {channel} (for the team|so everyone sees it|)",
        "(send|push) the {report_name} (for {period}|) to {channel} (please|pls|when it's ready)",
        # a report that never arrived is sent again here (not recovery.retry_request)
        "I was (supposed|meant) to get the {report_name} {date:past} but it never (came|arrived|landed), "
        "(send|run) it again",
        "(please|) (resend|re-send) the {report_name} (for {period}|), (it never reached my inbox|my copy "
        "never arrived|it didn't come through)",
        "no {report_name} in my inbox (for {date_range:past}|since {date:past}|this week), (can you|please) "
        "(resend|re-run) it",
        "the (scheduled|automatic|recurring) {report_name} (email|delivery) (didn't go out|was never "
        "sent|got skipped) {date:past}, (send|push) it now",
        # recurring delivery: the weekday or frequency is not a date
        "(set|schedule) the {report_name} to go (out|) to {email} every (tuesday|friday|monday morning|first "
        "of the month)",
        "(have|get) the {report_name} (sent|delivered|mailed) to {email} (each|every) (week|month|thursday)",
        "{report_name} to {email}, (monthly|weekly|every friday) (please|thanks|)",
        # terse, shouted or casual requests for a named report
        "{report_name} when you (get a sec|have a minute|can) (pls|please|thx)",
        "(need|want) (the|our) {report_name} (pls|please), no rush",
        "{period} {report_name} (please|pls|asap)",
    ),
    "data_analysis.kpi_query": (
        "what (was|is) our {metric} (for {period}|{period})",
        "show me {metric} (by region|for {location})",
        "how did {metric} trend over {period}",
        "{metric} for {period}",
        "what's the current {metric}",
        "compare {metric} between {period} and {period}",
        "give me {metric} in {currency} for {period}",
        "what was the {metric} of {department} for {period}",
        "is {metric} up or down (vs|compared to) {period}",
        "KPI: {metric}, {period}",
        "tell me our {metric} (number|figure) for {period}",
        "how are we doing on {metric} ({period}|so far)",
        "what's {metric} at {location} (for {period}|)",
        "did we hit our {metric} target (for {period}|)",
        "{metric} (vs|versus) target for {period} in {currency}",
        "quick number: {metric}, {department}, {period}",
        "show {metric} for {period} converted to {currency}",
        "{metric}?",
        "{metric} {period}?",
        "(what's|whats) {metric} (looking like|at) (right now|)",
        "(what|how much) did we (make|earn|bring in) (in|for) {period}",
        "how many (customers|orders|deals) did we (have|get|close) (in|for) {period}",
        "are we on track for (our|the) {metric} target (for {period}|)",
        "(did|has) {metric} (improve|go up|drop) (since|after) {period}",
        "(what's|give me) the {metric} number for {location}",
        "{metric} by (month|quarter|region) (for {period}|)",
        "what's our {metric} (trend|trending like) (over {period}|)",
        "(our|the) {metric} (vs|compared to) {period}",
        "{department} {metric} (for|in) {period}?",
        "how is {department} doing on {metric}",
        "what's the {metric} (target|goal) (for {period}|)",
        "top (5|10|five) (customers|products|vendors) by {metric} (for {period}|)",
        "what percent did {metric} (grow|change) (in|over) {period}",
        "(roughly|approximately|) what is {metric} for {department} right now",
        "has {metric} (recovered|bounced back) (since|after) {period}",
        "how much did {metric} move week over week",
        "(which|what) region has the (best|worst) {metric} (in {period}|)",
        "where (do|are) we stand on {metric} (for {period}|)",
        "(number|figure) for {metric} (in|for) {period} please",
        "how does {location} compare on {metric} (for {period}|)",
        "what's driving the (drop|jump) in {metric} (in {period}|)",
        "how was {metric} (over|for) {date_range:past}",
        "is our {metric} better than {period}",
        "average {metric} (across|for) {department} (in {period}|)",
        # one number or trend ("just the number, no report"); a full write-up is report_request
        "{metric} (rn|right now|atm)?",
        "(how is|how's) {metric} (looking|doing) (for|in) {period}",
        "(quick q|quick question|quick one): (what is|what's) {metric} (for {period}|)",
        "(do you know|can you tell me) what (our|the) {metric} (is|was) (for {period}|)",
        "I need the {metric} (number|figure) for (a slide|my deck|the board deck) (for {period}|)",
        "how many (new customers|signups|active users|paying customers) (did we get|did we have) (in|for) "
        "{period}",
        "(give me|get me) (just|) the number for {metric}, (no|I don't need a) report",
        "not a full report, (just|only) (tell me|give me) {metric} (for {period}|)",
        "(is|are) {metric} (above|below|over|under) (target|plan|budget) (for {period}|)",
        "(what|how) (are|were) the numbers on {metric} (in|for) {location}",
        "{location} {metric} {period}?",
        "(what does|how does) {metric} look (month over month|quarter over quarter|year over year)",
        "(where are we|how are we) (tracking|pacing) (against|on) (the|our) {metric} (goal|target|plan)",
        "(my boss|our VP|the CFO) (wants to know|is asking) (our|the) {metric} (for {period}|), what is it",
        "{metric} (number|figure) (for|in) {department} pls",
        "what (was|is) {metric} (in|converted to) {currency}",
        "(what did|where did) {metric} (end up|come in|land) (at|) (for|in) {period}",
        "(what was|how was) {metric} {date:past}",
        "(numbers|stats) check: {metric} and {metric} (for {period}|)",
        "(I'm|I am) (curious|wondering) (about|what) (our|the) {metric} (is|looks like) (for {period}|)",
        "(any idea|do we know) where {metric} (is|landed) (for {period}|)",
        "how much did {department} (bring in|sell) (in|for) {period}",
        "(tell me|show me) (how|whether) {metric} (changed|moved) after the (price change|launch|reorg)",
        "how many (open deals|active customers|employees) (do we have|are there) "
        "(in {location}|in {department}) (right now|)",
        "{metric} (vs|versus|and) {metric} (for {period}|)?",
        "(is|was) {metric} (higher|lower|better|worse) in {location} (than|or) {location}",
        "(what's|what is) {metric} (running at|at) (for {department}|in {location}) (so far|)",
        "how much has {metric} (grown|fallen|changed) since {period}",
        # issue 13, round 3: phrasings from dev-split errors
        # (one number, compared or ranked across sites, teams or periods; not a system's live health)
        "(rank|sort) (our|the) (regions|sites|offices|warehouses) by {metric} (for {period}|)",
        "(where|in which region|in which office) is {metric} (the highest|the lowest|worst|best) "
        "(right now|for {period}|)",
        "(which|what) (team|department|site|store) (has|had) the (highest|lowest) {metric} (for {period}|)",
        "(who's|who is) (leading|lagging|at the bottom) on {metric} "
        "(across the regions|among our sites|by team)",
        "(between|comparing) {location} and {location}, (which|who) (does better|is ahead) on {metric}",
        "how does {metric} (in|at) {location} stack up against {location} (for {period}|)",
        "(did|does) {location} (beat|trail|outperform) {location} on {metric} (for {period}|)",
        "how (bad|high) (was|is) (our|the) {metric} (in|for) {period}",
        "(how many people|what percentage of staff) (left|quit) the company (in|during) {period}",
        "(how's|how is) {department} (tracking|trending|looking) on {metric} ({period}|for {period}|)",
        "(was|is) {metric} (up|down|better) (in|at) {location} (vs|compared to|relative to) {location} "
        "({period}|for {period}|)",
        "I'm (building|prepping) (a slide|the QBR deck) (on|about) {location}, what (was|is) (its|their) "
        "{metric} (for {period}|)",
        "{metric} by (site|office|region), (best to worst|worst to best|ranked)",
        # issue 13, round 4: phrasings from dev-split errors
        # a site or office leading a terse question ("Building 2 ...", "Store 58 ...")
        "{location}: {metric} (for {period}|so far)?",
        "{location} numbers (please|pls): {metric} (for {period}|)",
        "for {location}, what's {metric} (looking like for {period}|at right now|)",
        "(how|where) does {location} (rank|sit|stand) on {metric} (for {period}|) (against the other "
        "sites|vs the rest|)",
        "{location} vs (the rest|the other sites|everyone else) on {metric} (for {period}|)",
        # which region or site is weakest or strongest on a metric
        "(which|what) (market|country|territory|site) (is weakest|is strongest|lags most|is furthest behind) "
        "on {metric} (at the moment|for {period}|)",
        "where are we (weakest|strongest|struggling most) (on|with) {metric} (these days|at the moment|for "
        "{period})",
        "show me the (bottom|top) (three|3|five) (regions|sites|markets) for {metric}",
        # ranking things by a metric
        "(list|rank|give me) (our|the) (top|bottom) (3|ten|20) (accounts|segments|stores|sales reps) (by|on) "
        "{metric} (for {period}|)",
        "(best|worst) (performing|) (stores|products|reps) (by|in terms of) {metric} (for {period}|)?",
        # a team named like a metric ("product", "customer experience") is the department
        "(how are|how's) {department} (doing|performing|getting on) (with|in terms of) {metric} (for "
        "{period}|)",
        "{department}: (how is|how's) {metric} (looking|trending) (for {period}|)?",
        "what does {metric} look like (for|in) {department} (for {period}|right now)",
        "is {department} (hitting|missing|on track for) (its|their) {metric} (target|goal) (for {period}|)",
        # why a metric moved: the metric after "in" / "of"
        "why did {metric} (drop|dip|fall|spike|jump) (in {period}|so much|)",
        "why (is|was) {metric} (falling|slipping|climbing) (lately|in {period}|)",
        "what (caused|explains|is behind) the (decline|dip|spike|increase) (in|of) {metric} (for {period}|)",
        # plan / budget / forecast / target after the metric are plain words
        "how is {metric} (tracking|pacing) (against|vs|relative to) (plan|budget|forecast) (for {period}|)",
        "are we ahead of or behind (plan|budget|target) on {metric} (for {period}|)",
        "{metric} against (plan|budget|forecast) (for {period}|)?",
        "is {metric} (going to|on pace to) (hit|make|miss) (its|the) (target|plan|number) (for {period}|)",
        # a long metric mid-sentence, compared across sites or periods
        "has {metric} (gone up|come down|improved) (at|in) {location} (since {period}|compared with "
        "{location})",
        "(is|was) {metric} (at|in) {location} (trending|moving) (up|down) (for {period}|)",
        "(hey|ok|) (our|) {metric} (up or down|higher or lower) (versus|compared with) {period}?",
    ),
}
