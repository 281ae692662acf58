"""Templates for the recovery agent: retrying failed work and rolling changes back.

Failed EAS requests and business-system changes; replaying a song, restarting a router or
switching off a smart plug is out of scope (see ``oos``).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "recovery.retry_request": (
        "retry {request_id}",
        "(try|run) (that|it) again",
        "the (sync|export|job|payment) failed, retry (it|)",
        "rerun the failed job {request_id}",
        "resubmit {request_id} (to {system}|)",
        "please retry the last request",
        "(can you|) try {request_id} one more time",
        "retry the failed (call|request) to {system}",
        "{request_id} timed out, try again",
        "redo the (upload|import) to {system}",
        "give it another go",
        "retry all failed requests since {date:past}",
        "RETRY: {request_id}",
        "the request to {system} errored out, run it again",
        "replay {request_id}",
        "requeue {request_id} (with the same inputs|as is)",
        "retry",
        "(retry|rerun|re-run) (the|that|my) (last|previous|failed) (request|job|run|submission)",
        "(it|that|the job|my request) (failed|errored|timed out), (can you|please|) (try|run) it again",
        "(resend|resubmit|re-send) {request_id}",
        "(try|attempt) {request_id} again (now|in {duration})",
        "(retry|re-run) the (import|export|upload|sync) (that failed|from {date:past})",
        "(retry|rerun) (all|the) (failed|stuck|errored) (jobs|requests|runs) (in {system}|for {department}|)",
        "(kick|restart|retrigger|re-trigger) {request_id}",
        "(one more|another) (try|attempt) (on|at|for) {request_id}",
        "my (invoice|leave|access) request (didn't go through|failed|got stuck), (resubmit|retry) it",
        "{request_id} (failed|errored|bounced), (retry|rerun) (please|pls|)",
        "(resend|re-send) the (failed|bounced) (email|notification) to {email}",
        "(rerun|re-run) the (report|export|sync|import) job (that failed|for {period})",
        "(retry|redo) the payment to {vendor} that failed",
        "(please|) (do|try) (that|it|this) one more time",
        "(queue|put) {request_id} back (in|on) the queue",
        "why did {request_id} fail? (retry|rerun) it",
        "(submission|request) failed, (send|submit) it again",
        "it didn't work, (try|do) it again",
        "(hit|press) retry on {request_id}",
        "(can you|) (rerun|retry) what failed (last night|this morning|{date:past})",
        "the (upload|push) to {system} (failed|broke) halfway, (retry|restart) it",
        "{request_id} got stuck in (pending|processing), (retry|kick) it",
        "(retry|rerun) {request_id} (and|then) {request_id}",
        "(resubmit|retry) my request from {date:past}",
        "(again|once more), please",
        "(re-process|reprocess) {request_id}",
        "(retry|rerun) (everything|all jobs) that failed during the outage (of|on) {system}",
        "try the (sync|call) to {system} again in {duration}",
        "it errored, (redo|retry) (the|my) last request",
        # more phrasings: a failed job, request or call to a business system run again (a report that
        # never arrived is data_analysis; replaying a song or re-pairing a speaker is oos)
        "{request_id} (failed|died) with (a timeout|an error|a 500), (could you|can you|please) give it "
        "another (shot|try)",
        "the (job|import|request) (failed|crashed) (because|while) {system} was down, "
        "(it's back now|now it's up), (rerun|retry) it",
        "(retry|re-run) {request_id} with (backoff|exponential backoff|a longer timeout)",
        "(got|hit) (a 429|a rate limit|a timeout) (on|from) {system}, (retry|try again) in {duration}",
        "I submitted (my|the) (expense claim|request|form) ({date:past}|earlier) and it "
        "(bounced|errored|failed), (can you|please) push it through again",
        "(don't|no need to) (roll back|revert) anything, just (rerun|retry) the failed (step|task|job)",
        "(the|) failed (tasks|steps|batches) (in|on) {system} need (another|a second) (run|attempt)",
        "(replay|reprocess|redrive) (the|) (messages|events) (from|in) the dead letter queue (for {system}|)",
        "(the|) (billing|export|batch) run (errored|died) (halfway|midway|partway), "
        "(start it over|kick it off again)",
        "I got an error (message|) (when I submitted|on {request_id}), can you (retry|try again)",
        "please (process|do) again my request(, it did not work| {request_id})",
        "it says (something went wrong|request failed|try again later), (redo|retry) (it|that|my request) "
        "(pls|please|)",
        "(a network blip|a timeout|the connection dropping) (killed|interrupted|broke) the "
        "(upload|sync|import) (to {system}|), (retry|try it again)",
        "status: failed. action: retry. id: {request_id}",
        "the (webhook|callback|API call) to {system} (didn't fire|failed|never went through), (send|fire) it "
        "again",
        "(three|3|two|2) attempts (already|) failed (on|for) {request_id}, (try|give it) "
        "(once more|one more go)",
        "is it possible to (retry|rerun|re-run) the failed (invoice|file|bulk) (upload|import) "
        "(from {date:past}|)",
        "nothing happened after I (submitted|sent) {request_id}, (resubmit|resend) it",
        "the (overnight|nightly|batch) job failed, (rerun|re-run) it before (9am|the morning standup|{date})",
        "the (build|pipeline|CI run) (for {system}|) failed on a flaky test, (rerun|retry) it",
        "(run|submit) {request_id} again with the same (parameters|settings|inputs)",
        "the bank (rejected|timed out on) the payment (to|for) {vendor}, (retry|resubmit) it",
        "(schedule|set up) (a|an automatic) retry (for|of) {request_id} (in {duration}|overnight)",
        "the (call|request) to {system} (returned|got) (a 503|a 502|an error) (once|), (retry|resend) it",
        "(retry|reattempt) (the|) failed (tasks|jobs) (from|of) {request_id} only, (not|don't rerun) the "
        "whole thing",
        "my (request|submission) (hit|threw) an error (on|in) {system}, (can you|) (submit|send) it (over|) "
        "again",
        "(temporary|transient) error on {request_id}, (retry|try again) (please|now|)",
        "failed job, (need|needs) (a|) rerun",
        # issue 13, round 3: phrasings from dev-split errors
        "(give|try) {request_id} (another|one more) (go|shot|try|whirl)",
        "(have|take) another (go|crack|shot|stab) at {request_id}",
        "(have|take) another (go|crack|shot) at the (failed|stuck) (import|export|sync|upload|job) "
        "(to {system}|)",
        "(run|send|put) {request_id} through (one more time|again|once more)",
        "(could you|can you|please) (try|attempt|run) (it|that|the request) "
        "(one more time|once more|again) (for me|)",
        "(let's|lets) (try|give) (that|it|the sync|the job) (again|another go|one more time) "
        "(now that {system} is back|)",
        "(one more|another) (try|attempt|go) (on|for|at) (the|that|my) (failed|last) (request|job|run) "
        "(please|pls|)",
        "(the|my) (request|job|submission) (failed|errored|didn't go through) (again|), (have|give it) "
        "one more (go|try)",
        "(I'd like|I want|I need) (it|{request_id}|the failed job) (retried|rerun|re-run|resubmitted) "
        "(please|asap|)",
        "(go again|have another go|try again) (on|with) {request_id} (please|pls|)",
        "(no rollback|no need to undo anything|don't undo it), just (try|run) {request_id} again",
        # round 4: putting a request back in the queue is a retry, not a rollback
        "(re-queue|re-enqueue|requeue) {request_id} so it (runs|gets processed) again",
        "(add|push|stick) {request_id} back into the (processing|job|work) queue",
        "{request_id} (fell|dropped) out of the queue, (re-add|requeue|add) it (again|)",
        "send {request_id} back through the queue for another (try|attempt|pass)",
        "can you put the failed (request|job) back in the (queue|job queue)",
        "(return|move) {request_id} to the (pending|retry) queue",
        "(enqueue|queue up) {request_id} (again|one more time)",
    ),
    "recovery.rollback": (
        "roll back {request_id}",
        "undo the last change (to|in) {system}",
        "revert {system} to the previous (version|state)",
        "rollback the (deploy|deployment|release) of {system}",
        "undo {request_id}",
        "restore {system} to (how it was|its state) (on {date:on}|{date:past})",
        "revert the changes made by {request_id}",
        "roll {system} back to the last good (build|release|config)",
        "the update broke {system}, roll it back",
        "reverse the (import|sync|migration) {request_id}",
        "undo what you just did",
        "ROLLBACK {system}",
        "put {system} back to version (2.3|4.1.0|1.9)",
        "can you cancel and undo {request_id}",
        "restore the (deleted|overwritten) records in {system} from (the|) backup",
        "revert {request_id} on {system}",
        "(roll back|revert) the (last|latest|previous) (change|deploy|release|update) (to|on|in) {system}",
        "(undo|reverse|revert) (that|the last|my last) (change|action|update) (in|on|to) {system}",
        "(restore|revert) {system} (to|from) the (backup|snapshot) (from|taken) {date:past}",
        "(roll back|revert) the (migration|schema change|config change) (on|in|to) {system}",
        "(undo|revert) the (import|bulk update|mass delete|sync) (in|on|to) {system} (from {date:past}|)",
        "(take|bring) {system} back to the (previous|last known good) (version|state|config)",
        "rollback {request_id}",
        "(downgrade|roll back) {system} to (v2.3|version 4.1|the previous release)",
        "(that|this) (change|update|deploy) (broke|messed up|corrupted) {system}, (undo it|roll it back)",
        "(please|) (undo|reverse) the changes (I|you|{employee}) made to {system} {date_range:past}",
        "(reverse|undo|cancel) the (journal entry|posting|payment batch) {request_id}",
        "(restore|recover) the (deleted|lost|overwritten) (records|files|data) (in|on|from) {system}",
        "(revert|rollback) (everything|all changes) (since|after) {date:past} (on|in) {system}",
        "the (hotfix|release) (is|was) bad, (roll|take) it back (on {system}|)",
        "(put|set) {system} back (to|like) it was (on {date:on}|{date:past})",
        "undo",
        "(undo|revert) that",
        "(roll back|rollback) (please|now|asap)",
        "(revert|undo) the (price|permission|config) change (in|on) {system}",
        "(undo|reverse) the bulk (edit|update) {employee} (ran|did) in {system}",
        "that (deploy|change) (was|is) a mistake, (put|set) {system} back",
        "(rollback|revert) {system} (in {location}|) (to|from) {date:past}",
        "(please|) (restore|roll back) the config (of|for) {system} from before the (upgrade|change)",
        "(undo|reverse) the (sync|import) that overwrote {system}",
        "(cancel|reverse) the changes from {request_id} (and|then) (restore|rebuild) the data",
        "(revert|roll back) the (schema|database) migration on {system} (from {date:past}|)",
        "go back to the old version of {system}",
        "(un-delete|restore) the (records|rows|users) {employee} (removed|deleted) (in|from) {system}",
        "(back out|pull back) the release of {system} (from {date:past}|)",
        # "reset" of a company system's settings; a phone or its settings is out of scope
        "reset {system} (to|back to) the (previous|last known good|last working) (config|configuration)",
        "(reset|restore) the (settings|config) (on|of) {system} to how it was (on {date:on}|{date:past})",
        "(reset|revert) the (settings|config) of {system} back to the (last|previous) (release|version)",
        "the new settings broke {system}, reset (them|it) to the (old|previous) (ones|version)",
        "(reset|restore) the (workflow|pipeline|job) (config|settings) in {system} to the previous version",
        "(please|) reset {system} to the (backup|snapshot) from {date:past}",
        "undo the settings change (I|{employee}) made (in|on|to) {system} (this morning|{date:past})",
        "(reset|revert) the (permission|pricing|routing) (settings|rules) in {system} to before the change",
        # more phrasings: deploys, configs, migrations and bulk edits on business systems reversed
        # (retrying a failed request is retry_request; undoing a phone or smart-home change is oos)
        "we pushed a bad (config|release|build) to {system} ({date:past}|this morning), "
        "(revert it|back it out)",
        "the new (version|release) of {system} is (buggy|broken|unusable), (go|switch) back to the "
        "(old|previous) one",
        "(restore|load) (this morning's|last night's|the latest good) snapshot (of|for) {system}",
        "how (do I|can I|do we) (roll back|revert) a (deploy|release|change) (on|in|to) {system}",
        "(someone|{employee}) changed (all|) the (prices|discounts|permissions|mappings) in {system} by "
        "mistake, put them back",
        "(revert|go back) to (last night's|the last|the latest) backup (of {system}|)",
        "the (migration|upgrade|cutover) (went wrong|failed) (on {system}|), we need to go back",
        "(git revert|revert the commit|revert the PR) (for|from) {request_id}",
        "(flip|set) the feature flag (on {system}|) back to (off|the old value)",
        "i want (the|) previous version of {system} back (please|)",
        "{request_id} (updated|changed|deleted) the wrong (records|accounts|rows), (reverse|undo) it "
        "(completely|)",
        "(restore|recover) {system} to a point in time (before|as of) {date:past}",
        "back out the (patch|hotfix|update) (we|I|{employee}) (applied|installed) (to|on) {system} "
        "(last night|{date:past})",
        "rollback needed: {system} (to {date:past}|)",
        "(don't|no need to) (retry|rerun) (it|{request_id}), (reverse|roll back|undo) it (instead|)",
        "roll forward (isn't|is not) an option, (roll|take) {system} back",
        "(after|since) the (update|release|change) (on {date:on}|{date:past}|) the (numbers|data|totals) in "
        "{system} (look|are) wrong, can we (revert|roll back)",
        "the (permissions|roles|groups) in {system} (got|were) wiped by the (update|script|sync), "
        "(restore|roll back) (them|to the previous set)",
        "(the|) canary (for|on) {system} is failing, (abort|stop) (the rollout|it) and roll back",
        "(revert|undo) the (upgrade|update|patch) (of|to) {system} (in|at) {location}",
        "the data in {system} (is|got) corrupted (by|after) {request_id}, restore (it|the data) to "
        "(before|how it was)",
        "switch {system} back to the old (pricing rules|workflow|routing|approval chain)",
        "(execute|run) the rollback (plan|runbook) (for|on) {system} (now|asap|)",
        "the (template|mapping|formula) change in {system} (messed up|broke) every (invoice|order|report), "
        "(reverse|revert) it",
        "(the|) last deploy (to {system}|) (broke|took down) (checkout|login|invoicing), (roll back|revert) "
        "to the previous (build|release)",
        "(my|the) script (overwrote|wiped) (the|) (customer|vendor) (fields|records) in {system}, "
        "(need|I need) them back as they were",
        "(can|could) you (reverse|undo) {request_id}? it (was|went out) by mistake",
        "{system} (release|deploy) (from|of) {date_range:past} (has|had) to be reverted, (please|) do it "
        "(now|)",
        # issue 13, round 3: phrasings from dev-split errors
        "(void|back out|reverse out) the (journal entry|posting|accrual|ledger entry) {request_id} "
        "(in {system}|)",
        "(that|the) (journal entry|posting|payment batch|credit memo) {request_id} (was|went in) wrong, "
        "(reverse|unpost|undo) it",
        "(cancel|kill) {request_id} and (put|set) (everything|the data|{system}) back "
        "(the way it was|to how it was)",
        "(un-post|unpost|reverse) the (entries|postings|batch) {request_id} (made|posted) (in|to) "
        "{system} {date:past}",
        "(retrying|rerunning|running it again) (won't help|won't fix it|makes it worse), "
        "(revert it|undo it|roll it back|revert the change|roll back {request_id}) (instead|)",
        "(instead of|rather than) (retrying|rerunning|resubmitting) {request_id}, "
        "(undo|reverse|roll back) (it|what it did)",
        "(forget|skip|cancel) the retry, (restore|revert|roll back) {system} to the (previous|last good) "
        "(state|version)",
        "(not another attempt|no more attempts|no rerun), (I want|we want|we need) "
        "(it|the change|{request_id}) (reverted|rolled back|undone)",
        "(please|) (don't|do not) (resubmit|replay|requeue) (that|it|{request_id}), "
        "(back it out|take it back|put it back the way it was)",
        "(reverse|undo|roll back) the (duplicate|wrong|accidental) (posting|entry|payment run|import) "
        "(from {request_id}|in {system}) before anyone (sees|uses) it",
        "(cancel|undo) the (posted|booked|executed) (journal entry|transfer|price change) {request_id}, "
        "it already (went through|hit the ledger)",
        # round 4: lessons from dev-split errors
        # version numbers are plain text, not dates
        "(downgrade|roll back|revert) {system} to (release 5.0.1|build 3.14|v1.8|version 10.2)",
        "go back to version (1.4|2.0|3.1.2|6.5) of {system}",
        "{system} (needs to|should) go back to (1.9|2.3|4.0.2|7.1), the new version is broken",
        "(restore|reinstall) the (2.3|1.9|5.2|3.0.1) (release|version|build) of {system}",
        # someone changed permissions or settings by mistake: put them back (not a revoke)
        "{employee} (accidentally|mistakenly) (edited|overwrote) the (roles|permissions|access settings) in "
        "{system}, (undo|revert) (that|it)",
        "(restore|bring back) the (permissions|role mappings|group settings) in {system} to what they were "
        "before {employee} changed them",
        "the permission changes (made|pushed) in {system} (this morning|{date:past}) were a mistake, "
        "(revert|undo) them",
        # a system (even one named like a person, "Jenkins") before "in {location}" or after "version of"
        "(undo|reverse|back out) the (update|change|patch) (on|to) {system} (for|at) {location} "
        "(from {date:past}|)",
        "{system} in {location} (got|had) a bad (update|release|change), (roll it back|undo it)",
        "(restore|revert) {system} (for|at) {location} to how it was {date:past}",
        "(switch|take us) back to the (older|earlier|prior) (version|build|release) of {system}",
        "we want {system} back on the old version, the (update|upgrade) (broke|ruined) (it|everything)",
        # going back to a backup is a rollback, not a retry
        "(restore|roll back to) the (most recent|newest|latest) (nightly|) (backup|snapshot) (please|)",
        "(can we|let's) (go|roll) back to (yesterday's|the previous|the last good) backup (of {system}|)",
        "(load|restore) the last backup (of {system}|) and (discard|drop) today's changes",
    ),
}
