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
    ),
}
