"""Templates for the monitoring agent: health checks, alerts and outages.

Monitoring traffic is partly machine-written, so alert-style lines ("ALERT: ...",
"WARN: ...") sit beside the questions people type. Business systems and the office
network only; a router, a power cut or a streaming service at home is out of scope.
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
        "{system} ok?",
        "is {system} (working|alive|up) (right now|)?",
        "(any|are there any) (issues|problems|incidents) (with|on) {system} (right now|)",
        "(what's|how's) the (health|status) of {system}",
        "(show|check) the (CPU|memory|disk) (on|for) {system}",
        "(uptime|availability) (of|for) {system} (over|in) {date_range:past}",
        "are the servers (in {location}|) (ok|healthy)",
        "(is|are) (everything|all services) (running|ok) in {location}",
        "(check|ping) {system} (for me|)",
        "(WARNING|ALERT): {system} (CPU|memory|queue depth) (at|above) (90|95|80)%",
        "(error rate|p99 latency) (on|for) {system} (over the last {duration}|{date_range:past})",
        "why is {system} (so slow|lagging) (right now|)",
        "(run|do) a health check on (all|the) (services|systems) in {location}",
        "(is|are) {system} and {system} (healthy|up)",
        "(get|show) me the status (page|dashboard) (for {location}|)",
        "(disk|storage) (space|usage) on {system}",
        "(queue|backlog) (depth|size) on {system}",
        "{system} feels sluggish, (can you check|is something wrong)",
        "how (are|is) (prod|production|{system}) (holding up|looking) after the release",
        "(show|list) (active|open|firing) alerts (for {system}|in {location}|)",
        "(is|are) (the|) backups (on|for) {system} (running|healthy)",
        "(check|monitor) {system} (closely|) during the (launch|migration) (on {date:on}|{date})",
        "[info] {system} (latency|error rate) (back to normal|recovered) in {location}",
        "what's the (CPU|memory) (on|for) {system} (right now|for the last {duration})",
        "any (errors|warnings) in the logs (for|of) {system} (in the last {duration}|{date_range:past})",
        "(green|healthy)? {system}",
        "(how|what) does the dashboard for {system} look",
        "(is|has) {system} (been|) stable since {date:past}",
        # more phrasings: is a system up, fast and healthy, asked before a release or after a slow
        # morning, plus SRE jargon (two systems holding different data is integration.data_sync)
        "(quick|) sanity check: (is|) everything (ok|fine) with {system}?",
        "(before|ahead of) the (release|deploy|demo) I (want to|need to) make sure {system} is healthy",
        "is {system} (throwing|logging|seeing) more (errors|timeouts|5xx) than usual",
        "(SLO|SLA|error budget) (status|burn|burn rate) (for|on) {system}",
        "how many (pods|instances|nodes|workers) are (running|healthy) (in|on|for) {system}",
        "(I'd like|send me|I want) a (daily|weekly|morning) health summary (for|of) {system}",
        "(keep an eye on|watch) {system} (overnight|over the weekend|for {duration}) and (tell me|ping me) "
        "if (anything|something) (spikes|looks off)",
        "(set up|create|add) an alert (for when|if) {system} (latency|CPU|error rate) "
        "(spikes|goes over the threshold)",
        "(do|) response times (in|from) {location} look (ok|fine|normal)",
        "(anything|any) (red|amber|yellow) on the (dashboard|status board|monitoring) "
        "(for {system}|right now)",
        "(are we|) still getting (heartbeats|metrics) from {system}",
        "(status|health) {system} (pls|)",
        "(memory|disk|CPU) (usage|) on {system} keeps (climbing|growing|going up), (is it|is that) "
        "(ok|a problem)",
        "(can|will) {system} (handle|cope with) the load (right now|during the sale|on {date:on})",
        "{system} was (a bit|really|kind of) slow (this morning|earlier|{date:past}), is it "
        "(ok|fine|back to normal) now",
        "{system}: (connection pool|thread pool|disk) (at|near) (capacity|90%) (for {duration}|)",
        "how (is|does) {system} (performing|perform) (compared to|vs) {date_range:past}",
        "(is|) the (SSL|TLS) (cert|certificate) (on|for) {system} (expiring soon|still valid)?",
        "(are|is) the (cron jobs|scheduled jobs|workers|consumers) on {system} (running|healthy|ok)",
        "(give me|I need) a (quick|) (status|health) (rundown|overview|summary) of "
        "(production|prod|everything) (in {location}|)",
        "(can you tell me|let me know) if {system} is (stable|healthy) enough for (the demo|the launch) "
        "({date}|)",
        "(do we have|is there) (monitoring|alerting|a dashboard) (on|for) {system}",
        "the (graphs|metrics|charts) for {system} look (weird|odd|off) since {date:past}, is (it|everything) "
        "(healthy|ok)",
        "how (busy|loaded) are the (servers|nodes|hosts) (in {location}|for {system}) "
        "(right now|at the moment)",
        "I (need to|have to) (run the month-end close|deploy|do a demo) (soon|in {duration}), is {system} "
        "(up|ok|healthy)",
        "(all good|everything fine) (on|with) {system} (in {location}|)?",
        "how healthy is (prod|the cluster|{system}) (right now|at the moment|)",
        "is {system} running (normally|as usual) (after the patch|since the upgrade|again)",
        # issue 13, round 3: phrasings from dev-split errors
        # (errors in a system's logs are health; who did what in a log is audit.query)
        "(anything|any exceptions|any stack traces|any timeouts) (showing up|logged) (for|from) {system} "
        "(in the logs|in the error log) (since {date:past}|over the last {duration}|)",
        "(scan|grep|check) the (application|error|server) logs (on|for) {system} for "
        "(errors|exceptions|timeouts) (from {date_range:past}|in the last {duration}|)",
        "(what's|what is) (filling up|spamming) the (error|app) logs (on|for) {system} (right now|today|)",
        "did {system} (log|throw) any (errors|warnings|exceptions) "
        "(overnight|since the deploy|{date_range:past})",
        "did (last night's|the nightly|the weekly) backup (of|for|on) {system} (succeed|complete|run ok)",
        "(is replication|are the snapshots|are the backup jobs) (on|for) {system} "
        "(lagging|up to date|working|ok)",
        "{system} (seems|feels|looks) (degraded|a bit off|slower than usual) (from|in) {location} "
        "(today|this morning|), (anything|is anything) going on",
        "(latency|load times) (in|from) {location} (back to normal|within SLO|at baseline) (yet|now|)?",
        "(it's not down|not an outage), (just|only) (slow|laggy|sluggish): {system} (takes|is taking) "
        "(forever|ages) to (load|respond) (today|)",
        "(it's|this is) my first (on-call shift|week on call), how (do I|can I) see whether {system} is "
        "healthy",
        "where (do I|can I) (see|look up) the (health|current status) of {system}",
        "{system} (latency|p95|error rate) (now|rn|atm)?",
        "WARN: {system} (backup|replication|cert renewal) (delayed|lagging|slow) in {location}",
        # issue 13, round 4: phrasings from dev-split errors
        # before a demo or presentation: is the system fine
        "(got|I have) a (client demo|presentation|demo) (later|this afternoon|in {duration}), is {system} "
        "(ok|healthy|behaving)",
        "before my (demo|presentation|launch call) (can you|) (confirm|check) {system} is (healthy|running "
        "fine|stable)",
        # degraded but up, alert-style or typed, in a location
        "(WARN|WARNING|Warning): {system} (latency|response times|p95) (elevated|degraded|up) (in|at) "
        "{location}",
        "(slow|degraded) (response times|performance) (on|for) {system} (in|from) {location}, (still up|not "
        "down) (though|)",
        "[(warning|WARNING|warn)] {system} (slow|latency high|degraded) (at|in) {location}",
        # anything amber or red, without naming a system
        "(is|are) (anything|any services|any checks) (amber|red|yellow|orange) (on the status page|in "
        "monitoring) (at the moment|now|)",
        "(what's|anything) showing (amber|red|yellow) on the (board|dashboards|status page) (today|right "
        "now|)?",
        # is a system monitored at all, where is its dashboard
        "(is|) {system} (monitored|covered by monitoring|on our dashboards) (at all|)?",
        "(where's|where is|is there) (a|the) (health|monitoring|status) (dashboard|page|board) (for|on) "
        "{system}",
        "(does anyone|do we) (monitor|watch|track) (the health of|the uptime of) {system} (anywhere|)?",
        "(any|anything) (red|failing|amber) (checks|lights|tiles) (for|on) {system} (on the board|on the "
        "dashboard|right now)",
        # a quick check that a system is fine
        "(just checking|double-checking|checking in): (is|) {system} (all good|behaving|fine) (today|right "
        "now|)?",
        "(everything|all) (ok|good|normal) (with|on) {system} (at the moment|today)?",
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
        "{system} down",
        "{system} (is|) down (again|for everyone)",
        "(I|we) can't (reach|log into|connect to|open) {system}",
        "{system} (not working|isn't loading|keeps crashing|won't load) (for anyone|for the whole team|)",
        "(everyone|the whole office|all of {department}) (lost|has no) access to {system}",
        "(there's|we have) {a} {priority} outage (on|in) {system}",
        "(report|reporting) (an outage|a service disruption) (for|on|in) {system} (in {location}|)",
        "{system} (returns|is throwing|gives) (500s|errors|a blank page) (for everyone|since {date:past}|)",
        "the (network|wifi|internet) (in|at) {location} is down",
        "(outage|incident) (started|began) (at 9am|an hour ago|{duration} ago) (on|in) {system}",
        "(DOWN|OUTAGE|CRITICAL): {system} (in {location}|)",
        "(nobody|no one) can (log in|sign in) to {system}",
        "the (phones|phone lines) (at|in) {location} are (down|dead)",
        "{system} went down (during|in the middle of) (the demo|payroll|checkout)",
        "total outage of {system} (since {date:past}|for {duration}), please (report|log) it",
        "{system} (is|has been) (dead|offline|unreachable) (for {duration}|since this morning)",
        "help, {system} is down and customers are calling",
        "(major|big) outage (on|in) {system}, (everything|all requests) (failing|timing out)",
        "(is|) {system} down for everyone or just me",
        "the office in {location} has no (internet|network|power)",
        "(page|alert) the on-call, {system} is down",
        "[critical] {system} (unavailable|down) in {location}",
        "{system} (has|had) (an outage|downtime) {date:past}, (log|report) it",
        "none of the (printers|badge readers|card readers) in {location} work",
        "(can't|cannot) (access|open) {system} from {location}, (looks like|seems like) an outage",
        "(we lost|lost) connection to {system} (at 10am|{duration} ago|this afternoon)",
        "(outage|downtime) report for {system} (in {location}|), {priority}",
        "{system} (is|went) offline, (please|) open an outage",
        "everything on {system} is (erroring|failing) (since {date:past}|right now)",
        # more phrasings: a system is down or unreachable for many people, said tersely, by phone
        # or in broken English (a single request that failed and should run again is recovery)
        "(can't|cannot) get on {system} at all, (whole floor|whole team|all of us) (same|too)",
        "is there a known (outage|incident) (with|on|for) {system} (right now|at the moment)",
        "(customers|clients|users) (are telling|keep telling) us {system} "
        "(isn't working|is broken|won't load)",
        "{system} (503|502|504)s everywhere",
        "(the site is|our website is|prod is) down(!|)",
        "we've been dead in the water (for {duration}|all morning), {system} is (gone|down)",
        "(my whole team|everyone) (in|at) {location} (has been|is) offline "
        "(since lunch|since {date:past}|for {duration})",
        "{system} went dark (at 2am|overnight|last night)",
        "(who do I tell|how do I report it|who do I call) when {system} (is|goes) down",
        "(open|raise|declare) {a} (major incident|{priority} incident) (for|because) {system} "
        "(being down|is down|is unreachable)",
        "the (login page|home page) (of|for) {system} (just spins|hangs|times out) for (all of us|everyone)",
        "(update|post to) the status page: {system} (is|) (unavailable|down) (in {location}|)",
        "heads up, {system} (is not|isn't) loading for anyone in {department}",
        "(the|all the) (scanners|terminals|tills|registers) (at|in) {location} (are|went) (down|offline)",
        "(the|our) (data center|server room) (in|at) {location} (lost power|is down|has no power)",
        "since (morning|this morning|{date:past}) (i|we) cannot (enter|open|use) {system}, "
        "(colleagues|my colleagues) (too|also)",
        "{system} (is|) unreachable (from|over) (the office network|remote access)",
        "(it's|everything is) down again, (nobody|no one) can work",
        "(outage|downtime) (ongoing|still going) (for {duration}|), (any|what's the) ETA (on {system}|)",
        "after the maintenance (window|last night), {system} (is|went) down for everyone",
        "(DNS|the load balancer|the firewall) (failed|is down) (in|at) {location}, nothing "
        "(resolves|loads|connects)",
        "{department} (can't|cannot) work, {system} (has been|is) out "
        "(all morning|since {date:past}|for {duration})",
        "(widespread|global|regional) outage (on|of) {system} (in {location}|)",
        "the (API|endpoints) (of|for) {system} (stopped responding|returns nothing) for "
        "(all clients|every customer|everyone)",
        "(let|tell) {channel} know {system} is down (and we're on it|, we're investigating|)",
        "I think {system} (crashed|died), nothing happens when (I click|anyone logs in|I log in)",
        "(email|the phones) and (the internet|the wifi) are both (dead|down) (at|in) {location}",
        "(the|all the) (servers|hosts) (in|at) {location} are (down|unresponsive) (since {date:past}|)",
        # issue 13, round 3: phrasings from dev-split errors
        # (failing health checks that leave a system unreachable are an outage, not a health question)
        "(health checks|probes|pings) (for|on) {system} (are|have been) (failing|timing out) "
        "(everywhere|in {location}) and (nobody can|users can't) (reach|use) it",
        "(PAGE|CRITICAL|ALERT): {system} (failed all|failing its) (health checks|uptime checks) "
        "(in {location}|), (service|site) (down|unreachable)",
        "{system} (fell over|died on us|conked out) (this morning|at lunch|an hour ago|{date:past})",
        "{system} (has been|was) (out|offline|unreachable) (since|from) "
        "(8am|first thing|the start of the day)",
        "(where|how) do I (report|flag|log) (an outage|that {system} is down|a system being down)",
        "(what's|what is) the (process|procedure) when {system} (goes down|is down|stops responding)",
        "(support|the help desk|our call center) (is getting|keeps getting) (calls|tickets|complaints) that "
        "{system} (won't load|is down|doesn't work) (for anyone|)",
        "(customers|partners|clients) (can't|cannot) (reach|log into|check out on) {system} "
        "(at all|since {date:past}|), (looks like|seems like|must be) an outage",
        "(not a hack|no breach), {system} is (just|simply) down for everyone",
        "I'm (in the middle of|about to start) (a demo|a client call|payroll) and {system} (just|) "
        "(went down|stopped working|died)",
        "(the|our) (team|office|site|staff) (in|at) {location} (lost|can't reach|got cut off from) {system} "
        "(since {date:past}|since lunch|)",
        "{system} (outage|down|dead) again?",
        "(we|I) (just|) (lost|can't get into) {system}. (nothing|no page) (loads|comes up) for anyone in "
        "{department}",
        # issue 13, round 4: phrasings from dev-split errors
        # a system offline, with a request to log an outage
        "{system} (is|went) (dark|offline|down), (raise|log|file) an (outage|incident) (please|pls|)",
        "(log|raise|open) an outage (for|on) {system}, it's (offline|not reachable|dead)",
        # gateway errors for everyone: the codes are plain words
        "(getting|seeing) (502s|503s|5xx errors|gateway errors) (from|on) {system} (for everyone|across the "
        "board|on every page)",
        "{system} (is throwing|returns) (bad gateway|gateway timeouts|503s) (to|for) (every user|all "
        "users|everyone)",
        # whom to tell
        "(who|which team) (should I|do I) (contact|notify|escalate to) (if|when) {system} (is down|goes "
        "offline|stops working)",
        "(is there a|what's the) (channel|number|contact) for reporting (an outage|{system} being down)",
        # a time of day is not a date
        "{system} (has been|went) (down|unreachable|offline) (since|as of|from) (7am|9:30|noon|10 am) "
        "(today|this morning|)",
        # alert style: "critical" in a tag is plain text
        "[(CRITICAL|critical|ALERT|alert)] {system} (offline|not reachable|down) (in|at|from) {location}",
        "(CRIT|Critical|ALERT): {system} (offline|not responding) (since {date:past}|in {location}|)",
        "alert (critical|CRIT): {system} down (for all users|in {location})",
    ),
}
