"""Templates for the integration agent: syncing and transforming data between systems.

Data moving between business systems; moving money between personal bank accounts,
pairing headphones or converting miles to kilometres is out of scope (see ``oos``).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "integration.data_sync": (
        "sync {system} with {system}",
        "(run|trigger|kick off) a sync from {system} to {system}",
        "is the sync (from|of) {system} (done|finished|still running)",
        "push (the latest|new) (contacts|orders|records) from {system} (to|into) {system}",
        "resync {system} (now|)",
        "{system} and {system} are out of sync, fix it",
        "pull data from {system} every {duration}",
        "schedule a sync between {system} and {system} for {date}",
        "(when|what time) did {system} last sync",
        "force a full sync of {system}",
        "update {system} with (today's|the latest) data from {system}",
        "mirror {system} into {system}",
        "sync customer records (to|with) {system}",
        "data sync request: {system} -> {system}",
        "keep {system} in sync with {system} (every {duration}|)",
        "the nightly sync to {system} didn't run, (start|run) it (now|manually)",
        "sync {system}",
        "resync {system} and {system}",
        "the sync (for|of) {system} is stuck, (kick|restart) it",
        "(push|send|copy) (the|) (leads|deals|contacts|invoices|employees) from {system} (to|into) {system}",
        "(pull|import|bring in) (orders|customers|tickets) from {system} into {system}",
        "(connect|link|integrate) {system} (to|with) {system}",
        "(set up|create) (an integration|a connector|a sync) between {system} and {system}",
        "why (isn't|is not) {system} (syncing|updating) (with|from) {system}",
        "(make sure|ensure) {system} (matches|is up to date with) {system}",
        "(transfer|move|migrate) the (data|records|accounts) from {system} to {system}",
        "(run|start) the (nightly|daily|hourly) (sync|import) (to|from|for) {system} (now|)",
        "(last|latest) sync (time|status) for {system}",
        "(copy|replicate) (data|tables) from {system} (into|to) {system} (every {duration}|nightly)",
        "(backfill|reload) {system} from {system} (for {date_range:past}|since {date:past})",
        "(upload|export) the {period} (numbers|data) to {system}",
        "sync (up|) (the|our) (employee|customer|product) (records|data) between {system} and {system}",
        "new hires in {system} aren't showing up in {system}, (resync|sync them)",
        "(get|bring) {system} up to date with {system}",
        "did the (contacts|orders|invoices) from {system} make it into {system}",
        "two-way sync (for|between) {system} and {system}",
        "(please|) refresh the data in {system} from {system}",
        "(turn on|enable|pause|turn off) the sync (from|between) {system} (to|and) {system}",
        "(load|feed) {system} data into {system} (every {duration}|once a day|)",
        "(how|when) (often|) does {system} sync with {system}",
        "(move|transfer) the {period} (orders|transactions) (over|across) to {system}",
        "{system} is missing (records|data) from {system}, can you sync them",
        "data from {system} hasn't (synced|shown up) since {date:past}",
        "(sync|push) the price list to {system} (and {system}|)",
        "(re-run|restart) the integration between {system} and {system}",
        # more phrasings: two systems out of step (different numbers, stale copies, edits that never
        # arrive) and keeping them matched; whether a system is up at all is monitoring
        "{system} and {system} show different (numbers|totals|counts), (get them to match|line them up)",
        "(the|our) (customer list|product catalog|price list|headcount) in {system} is (stale|out of date) "
        "(compared to|vs) {system}",
        "(changes|edits|updates) (I make|made) in {system} (don't|never) (show up|appear|come through) in "
        "{system}",
        "(hook up|wire up) {system} so it (automatically|) (gets|receives) new (orders|tickets|deals) from "
        "{system}",
        "I updated (the|a) (customer|vendor|employee) (address|email|record) in {system} but {system} still "
        "has the old one",
        "how (do I|can we) get {system} and {system} (talking to each other|to stay in step)",
        "(going forward|from now on), (keep|make sure) {system} (matches|mirrors) {system}",
        "the (records|counts|totals) (don't|do not) match between {system} and {system} "
        "(, please sync them|, reconcile them|)",
        "reconcile {system} (with|against) {system} and (push|copy over) (the|any) missing (rows|records)",
        "the data in {system} is {duration} behind {system}",
        "(the ETL|the pipeline|the CDC feed) from {system} (to|into) {system}, run it now",
        "(sync|resync) (pls|please|now)",
        "(I need|we need) the (deals|tickets|orders|contacts) (from|in) {system} to (land|show up) in "
        "{system} (too|as well)",
        "(set up|add) a (webhook|connector|trigger) so {system} (updates|pushes to) {system} "
        "(in real time|right away)",
        "why do {system} and {system} have different (employee|customer|order) counts",
        "(people|employee|org) changes (in|from) {system} (need to|should) flow (into|to) {system} "
        "(automatically|every {duration}|)",
        "the two systems (are|got) out of (step|sync) again, (please|can you) line them up",
        "(deleted|closed|archived) (contacts|accounts|tickets) in {system} are still (showing|there) in "
        "{system}",
        "only (half|some|part) of the (invoices|orders|rows) (made it|came across|got copied) from {system} "
        "(to|into) {system}",
        "(I'd like|I want) {system} to pull from {system} on a schedule (, say every {duration}|)",
        "{system} (never got|is missing) the updates from {system} (since {date:past}|{date_range:past})",
        "(stock|inventory) (levels|counts) in {system} and {system} (don't agree|are different), "
        "(sync|align) them",
        "(make|treat) {system} (as|) the source of truth and (overwrite|update) {system} (to match|)",
        "(since|after) the (migration|upgrade|cutover) {system} and {system} "
        "(drifted apart|got out of step|don't line up)",
        "the (new|custom) fields (in|from) {system} (aren't|are not) coming over to {system}",
        "(can we|could we) have {system} and {system} update each other (automatically|)",
        "{system} vs {system} mismatch, (resync|sync) (please|pls|)",
        "I see (old|stale) data in {system}, (it should|it's supposed to) (match|mirror) {system}",
        # issue 13, round 3: phrasings from dev-split errors
        # (records that never arrived or linger after a delete in the other system are a sync)
        "have (the|last night's|today's) (orders|leads|contacts|new hires) from {system} "
        "(come across|come over|arrived|landed) in {system} (yet|)",
        "are the (new|latest|updated) (leads|customers|products|vendors) from {system} "
        "(in|visible in|showing in) {system} (yet|now)",
        "(quick check|quick q): did the (import|copy|sync) from {system} (to|into) {system} "
        "(finish|go through|complete)",
        "I can't find (yesterday's|this week's|the new) (orders|deals|contacts) from {system} in {system}, "
        "(did the sync run|did the sync fail|is the sync broken)",
        "{system} and {system} (disagree|can't agree) on how many (customers|orders|products|employees) we "
        "have, (sync|reconcile|align) them",
        "the (order|customer|product|employee) (counts|totals) in {system} (don't line up|don't tie out) "
        "(with|against) {system}, (copy|push) the (missing|correct) records across",
        "I (deleted|removed|merged) (some|a few|the duplicate) (contacts|vendors|accounts) in {system} "
        "(yesterday|{date:past}|) and they (still show|still appear|are still listed) in {system}",
        "(cancelled|refunded|voided) (orders|invoices|subscriptions) in {system} (haven't|have not) "
        "(cleared|gone away|dropped off) (in|from) {system}",
        "{system} still (lists|shows) (people who left|employees we offboarded|customers we removed) "
        "(weeks ago|{date_range:past}) (even though|but) they're gone from {system}",
        "(fixed|corrected|changed) the (customer's|vendor's|contact's) (phone number|billing address|name) "
        "in {system} (but|and) {system} (never picked it up|didn't get the change|still shows the old value)",
        "the (price|status|owner) change I (made|did) in {system} (never|still hasn't) "
        "(reached|made it to|carried over to) {system}",
        "(do|run|kick off) a (complete|full|hard) (resync|refresh|re-import) of {system} "
        "(from {system}|from scratch|)",
        "(wipe and reload|re-pull everything into|rebuild the copy in) {system} from {system}",
        "(reload|re-pull|update) the (records|tables|data) in {system} (with|from) (the latest in|what's in) "
        "{system}",
        "(going forward|in future) {system} (should|has to|needs to) "
        "(stay in step|stay in sync|stay matched) with {system}",
        "(how do I|how can I|what's the way to) get (new|the) (orders|contacts|tickets) from {system} "
        "(copied|flowing|synced) into {system} (automatically|every {duration}|)",
        "(I'm new here|it's my first week), (how|where) do I (trigger|run|start) a sync (from|of) {system} "
        "(to|into) {system}",
        "{system} -> {system} (resync|sync) (asap|now|pls)",
        "(we keep|my team keeps|everyone keeps) (looking at|working from) (stale|old) numbers in {system}. "
        "(pull|bring) (fresh|the latest) data (over|across) from {system}",
        "we (merged|renamed|closed) (a few|some) accounts in {system} (this morning|{date:past}). "
        "(make sure|please make sure) {system} (reflects that|picks that up|gets the same changes)",
        "(don't|do not) (transform|change|convert) anything, just copy the (records|rows|data) from {system} "
        "(to|into) {system} as (is|they are)",
        # issue 13, round 4: phrasings from dev-split errors
        # one system caught up with another (both are systems, not people)
        "(catch|bring) {system} up (with|to) {system} (please|when you can|)",
        "{system} (needs|has) to be (current|caught up) with {system}",
        "(update|refresh) {system} so it (reflects|matches) (what's in|the data in) {system}",
        "(make|get) {system} current (with|against) {system} (if possible|asap|)",
        # updates that never arrived, the system as subject, with a day or a range
        "(nothing new|not a single record|no update) from {system} has (landed|arrived|come through) in "
        "{system} since {date:past}",
        "{system} (stopped|hasn't been) (receiving|getting) (changes|updates|records) from {system} (since "
        "{date:past}|over {date_range:from}|{date_range:past})",
        "{system} (hasn't sent|stopped sending) (anything|any data|updates) (over|across) (since "
        "{date:past}|for {duration})",
        "{system} (changes|updates|edits) from {date_range:past} (never|didn't) (land|make it) (in|into) "
        "{system}",
        # one system stale against another
        "{system} has (old|outdated|last week's) (prices|vendor data|customer info) (compared with|next to) "
        "{system}",
        "(the|our) (pricing|vendor list|org chart|product list) (in|on) {system} (lags|is behind|trails) "
        "{system}",
        # deletions and cancellations that never reached the other system
        "(deletions|removals|cancellations) (in|from) {system} (aren't|don't get|never get) "
        "(carried|pushed|propagated) (over|across) to {system}",
        "(records|accounts|contacts) (I|we) (removed|archived|deleted) (in|from) {system} (keep|still) "
        "(showing up|turning up|popping up) in {system}, (sync the deletes|please resync)",
        "{system} (still has|keeps showing) (invoices|orders|deals) (we|that were) (voided|cancelled|closed) "
        "in {system}",
        # tickets or cases copied between systems are a sync, not a new ticket
        "(can|could) (the|) (tickets|cases|issues) (created|logged|opened) in {system} (also|automatically) "
        "(show up|be copied) in {system}",
        "(copy|mirror) (every|each) (ticket|case|order) from {system} (over to|across to|into) {system} "
        "(automatically|as it comes in|)",
        "(quick ask|small request|one thing): (fetch|grab|import) (the|all|) (tickets|cases|issues) from "
        "{system} into {system}",
    ),
    "integration.data_transform": (
        "convert the (export|file|data) from {system} to CSV",
        "transform the (data|records) from {system} (to|into) (JSON|the new schema)",
        "(map|remap) {system} fields to {system}",
        "convert all amounts to {currency}",
        "normalize the dates in the export from {system}",
        "reformat the (vendor list|customer file|CSV) (for|to match) {system}",
        "change the currency column to {currency} before loading into {system}",
        "flatten the JSON from {system}",
        "clean up (duplicates|nulls) in the extract from {system}",
        "(run|apply) the (mapping|transformation) for {system}",
        "dedupe the contacts coming from {system}",
        "turn the export from {system} into a parquet file",
        "merge the exports from {system} and {system} into one file",
        "transform this spreadsheet so it loads into {system}",
        "split the full name column into first and last for {system}",
        "restate the sales figures in {currency} (and|then) load them into {system}",
        "(convert|change) this (csv|excel file|spreadsheet) (to|into) (JSON|XML|parquet) for {system}",
        "(reformat|restructure) the (export|extract|data) from {system} (for|to fit) {system}",
        "(convert|turn) the dates (in|from) {system} (to|into) (ISO format|YYYY-MM-DD|US format)",
        "(change|convert) (all|the) (prices|amounts|totals) in the file to {currency}",
        "(map|match) the (columns|fields) (from|in) {system} (to|onto) {system}",
        "(clean|tidy) up the (customer|vendor|product) (data|list) from {system} before (import|loading)",
        "(dedupe|deduplicate) the (records|rows) (from|in) {system}",
        "(pivot|aggregate) the data from {system} by (month|region|customer)",
        "(trim|strip) (whitespace|spaces) from the (names|emails) in {system}",
        "(mask|anonymize|hash) the (emails|SSNs|phone numbers) before loading into {system}",
        "(split|merge) the (address|name) (fields|columns) for {system}",
        "convert the weight column from lbs to kg before loading into {system}",
        "apply the field mapping for {system} (to|on) (the|this) (file|export)",
        "(transform|convert) the (webhook|payload|feed) from {system} (into|to) (our|the) (format|schema)",
        "(standardize|normalize) (phone numbers|country codes|addresses) in {system}",
        "I need the export from {system} as (CSV|Excel|JSON) with (different|renamed) (columns|headers)",
        "(rename|reorder) the columns in the export from {system}",
        "(restate|convert) {period} figures (in|to) {currency}",
        "the file from {system} has the wrong (date|number) format, (fix|convert) it",
        "(join|combine) the extracts from {system} and {system} on customer id",
        "convert the (XML|JSON) feed from {vendor} to CSV for {system}",
        "(reshape|transform) the {period} data (for|so it fits) {system}",
        "(lowercase|uppercase) all the emails in the {period} export",
        "(fill in|default) the (missing|empty) (country|currency) values before loading into {system}",
        "(filter out|drop) test records (from|in) the data from {system}",
        "(convert|translate) the {vendor} price file to {currency} and our SKU format",
        "(make|turn) the dump from {system} (readable|usable) for {system}",
        "(re-map|remap) the (status|category) codes from {system} to ours",
        "(round|format) the amounts to two decimals in the file for {system}",
        # more phrasings: reshaping, cleaning and re-encoding data for a target system (moving it
        # between systems unchanged is data_sync)
        "(I have|got) a (CSV|spreadsheet|file) with (US|European|messy) dates, (need|I need) them in ISO "
        "(format|) for {system}",
        "what's the (easiest|best) way to get the export from {system} into the format {system} "
        "(wants|expects)",
        "pivot the (revenue|spend|order) data for {period} so (months|regions) are columns",
        "(aggregate|roll up|sum up) the (daily|hourly) rows from {system} (into|to) (weekly|monthly) totals",
        "(strip|remove|mask) (the|) (PII|personal data|emails and phone numbers) (from|in) the "
        "(extract|export|file) before (we send it|sending it) to {vendor}",
        "(anonymize|pseudonymize|hash) the (customer|employee) (data|IDs) from {system} "
        "(for testing|before loading)",
        "the phone numbers (in|from) {system} are in (five|5|different) formats, (standardize|normalize) "
        "them",
        "the amounts (from|in) {system} are in cents, (convert them|divide by a hundred) before loading",
        "need this excel in (the|) format of {system} (please|)",
        "(split|explode) the (line items|order lines|tags) (from {system}|) into one row (each|per item)",
        "the (export|file) from {system} has broken (characters|accents|encoding), (convert|fix) it to UTF-8",
        "(trim|strip) (the|) (spaces|whitespace) and fix (the|) (capitalization|casing) (of|in) the names "
        "from {system}",
        "(change|switch) the (delimiter|separator) (in|of) the (export|file) (from|of) {system} "
        "(from semicolons to commas|to tabs)",
        "(convert|shift) the timestamps (in|from) {system} (from UTC to local time|to UTC|to CET)",
        "(parse|unpack) the (XML|JSON) from {vendor} into (rows|a table) (for {system}|)",
        "(mapping|transform) question: how should the (status|owner|type) field (in|from) {system} map to "
        "{system}",
        "(I need|need) the (numbers|figures|totals) for {period} in {currency} (instead of|not) "
        "(local currency|the original currency)",
        "(concatenate|combine) the first and last name (columns|fields) (into one|for {system})",
        "the data from {system} is a mess (with|:) (mixed formats|blanks|typos) (everywhere|), "
        "(clean it up|standardize it) (for {system}|)",
        "(keep|take) only the (active|paid|open) (customers|orders|accounts) from the export (of|from) "
        "{system} (and load that into {system}|)",
        "(enrich|join) the (leads|accounts) from {system} with (data|company info) from {vendor}",
        "(transformation|conversion) (job|needed) for the (file|extract) (for|of) {period} from {system}",
        "(JSON|XML|xlsx) to (CSV|parquet|JSON)? (for {system}|)",
        "(change|map) the (Y/N|yes/no) values (in|from) {system} to (true/false|1 and 0)",
        "{vendor} (sends|gives) us (weird|inconsistent) (dates|codes|column names), make them consistent "
        "before (import|loading into {system})",
        "(the|) schema (changed|is different) in {system}, (update|adjust) the mapping so the (file|feed) "
        "(still loads|fits {system})",
        "(write|build) a (transform|transformation|script) that (cleans|reshapes) the data from {system} for "
        "{system}",
        "I need the (totals|prices) from {vendor} shown in {currency}, the file has them in "
        "(local currency|their currency)",
        # issue 13, round 3: phrasings from dev-split errors
        # (units, currencies, flags and codes re-expressed for a target system are a transform)
        "(weights|dimensions|distances) in the (export|extract|file) from {system} are "
        "(imperial|in US units|not metric), (convert|change) them to metric (before loading|for {system}|)",
        "(turn|change|convert) the (temperature|temp) (column|readings) from fahrenheit to celsius in the "
        "(file|sheet) for {system}",
        "(express|restate|show) (the|our) (numbers|figures|sales) for {period} (in|as) {currency} "
        "(in the file|in the extract|before loading into {system})",
        "(convert|translate) every (amount|price|cost) in the (dataset|file|extract) for {period} (into|to) "
        "{currency}",
        "the (file|sheet|data) for {period} is in (local currency|mixed currencies|the original currencies), "
        "(I need|we need) everything in {currency}",
        "(recode|turn) the (active/inactive|open/closed|on/off) (flags|column) (from|in) {system} (into|to) "
        "(1 and 0|true and false|booleans)",
        "(swap|replace) the (blank|empty|null) (cells|values) (in|from) {system} with (N/A|zero|a default) "
        "before (loading|the import)",
        "{system} (stores|exports|gives us) (gender|status|country) as (codes|numbers|abbreviations), "
        "(turn|map) them into (readable|full|proper) (labels|names|text) for {system}",
        "the files from {vendor} (use|have) (their own|different|odd) (status|unit|product) codes, "
        "(map|translate) them to ours (before loading into {system}|)",
        "(save|write|output) the (data|extract|query results) from {system} as "
        "(parquet|avro|a zipped CSV|JSON lines)",
        "(can you|could you|) (change|convert) this (xlsx|excel|CSV) (to|into) (a parquet|a JSON|an XML) "
        "file so {system} (can read|accepts) it",
        "(don't|do not) just copy it over, the (data|file) from {system} (needs|has) to be "
        "(reformatted|cleaned up|reshaped) (first|before it goes into {system})",
        "I'm (loading|importing) (the|a) (price list|catalog|file) from {vendor} into {system} and the "
        "(columns|units|codes) don't (fit|match), (can you|please) (convert|reshape) it",
        "how (do I|can I|would I) (turn|convert) (date|datetime|timestamp) strings from {system} into "
        "(real|proper|ISO) dates",
        "(need|want) the (units|codes|dates|flags) (in|from) {system} (converted|normalized|remapped) "
        "(pls|asap|)",
        # issue 13, round 4: phrasings from dev-split errors
        # several exports combined into one file is a transform (not a sync)
        "(combine|consolidate|stitch together) the (extracts|exports|CSVs) (from|of) {system} and {system} "
        "into (a single|one) (file|sheet|dataset)",
        "I need one (combined|merged) (file|spreadsheet) (built|made) from the (exports|extracts) of "
        "{system} and {system}",
        "(append|stack) the export (from|of) {system} (onto|under) the export (from|of) {system} (so it's "
        "one file|in one sheet)",
        # file formats are plain words
        "(export|dump|write out) the (table|query output|report data) from {system} (to|in) "
        "(avro|ORC|feather) (format|)",
        "(I need|give me) the (extract|data) (from|out of) {system} (in|as) (avro|ORC|parquet) "
        "(format|files) (please|)",
        # a vendor's file that must be reshaped for a system
        "{vendor} sent (a|the) (file|feed|price list) that (won't load|doesn't fit) (in|into) {system}, "
        "(reshape|convert|remap) it",
        "the (codes|units|columns) in the {vendor} (file|feed|sheet) don't match {system}, (translate|map) "
        "them",
        # dates from a system re-expressed
        "(fix|reformat|convert) the (date|timestamp) (columns|fields) (coming|exported) (out of|from) "
        "{system} (to|as|into) (ISO 8601|YYYY-MM-DD|ISO dates)",
        "{system} (dates|timestamps) (need|have) to be in ISO (format|), (convert|change) them (please|)",
        # pivoting: "revenue" or "sales" data is plain text here, not a metric
        "(transpose|unpivot|pivot) the (sales|revenue|cost) (table|sheet|rows) (for {period}|) so "
        "(each|every) (month|quarter|region) (is|gets) (its own|a) column",
        "(reshape|turn) the (revenue|spend) (numbers|figures) (for {period}|) (into|to) a (wide|long) "
        "(table|format)",
        # currency restated before a load
        "(convert|restate) (our|the) {period} (numbers|figures|totals) (to|into) {currency} (and "
        "then|then|before we) load (them|it) into {system}",
        "{period} (numbers|figures) in {currency} (please|), (formatted|ready) for {system}",
        # name fields, no system named
        "(join|merge|glue) the (given name|first name) and (surname|last name) (columns|fields) into a "
        "single (full name|name) (column|field)",
        "(build|make) a full name (column|field) (out of|from) (first and last name|given name and surname)",
        # a dump one system cannot read
        "the (export|dump|extract) (out of|from) {system} (isn't|is not) in a format {system} can "
        "(read|ingest), (fix|convert) it",
        "(reformat|rework|restructure) the (dump|export|backup file) (from|of) {system} so {system} can "
        "(ingest|import|use) it",
    ),
}
