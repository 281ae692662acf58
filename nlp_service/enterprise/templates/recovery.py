"""Templates for the recovery agent: retrying failed work and rolling changes back."""

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
    ),
}
