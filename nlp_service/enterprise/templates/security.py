"""Templates for the security agent: access, incidents and compliance.

Access to business systems and security incidents at work; a front door, a wifi password
at home or a hacked personal social media account is out of scope (see ``oos``).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "security.access_grant": (
        "give {employee} {role:access} access to {system}",
        "grant {employee} access to {system}",
        "(please|) add {employee} to {system} with {role:access} (access|permissions|rights)",
        "{employee} needs access to {system} (by {date}|)",
        "can you set up {system} access for {email}",
        "request {role:access} (rights|permissions) on {system} for {employee}",
        "I need access to {system}",
        "provision {employee} in {system} with {role:access} permissions",
        "access request: {employee}, {system}, {role:access}",
        "let {employee} into {system}",
        "enable {system} for the new {role:job} {employee}",
        "grant {department} {role:access} access to {system}",
        "please give me access to {system} (until {date}|for {duration})",
        "{email} needs {role:access} permissions on {system}",
        "open up {system} to {employee} (for {duration}|)",
        "make {employee} {a} {role:access} (on|in) {system}",
        "(need|I need) {system} access",
        "access to {system} pls",
        "(can|could) I get access to {system}",
        "how do I get access to {system}",
        "I can't see the (folder|dashboard|project) in {system}, (can I get|please give me) access",
        "(please|pls) add me to {system} (as {a} {role:access}|)",
        "(give|grant) {email} {role:access} (access|rights|) (on|to|in) {system}",
        "{employee} (should|needs to) be able to (see|edit) (things|files|records) in {system}",
        "new {role:job} {employee} needs {system} and {system}",
        "requesting access to {system} for {duration}",
        "temporary {role:access} access to {system} (for {duration}|until {date})",
        "add {employee} to (the|a) group in {system}",
        "upgrade {employee} to {role:access} (on|in) {system}",
        "create an account in {system} for {employee}",
        "(set me up|sign me up) (on|in|with) {system}",
        "I (got|get) access denied (on|in) {system}, (can you|please) give me access",
        "can {employee} have {role:access} on {system} (for the audit|for the project|)",
        "permission request: {system} for {email}",
        "(share|give) {system} (with|to) {employee} (as {a} {role:access}|)",
        "{employee} is joining the project, (add|grant) them {system}",
        "I need {role:access} rights (on|in) {system} (to finish|for) <topic>",
        "(I'd like|I want) {role:access} access (in|on) {system}",
        "access for {department} to {system} please",
        "(add|invite) {email} to {system}",
        "whitelist {employee} for {system}",
        "(can someone|somebody) give me (permissions|rights|access) (on|for) {system}",
        "(please|) approve and set up my access to {system}",
        "{employee} (can't|cannot) get into {system}, they need (an account|access)",
        "need edit rights on {system} for {employee} (by {date}|)",
        # more phrasings: questions, context first, indirect ("it says I'm not authorized"), jargon
        # (SSO, service account, elevated privileges); existing staff, not new starters (hr.onboarding)
        "{system} access for {employee}?",
        "my manager (approved it|signed off), I just need {role:access} (on|in) {system}",
        "I joined {department} (recently|a few weeks ago) and (still|) don't have permission for {system}",
        "where (do|can) I (request|ask for) (access|permissions) (to|for) {system}",
        "who do I ask to get (into|onto) {system}",
        "{system} (says|tells me) I (don't have permission|am not authorized|need an account)",
        "{employee} is covering for me while I'm out, can they (get|have) {role:access} on {system} "
        "(for {duration}|)",
        "is it possible to have {role:access} role in {system}? I need (it|) for my work",
        "need {role:access} {system} {employee} asap",
        "put {employee} on {system} as {a} {role:access} (for the project|)",
        "(the|our) external auditors need (to see|a login for) {system} (for {duration}|until {date})",
        "could you (kindly|please) (provision|set up) (an account|a login) (on|in) {system} for me",
        "(I'd like to request|requesting) (elevated|higher) (privileges|permissions) (on|in) {system}",
        "(reinstate|renew) my access (to|on) {system}, it (expired|ran out)",
        "extend (the|) access (for|of) {employee} (on|in) {system} (until {date}|for another {duration})",
        "I need to be able to (approve|edit|deploy|merge) (in|on) {system}, (can I get|please give me) "
        "{role:access}",
        "(what's|what is) the process (to get|for getting) {department} (onto|into) {system}",
        "SSO says I'm not assigned to {system}, (please add me|can you assign it to me)",
        "{employee} (is helping|will help) (us|out) with <topic>, (they'll need|give them) {system} "
        "(access|)",
        "(add|put) me (in|into) the (group|role) for {department} (in|on) {system}",
        "for <topic> I'll need to (look at|work in) {system}, "
        "(please set that up|can you sort out the access)",
        "(assign|attach) the {role:access} role to {email} (in|on) {system}",
        "{employee} (from|in) {department} (only needs|just needs) to (view|look at) {system}, "
        "(view only|read access) is (fine|enough)",
        "need permission for (open|use|using) {system} (please|)",
        "(create|set up) a service account (in|on|for) {system} with {role:access} rights",
        "access request for {system}, (approved by|my manager is) {employee}",
        "my role changed to {role:job}, so I need {system} (now|too)",
        "I keep getting (403|permission denied|not authorized) in {system}, (please|) grant me {role:access}",
        "my manager said I should have access by now but I still can't (get in|see anything) (in {system}|)",
        "(can|could) I (get|have) the same (access|permissions) as "
        "(my teammate|the rest of my team|{employee})",
        # issue 13, round 3: phrasings from dev-split errors
        "(please|pls|) (add|put) me (on|onto|in) {system} (too|as well|)",
        "I'd like to be added to {system} (please|)",
        "can you add my account to {system} (with {role:access}|)",
        "{employee} (has to|must) be able to (open|view|read|update) (documents|reports|tickets|dashboards) "
        "(in|on) {system}",
        "make it so {employee} can (see|edit|open) (things|files|the dashboards) in {system}",
        "{employee} (just joined|is new on|was added to) (the|our) (project|squad|migration), (set them "
        "up|hook them up) (on|with) {system}",
        "(bring|get) {employee} onto {system} for (the project|<topic>)",
        "(what are the steps to get|how do we go about getting|what do I do to get) {department} (access "
        "to|onto|set up on) {system}",
        "(open|give) {system} to everyone in {department} (with {role:access}|)",
        "{department} (needs|wants|is asking for) {role:access} (on|in) {system} (for {duration}|until "
        "{date}|)",
        "(add|put) {employee} (in|into) the (group|role) for {department} (on|in) {system}",
        "I need to be in the (group|role|space) for {department} (on|in) {system}",
        "my (access|account|login) (on|for|to) {system} (expired|lapsed|timed out), (can I get it "
        "back|please restore it|please renew it)",
        "(restore|re-enable|reactivate|turn back on) my (access|account) (on|in|for) {system}",
        "(let me back into|get me back into) {system}, my access (ran out|expired) {date:past}",
        "{employee} (lost access to|got removed from) {system} by mistake, (please|) (add them back|restore "
        "it)",
        "(delegate|hand over) my (access|permissions) (on|in) {system} to {employee} (for {duration}|until "
        "{date}) while I'm (out|on leave|away)",
        "(while|when) I'm (out|on leave|on vacation), {employee} will need {role:access} (on|in) {system}",
        "{role:access} on {system} (for me|for {employee}) (please|pls|?)",
        "I'm (covering|filling in) for {employee} (this week|for {duration}) and need {role:access} (on|in) "
        "{system}",
        "(whitelist|allowlist) {email} (for|on) {system}",
        "(can|could) {department} (get|have) {role:access} (in|on) {system}",
        # issue 13, round 4: lessons from dev-split errors
        "{role:access} {system} {employee} (asap|pls|today)",
        "{employee}: {role:access} (on|in) {system} (please|pls|)",
        "{system} {role:access} (for|to) {employee}, (thanks|ty|cheers)",
        "need {role:access} (in|on|for) {system} for {employee} (asap|today|)",
        "(access|permission) request - {system} - {employee} - {role:access}",
        "{employee} / {system} / {role:access} (please|)",
        "new access for {employee}: {system}, {role:access}",
        "{department} (would like|is requesting|requests) {role:access} (in|on) {system} (through|until) "
        "{date}",
        "(sorry to bug you|quick one), {employee} needs {role:access} in {system} (until {date}|for "
        "{duration})",
        "can we give {department} {role:access} in {system} (until {date}|for {duration})",
        "(hi|hey team), {role:access} (rights|) (in|on) {system} for me (please|pls|thanks)",
        "could I be made {a} {role:access} (on|in) {system}",
        "I keep hitting (access denied|not authorized|a permission error) (on|in) {system}, (I need|can I "
        "get) {role:access}",
        "{employee} just needs to (look at|read) {system}, (please|) (set them up with|give them) "
        "{role:access}",
        "(no need for|we don't need) edit rights, (just|only) (give|grant) {employee} (read access|view "
        "access) (to|on) {system}",
        "I only (need|want) to (view|look at|read) {system}, (read|view) access is (fine|plenty), (please "
        "set it up|can I get it)",
        "(pass|lend|transfer) my {system} (access|permissions) to {employee} (for {duration}|until {date}) "
        "while I'm (out|off|away)",
        "{employee} (is taking over|will cover) my work (for {duration}|until {date}), (give|grant) them "
        "my {system} access (temporarily|for that time|)",
        "I'm (standing in|subbing) for {employee} (for {duration}|until {date}), (so|) I need "
        "{role:access} (in|on) {system}",
        "{employee} is (joining|pitching in on|supporting) <topic> (and|so) (will need|needs) {system} "
        "access",
        "(for|to help with) <topic>, {employee} (needs|will need) (a login to|access to|an account on) "
        "{system}",
        "(please|) (put|add) {employee} back (on|into) {system}, (they were|she was|he was) removed (by "
        "accident|in error)",
        "(we|someone) (accidentally|mistakenly) (removed|deprovisioned) {employee} from {system}, "
        "(give|grant) them access again",
        "{employee} (needs|should get) (their|) {system} access back, (the removal|it) was a mistake",
        "(add|attach|link) my (user|login|account) (to|on) {system} (please|)",
        "(can|could) my (account|user) (be added|get added) to {system}",
        "(I'm now|I've become|I moved to being) {a} {role:job}, (please give me|I need|I'll need) {system} "
        "(access|)",
        "(since|now that) I'm {a} {role:job} I (need|should have) access to {system}",
    ),
    "security.access_revoke": (
        "revoke {system} access for {employee}",
        "remove {employee} from {system}",
        "take away {role:access} (rights|access) from {employee} on {system}",
        "(disable|deactivate|suspend) {email} in {system}",
        "{employee} no longer needs {system}, (remove|revoke) their access",
        "cut off {employee} from {system} (immediately|now|)",
        "downgrade {employee} to {role:access} on {system}",
        "remove {department} access to {system}",
        "revoke all access for {employee} (effective {date}|)",
        "access removal request: {employee}, {system}",
        "kill all sessions on {system} for {email}",
        "the contractor {employee} should not have {system} anymore",
        "pull {role:access} permissions on {system} from {employee}",
        "lock {employee} out of {system}",
        "please revoke my access to {system}, I changed teams",
        "strip {email} of {role:access} rights",
        "remove my access to {system}",
        "revoke {employee}",
        "take {employee} off {system}",
        "{employee} (left|moved teams|changed roles), (remove|revoke) their {system} access",
        "(disable|deactivate) {employee} in {system}",
        "no more {system} for {email}",
        "remove {role:access} (from|for) {employee} (on|in) {system}",
        "(please|) (remove|drop) {email} from {system} ({date}|by {date}|)",
        "set {system} access for {employee} to expire (on {date:on}|{date})",
        "(remove|revoke) external (user|guest) access to {system} for {email}",
        "(block|ban) {email} from {system}",
        "demote {employee} from {role:access} (on|in) {system}",
        "{employee} (shouldn't|should not) have {role:access} on {system}, (remove|take) it",
        "(revoke|cancel) the temporary access given to {employee}",
        "access revoke: {email}, {system}, effective {date:on}",
        "(turn off|switch off) {system} access for {employee}",
        "the vendor {vendor} shouldn't be able to see {system} anymore",
        "(close|disable) the {role:access} account (of|for) {employee} (in|on) {system}",
        "unshare {system} with {email}",
        "(remove|revoke) {department} from {system} (admins|editors|)",
        "{employee} doesn't work on the project anymore, take away their {system} permissions",
        "(suspend|freeze) {employee} (in|on) {system} (pending review|until further notice)",
        "drop {employee} to read-only in {system}",
        "revoke my {role:access} rights, I don't need them anymore",
        "(end|terminate) access for {email} (on|in) {system}",
        "(remove|revoke) access (to|for) {system} from everyone in {department}",
        "please deprovision {email} from {system}",
        "{employee} still has {system} access, (fix|remove) it",
        "(expire|revoke) the shared {system} account",
        # more phrasings: system-specific removals (leaving the company is hr.offboarding), reduced
        # rights, sharing links, tokens, people on leave
        "{employee} (moved|transferred) to {department}, (so|) they shouldn't (have|keep) {system}",
        "I (don't|no longer) (need|use) {system}, (you can|please) (remove me|close my account)",
        "our contract with {vendor} (ended|is over), (kill|disable) their (logins|accounts) (on|in) {system}",
        "(the|our) {role:job} {employee} (is done|finished) (with|on) <topic>, (remove|close) their access "
        "(to|on) {system}",
        "(per|after) the access review, (remove|revoke) {employee} (from|on) {system}",
        "too many (admins|people) (on|in) {system}, (remove|drop) {employee}",
        "{email} (got|was given) {system} access by mistake, (take it back|remove it)",
        "how do I remove someone from {system}",
        "(make sure|ensure) {employee} (can't|cannot) (get into|log into|access) {system} "
        "(anymore|after {date})",
        "(reduce|lower|limit) the (permissions|rights|access) of {employee} (on|in) {system}",
        "the temporary {system} access (for|of) {employee} (ends|is up) {date}, (remove|revoke) it (then|)",
        "please remove the permission for {employee} in {system}, (he|she) is not in (the|) team now",
        "{system}: remove {email}",
        "only {system} (please|), (remove|revoke) {employee} (there|from it) and (leave|keep) the rest",
        "after the phishing (incident|scare), (revoke|disable) {email} (on|in) {system} until we know more",
        "no need for {employee} to be {role:access} on {system} now (that|) the project is over",
        "(lock down|restrict) {system} so {department} (can't|cannot) (see|edit) it",
        "(remove|take away) (write|edit) (access|rights) (for|from) {employee} (on|in) {system}, "
        "(leave|keep) (read|view) (access|only)",
        "how do I (close|delete) my account (in|on) {system}, (I don't use it|I moved teams)",
        "{employee} is on (parental|extended|long) leave, (suspend|pause) their access (to|on) {system} "
        "(until they're back|)",
        "(expire|disable|kill) the (external|sharing) (link|invite) (to|for) {system} "
        "(sent to {email}|for {vendor})",
        "{employee} has {role:access} (on|in) {system} (and|but) (they shouldn't|that's not right), "
        "(revoke|pull) it",
        "(I want|I'd like) to (remove|kick) {employee} (from|out of) (the|our) (workspace|project|group) "
        "(in|on) {system}",
        "(revoke|invalidate|delete) (the|all) (API keys|tokens|SSH keys) (of|for|belonging to) {employee} "
        "(in|on) {system}",
        "{email} is still active in {system} (even though|but) they (changed teams|don't work on it), "
        "(deactivate|remove) them",
        "take me (off|out of) {system}, I'm (not on|off) (that|the) project (now|)",
        "(remove|revoke) everyone (outside|except) {department} (from|on) {system}",
        "(take back|pull) the {role:access} (role|rights) we gave {employee} "
        "(for the audit|for the migration|temporarily)",
        "I switched teams, (please|) clean up my old permissions (in {system}|)",
        "(the|our) contractors still have access (to {system}|) (even though|and) the project ended, "
        "(cut it off|remove them)",
        # issue 13, round 3: phrasings from dev-split errors
        "deprovision {employee} (from|in|on) {system} (today|now|asap|)",
        "{email} (should|must) (lose|no longer have) access to {system}",
        "(delete|remove) the (account|user|login) (for|of|belonging to) {email} (in|on|from) {system}",
        "(unassign|unlink) {email} (from|in) {system}",
        "(revoke|reclaim|free up) the (license|seat) (assigned to|of) {email} (in|on) {system}",
        "(get|kick|boot) {employee} (off|out of) {system} (please|pls|asap|)",
        "{employee} (off|out of) {system} (please|pls|asap)",
        "(knock|bump|move) {employee} (down|back) to {role:access} (on|in) {system}",
        "{employee} only needs {role:access} (on|in) {system} now, (downgrade|lower) (them|their role)",
        "(switch|change) {employee} from {role:access} to {role:access} (on|in) {system}, (they don't "
        "need|no need for) that much access",
        "(rescind|withdraw) (the|) (access|permissions) (on|to) {system} (for|granted to) {email}",
        "(please|) (disable|remove) the login for {employee} (on|in) {system}, they (moved|transferred) to "
        "{department}",
        "(can you|please) make sure {email} (is|gets) (removed|deprovisioned) (from|in) {system} (by "
        "{date}|today)",
        "{employee} (should|must) not be able to (see|touch|edit) {system} (anymore|after {date})",
        # issue 13, round 4: lessons from dev-split errors
        "{email} (needs to|has to) lose (their|) {system} access (today|now|)",
        "(how can I|how would I|what's the way to) (take|kick) (a user|someone|a person) (off|out of) "
        "{system}",
        "(steps|process) for (removing|revoking) (a user|someone) (from|in) {system}?",
        "(how do I|can I) (delete|shut down|deactivate) my (own|) (login|user|account) (on|in) {system}? "
        "(I never use it|not using it anymore)",
        "(drop|remove|strip) my {role:access} (role|rights|permissions) (on {system}|), (I'm done with "
        "it|not needed anymore)",
        "{system} access for {employee} should (end|expire|stop) on {date:on}",
        "(schedule|plan) the removal of {employee} from {system} (for|on) {date:on}",
        "(put|set) an (expiry|end) date of {date} on the access (of|for) {employee} (to|on|in) {system}",
        "{employee} (is off|has left|rolled off) the project, (remove|pull) their {system} "
        "(permissions|rights|access)",
        "(take|strip) {system} (permissions|rights) away from {employee}, (they're|he's|she's) not on the "
        "project (anymore|now)",
    ),
    "security.incident_report": (
        "report a security incident (on|in|involving) {system}",
        "I (think|believe) I clicked a phishing link (in an email from {email}|)",
        "suspicious login (on|to) {system} from {location}",
        "my laptop was stolen (in|at) {location}",
        "possible data breach in {system}, {priority}",
        "security incident: (malware|ransomware) detected on {system}",
        "someone is trying to brute force {system}",
        "{employee} shared (credentials|passwords) in {channel}",
        "I lost my badge (on {date:on}|{date:past})",
        "got a weird email from {email} asking for my password",
        "report unauthorized access to {system} (on {date:on}|{date:past})",
        "log {a} {priority} security incident for {system}",
        "SECURITY ALERT: unusual activity on {system} from {location}",
        "an unknown device connected to {system}",
        "we may have leaked customer data (via|through) {system}, need to report it",
        "someone tailgated into {location} without a badge",
        "I (think I|) (got|received) a phishing (email|text|message)",
        "(report|reporting) a phishing (email|attempt) from {email}",
        "(my|a) (work laptop|work phone) (got|was) (stolen|lost) (at|in) {location}",
        "(lost|left) my (work laptop|badge|company phone) (on the train|at the airport|in a taxi)",
        "(I|we) (think|suspect) {system} (was|has been) (hacked|compromised)",
        "(someone|a stranger) (is|was) walking around {location} without a badge",
        "my (work|company) (account|password) (was|got) (compromised|hacked|leaked)",
        "I accidentally emailed (customer data|a spreadsheet with salaries) to {email}",
        "(malware|a virus|ransomware) on my (work laptop|machine)",
        "antivirus flagged (a file|something) on my (work|) laptop",
        "(found|someone left) a usb stick in {location}",
        "security incident: {priority}, {system}",
        "(there's|there was) a (suspicious|weird) sign-in on my work account from {location}",
        "I got an MFA (prompt|push) I didn't request",
        "report a (data leak|breach|security issue) (in|on) {system}",
        "someone called pretending to be IT (and|) asked for my password",
        "an unknown person asked for the door code at {location}",
        "(keys|credentials|tokens) for {system} (were|got) (pushed|posted) publicly",
        "(phishing|spam) (alert|warning): emails from {email} asking (for|to reset) passwords",
        "{system} shows logins from {location} that weren't us",
        "(I|we) (got|received) a ransom note on {system}",
        "I (shared|typed) my password (on|into) a fake (login|sign-in) page",
        "someone (is|keeps) (sending|forwarding) company data to {email}",
        "(possible|suspected) insider threat in {department}",
        "my badge (doesn't|isn't) in my bag, I think (I lost it|it was stolen) {date:past}",
        "(customer|employee) data (exposed|visible) (in|on) {system}, {priority}",
        "(report|flag) a suspicious (email|attachment|link) from {email}",
        "there's a (stranger|strange device) in the server room at {location}",
        "(is|was) this a phishing email? it's from {email}",
        # fraud against the company; fraud on a personal card or bank account is out of scope
        "(report|reporting) (fraud|a fraud attempt) (on|in|involving) {system}",
        "someone (pretending|claiming) to be {vendor} (asked|emailed) us to change their bank details",
        "(fake|fraudulent) (payment|wire) request (impersonating|posing as) {vendor} sent to {department}",
        "(fraudulent|suspicious) (logins|transactions|activity) in {system} (from {location}|{date:past})",
        "(someone|an attacker) used (stolen|leaked) (credentials|passwords) to (log into|access) {system}",
        "(CEO fraud|wire fraud) (email|attempt): {email} asked {department} to wire {amount}",
        "(got|received) a fake (wire transfer|gift card) request (from {email}|pretending to be our CEO)",
        "(I think|we think) someone (is|was) committing fraud in {system} (using a colleague's account|)",
        # more phrasings: first-person reports of something that happened (searching the logs for
        # suspicious logins is audit.query; a system that is simply down is monitoring.outage_report)
        "I see (emails I didn't send|logins I didn't make|messages I never wrote) (from|on) my "
        "(work|company) account",
        "I clicked (a link|an attachment|something) in (an|a weird) email and now my (laptop|computer) is "
        "acting (weird|strange)",
        "(who do I tell about|where do I report|how do I report) a "
        "(phishing email|security incident|suspicious email)",
        "(possible|likely|probable) phish from {email}",
        "(a|the) (delivery guy|visitor|contractor) got into the server room at {location} "
        "(without an escort|unescorted)",
        "(my|a) (usb drive|external drive|hard drive) with (client|customer|employee) (files|data) is "
        "missing",
        "(I left|left) my (work laptop|laptop) unlocked (at|in) {location} and someone "
        "(used it|went through it)",
        "(we're|I'm) seeing (hundreds of|lots of|a flood of) failed login attempts on {system} "
        "(right now|from {location})",
        "got a (text|SMS) (saying|claiming) my (work|) account is locked, the link looks fake",
        "(our|the company) (website|customer portal) (was|got|has been) defaced",
        "the files on {system} (got|were) encrypted (and|) (there's a ransom note|I can't open them)",
        "I (accidentally|mistakenly) (posted|pasted) (an API key|a password|a token) in {channel}",
        "I (gave|read out) my (MFA|2FA|verification) code to (someone|a caller) "
        "(on the phone|who said they were from the help desk)",
        "{priority} security (issue|incident): (data exfil|exfiltration) suspected (from|on) {system}",
        "{vendor} (told|notified) us (they had|about) a breach, our data (may|might) be (affected|exposed)",
        "(a|my) (screen|laptop) (shows|is showing) a (message|popup) (asking for|demanding) bitcoin",
        "(there's|I found) (an unknown|a new|a rogue) (privileged|service) account in {system} "
        "(nobody created|that nobody recognizes)",
        "(I need to|want to) report something: I lost (printouts|papers|documents) with (customer|employee) "
        "data (on the bus|at {location})",
        "the (server room|data center|records room) door (at|in) {location} was (propped open|left unlocked) "
        "(all night|over the weekend)",
        "the login page (for|of) {system} looks (different|fake|off) (all of a sudden|now|), "
        "(is it|could it be) (phishing|a scam)",
        "(someone|a fake account) is (impersonating|pretending to be) {employee} (in|on) {channel}",
        "(I have|got) a security (issue|concern) to report (about {system}|)",
        "I sent (a file|an attachment) with (personal|customer) data to the wrong (person|customer|address), "
        "what do I do",
        "I got a (password changed|new sign-in) (email|alert) (for {system}|) (but|and) it wasn't me",
        "(breach|hacked|compromised)!! {system}",
        "(looks like|I think) (our|the company) (domain|DNS|SSL certificate) (was|got) (hijacked|spoofed)",
        "(found|there's) a (keylogger|strange dongle) (on|plugged into) a (shared|kiosk) (PC|computer) "
        "(in|at) {location}",
        "(we've|we have) been breached, attackers (are|were) in {system} (since {date:past}|)",
        # issue 13, round 3: phrasings from dev-split errors
        "(I keep getting|getting|I'm getting) (MFA|2FA|Duo|Okta Verify) (prompts|pushes|notifications) "
        "(that|) I (didn't|never) (ask for|trigger|start)",
        "(random|unexpected) (sign-in|login) (approval requests|verification codes) (keep|are) (popping "
        "up|showing up) on my (work|) phone",
        "someone (is|keeps) trying to (log in|sign in) as me (on {system}|), I (got|keep getting) "
        "(codes|MFA requests) I didn't ask for",
        "(a caller|someone on the phone|a guy on the phone) (said|claimed) (he|they) (was|were) from "
        "(IT|the help desk|{vendor}) and (wanted|asked for) my (work|) (password|login|MFA code)",
        "(got|received) a (call|voicemail|Teams message) from someone (posing as|pretending to be) "
        "(IT|HR|our CEO) asking for (my credentials|gift cards|my login)",
        "I think I (was|got) (socially engineered|vished|smished) (at work|into giving out my login|)",
        "someone (phoned|messaged|texted) me (asking|wanting) (for|) my (work|company|{system}) password, "
        "(it|that) (felt|seemed|sounded) (off|fishy|suspicious)",
        "(there's|there is) a fake (account|profile) (of|for) {employee} (in|on) {channel} (asking "
        "for|sending) (money|links|gift cards)",
        "(someone|an account) (is|was) (posing as|using the name of) {employee} (in|on) {system}",
        "{priority}: (employee|customer|salary|payroll) (data|records) (leaked|exposed|publicly visible) "
        "(in|on|from) {system}",
        "(I think|looks like|pretty sure) (employee|payroll|customer) data (is|was|got) exposed "
        "(on|in|through) {system}",
        "{system} is (exposing|leaking) (personal|customer|employee) data (to the internet|publicly|to "
        "anyone with the link)",
        "(the|a) (bucket|share|folder) (in|on) {system} with (customer|employee) data is (public|open to "
        "everyone|world readable)",
        "(a person|someone) claiming to be from (IT|the help desk) (showed up|came by) at {location} asking "
        "to (use|access) my (laptop|computer)",
        # issue 13, round 4: lessons from dev-split errors
        "(open|raise|file) {a} {priority} security incident (on|for|against) {system}",
        "{priority} security (incident|event) (on|for) {system}, (please log it|log it please|pls)",
        "(please|) (create|record) a security incident for {system}, it's {priority}",
        "my phone keeps (buzzing|lighting up) with (login|sign-in) approvals I never requested",
        "(Duo|Okta Verify|the authenticator app) (asked me|wants me) to approve a (login|sign-in) that "
        "wasn't me",
        "(I'm|we're) being (spammed|bombarded) with (MFA|2FA|push) (requests|notifications) (I didn't "
        "trigger|out of nowhere)",
        "(tons of|a burst of|thousands of) (failed|bad) (sign-ins|password attempts) (against|on) {system} "
        "(in the last hour|since this morning|right now)",
        "{system} is (getting hammered|being hit) (with|by) (bad password|failed login) attempts (from "
        "{location}|)",
        "someone is (guessing passwords|password spraying) (on|against) {system}",
        "(a|the) (brute force|credential stuffing|password spraying) (attack|attempt) (is "
        "hitting|against|on) {system}",
        "(looks like|I think) (someone|an attacker) is brute forcing {system}",
        "(I can't find|I lost) (the|my) (encrypted|external|portable) (drive|disk|hard drive) (that "
        "has|with) (customer|payroll|patient) data (on it|)",
        "(a|one of our) (thumb drive|backup disk|laptop) with (customer|employee) (records|data) (has gone "
        "missing|went missing|is gone)",
    ),
    "security.compliance_check": (
        "run a compliance check on {system}",
        "is {department} compliant with (GDPR|SOC 2|HIPAA|PCI)",
        "check (SOC 2|GDPR|ISO 27001) compliance for {period}",
        "audit {vendor} for compliance",
        "are we (GDPR|SOX) compliant",
        "compliance status of {system}",
        "verify that {vendor} has a current {document_type:vendor}",
        "does {system} meet our data retention policy",
        "run the quarterly compliance review for {department}",
        "check {department} against the (access|password|retention) policy",
        "is the {document_type:vendor} (for|from) {vendor} compliant",
        "compliance scan of {system}",
        "are all laptops in {department} encrypted",
        "(PCI|SOX|HIPAA) check for {system} for {period}",
        "confirm {employee} completed (the|their) compliance training",
        "is {vendor} on the approved vendor list (and compliant|)",
        "(is|are) {department} in compliance with (SOX|GDPR|PCI|HIPAA) (for {period}|)",
        "(run|do) (a|the) (GDPR|SOC 2|ISO 27001|PCI) (check|review) (on|for) {system}",
        "(has|did) {department} (complete|pass) (the|its) compliance review (for {period}|)",
        "check (whether|if) {vendor} (has|sent) (a|their) {document_type:vendor}",
        "who hasn't done (security|compliance) training (in {department}|yet)",
        "(are|is) (our|the) (passwords|MFA settings|backups) (on|in) {system} (compliant|up to policy)",
        "does {system} keep data longer than (policy allows|allowed)",
        "is {vendor} (SOC 2|ISO 27001) (certified|compliant)",
        "(check|verify) (the|) data retention (on|for) {system}",
        "do we comply with the (retention|encryption|access) policy (on|in) {system}",
        "compliance (status|check) for {department}",
        "are we ready for the (SOC 2|ISO|SOX) audit (in {period}|)",
        "(list|show) open compliance (issues|gaps|findings) (for {system}|in {department})",
        "(GDPR|HIPAA|SOX)?? are we good on {system}",
        "(is|are) {system} (and|or) {system} (PCI|SOC 2) compliant",
        "make sure {department} (follows|is following) the (clean desk|password|data) policy",
        "(does|do) {vendor} (meet|pass) our (security|privacy) requirements",
        "(check|confirm) that {system} (encrypts|masks) (customer|personal) data",
        "(is|has) the {document_type:vendor} from {vendor} (expired|still valid)",
        "are our (data processing agreements|privacy practices) GDPR compliant",
        "compliance check please: {system}, {period}",
        "(did|has) everyone in {department} (signed|acknowledged) the code of conduct",
        "(review|assess) {vendor} for (SOC 2|GDPR|security) compliance",
        "(are|is) (admin|privileged) accounts in {system} (reviewed|compliant) (for {period}|)",
        "(can you|) verify {system} is (HIPAA|PCI|SOX) compliant before {date}",
        "(has|have) the {period} access reviews for {system} been done",
        "is {employee} up to date on (compliance|security) training",
        "(check|audit) (that|whether) we (keep|delete) (logs|records) per policy in {system}",
        # more phrasings: policies, regulations, controls and vendor risk (reading a clause out of a
        # contract is documents.extract; a compliance report on a schedule is data_analysis)
        "(GDPR|SOX|PCI|HIPAA) status (for|of) {system}?",
        "the (auditors come|audit is) (soon|in {period}|on {date:on}), are we (fine|ok|covered) on {system}",
        "how (do I|can I) (check|know) (if|whether) {system} is (compliant|in line with policy)",
        "(which|what) systems (fail|don't meet|are out of line with) the (encryption|password|retention|MFA) "
        "policy",
        "(I need|we need|I'd like) a compliance (check|review|assessment) (of|for) {department} "
        "(before {date}|by {date}|)",
        "(is|are we) (storing|keeping) (customer|personal|health) data in {system} (allowed|OK) under "
        "(GDPR|HIPAA|our policy)",
        "(is MFA|has MFA been) (enforced|turned on) (on|in) {system}? (I need to confirm it|need it) for "
        "(SOC 2|the audit|ISO)",
        "(check|review) (that|whether) (nobody|no one) in {department} has "
        "(more access|more rights|elevated rights) than (they need|policy allows)",
        "(please|) (verify|confirm) {vendor} (still|) (meets|complies with) (our|the) "
        "(security|data protection) (policy|standards) before (renewal|we renew)",
        "(run|kick off) (a|the) (CIS benchmark|policy|configuration) (scan|audit) (against|on) {system}",
        "(how|where) are we (on|with) (the|our) (ISO|SOC 2|PCI) (recertification|readiness|controls) "
        "(for {period}|)",
        "(any|are there any) (compliance|policy) (violations|exceptions) in {department} "
        "(for {period}|so far)",
        "we're (about to sign|onboarding|bringing on) {vendor}, (do they|will they) pass (our|the) "
        "(vendor risk|third-party risk|security) (assessment|review)",
        "(does|is) {system} (follow|following|in line with) the new password (rules|policy)",
        "(how many|what percent of) people in {department} (completed|finished) the (annual|mandatory) "
        "(security|privacy) training",
        "is {system} (in scope|covered) for (PCI|SOX|SOC 2), and (does it pass|are we compliant)",
        "(our lawyers|the board|our auditor|a customer) (wants|asked) to know if {system} is "
        "(CCPA|GDPR|HIPAA|SOC 2) compliant",
        "a customer sent (us|) a security questionnaire, (check|confirm) (our|the) controls (on|for) "
        "{system}",
        "(check|verify) (segregation|separation) of duties (in|on) {system} (for {period}|)",
        "are we (keeping|holding) (ex-employee|former customer|candidate) data (longer than|past) "
        "(allowed|the retention limit)",
        "(scan|check) {system} for (unencrypted|unmasked) (personal|card|health) data",
        "did {system} pass (its|the) (last|latest) (audit|pen test|security review) (in {period}|)",
        "I'm not sure (we follow|{department} follows) the (retention|clean desk|data handling) policy, can "
        "you check",
        "(policy|controls) check (on|for) {vendor} (please|)",
        "{department} {period} compliance?",
        "do {employee} and (their|the) team follow the (access|password|data) policy (in {system}|)",
        "(gap|readiness) (analysis|assessment) for (SOC 2|ISO 27001|HIPAA) (on|for) {system}",
        "we have a regulator visit (soon|in {period}), (check|make sure) {department} is compliant",
        # issue 13, round 3: phrasings from dev-split errors
        "(which|how many) (people|employees) in {department} (are overdue on|haven't finished|still need to "
        "do) (their|the) (security|compliance|privacy|phishing) training",
        "(has {employee} finished|did {employee} complete|has {employee} done) (the|their) "
        "(annual|mandatory|required) (security|compliance|privacy) training (yet|)",
        "(list|show) (everyone|people|employees) (overdue|behind) on (security|compliance|privacy) training "
        "(in {department}|)",
        "(is|are) (everyone in|all of) {department} (current|caught up) on (security|privacy|compliance) "
        "training",
        "(security|compliance) training (status|completion) (for|in) {department}?",
        "(status|progress) (of|on) (our|the) (SOC 2|ISO 27001|PCI) (controls|evidence collection|audit "
        "prep) (for {period}|)",
        "how (close are we to|far are we from) (SOC 2|ISO 27001|PCI) (certification|compliance)",
        "are (all|) (our|the) (SOC 2|ISO|PCI) controls (passing|green|in place) (for|on) {system}",
        "(quick|) (SOX|PCI|HIPAA|GDPR) (review|audit|scan) (on|of) {system} (for {period}|{period})",
        "{system} (PCI|SOX|GDPR|HIPAA) compliance (for|in) {period}?",
        "(check|see) (whether|if) {employee} (has done|did) (their|the) (phishing|security "
        "awareness|privacy) (training|course)",
        "I (don't think|doubt) {department} (finished|did) the (required|mandatory) training, (check|can "
        "you check)",
        # issue 13, round 4: lessons from dev-split errors
        "(where does {system} stand|how does {system} look) on (SOX|PCI|GDPR|HIPAA) (compliance|)",
        "{system} (SOX|PCI|SOC 2) (posture|standing)?",
        "compliance posture (of|for) {system} (please|)",
        "(has|have) all of {department} (signed|acknowledged|accepted) the (acceptable use policy|code of "
        "conduct|security policy)",
        "(who in|which people in) {department} (hasn't|haven't) signed the code of conduct (yet|)",
        "(what's the way|what do I do) to (find out|check) (if|whether) {system} (meets|passes) (our|the) "
        "compliance (rules|requirements)",
        "(can you|) (tell me|check) (if|whether) {system} is (compliant|in compliance) (please|)",
        "does {department} (meet|satisfy) (SOC 2|GDPR|HIPAA|PCI) (requirements|)",
        "{department} (SOC 2|GDPR|HIPAA|ISO 27001) compliant?",
        "(I need|we need|please do) {a} (SOC 2|ISO 27001|PCI) (gap analysis|readiness review|readiness "
        "check) (of|for) {system}",
        "(ISO 27001|SOC 2|HIPAA) (readiness|gaps) (on|for) {system} (please|thanks|)",
        "(prep|prepare) {system} for (the|our) (SOC 2|ISO 27001) audit: (what are the gaps|where are we "
        "short)",
    ),
}
