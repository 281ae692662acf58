"""Templates for the integration agent: syncing and transforming data between systems."""

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
    ),
}
