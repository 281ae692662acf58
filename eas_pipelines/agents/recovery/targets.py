"""Recovery rules, free of Dagster: which request a sentence means, and whether it may be retried
or rolled back.

"retry REQ..." and "roll back REQ..." name another request by its id (the NLP service upper-cases
ids; the store's are lower-case UUIDs: :meth:`~eas_pipelines.store.RequestStore.find_request`
reads either). With no id ("retry the last request", "undo what you just did") the requester's own
latest request that fits is meant. Only the client who submitted a request, or an operator, may
retry or roll it back: the actions repeat or undo somebody's business changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from eas_pipelines.agents.common import WorkItem
from eas_pipelines.store import RequestRecord, RequestStore, Status

AGENT = "recovery"
"""The agent's name: the actor of its re-queues, counted as manual retries."""
OPERATOR_ROLE = "operator"
"""A role (``eas roles grant``) that may retry or roll back anybody's request."""
RETRYABLE = frozenset({Status.FAILED})
"""Only a failed request is retried (``failed -> queued``, the state machine's retry edge)."""
ROLLBACKABLE = frozenset({Status.SUCCEEDED, Status.FAILED})
"""A request is rolled back once it has stopped: running, queued or awaiting work could still act."""
RECENT = 20
"""How many of the requester's latest requests are looked through when the sentence names none."""


def reference_of(item: WorkItem) -> str | None:
    """The request id the sentence names, as extracted (normalised) or typed."""
    value = item.value("request_id")
    if value:
        return str(value)
    texts = item.texts("request_id")
    return texts[0] if texts else None


def find_target(
    store: RequestStore, item: WorkItem, fits: Callable[[RequestRecord], bool]
) -> RequestRecord | str:
    """The request the sentence is about, or why none is found.

    By id when one is given (whatever its status: the caller says what is wrong with it); else the
    requester's latest request that ``fits``, never this request itself or another recovery request.
    """
    reference = reference_of(item)
    if reference:
        found = store.find_request(reference)
        if found is None:
            return f"request {reference} does not exist"
        if found.id == item.request_id:
            return f"request {reference} is this request itself"
        return found
    candidates: Iterable[RequestRecord] = store.list(client_id=item.requester, limit=RECENT)
    for record in candidates:
        if record.id != item.request_id and record.agent != AGENT and fits(record):
            return record
    return "the request names no request id and none of your recent requests fits: say which request"


def permission_problem(store: RequestStore, requester: str, target: RequestRecord) -> str | None:
    """Why ``requester`` may not act on ``target`` (None: they submitted it or are an operator)."""
    if requester == target.client_id or OPERATOR_ROLE in store.roles_of(requester):
        return None
    return (
        f"request {target.id} was submitted by {target.client_id}; "
        f"only they or an {OPERATOR_ROLE} may do this"
    )


def manual_retries(store: RequestStore, request_id: str) -> int:
    """How many times the recovery agent has re-queued the request (from its history)."""
    return sum(
        1 for step in store.history(request_id) if step.actor == AGENT and step.to_status is Status.QUEUED
    )


def retry_problem(record: RequestRecord, retries: int, max_retries: int, rolled_back: bool) -> str | None:
    """Why ``record`` cannot be queued again (None: it can).

    Attempts are respected twice over: each manual retry gives the request one more run (the
    recovery rule counts the failed runs of its own re-queues, so a request that used up its
    attempts fails for good after one more failure), and a request is retried by hand at most
    ``max_retries`` times. A rolled-back request is not retried: its steps' effects were undone,
    and re-running it would act on that state; it is submitted again as a new request.
    """
    if record.status not in RETRYABLE:
        return f"request {record.id} is {record.status}; only a failed request can be retried"
    if rolled_back:
        return f"request {record.id} was rolled back; submit it again as a new request"
    if retries >= max_retries:
        return f"request {record.id} was already retried {retries} time(s), the most allowed ({max_retries})"
    return None


def rollback_problem(record: RequestRecord, steps: int, rolled_back: bool) -> str | None:
    """Why ``record`` cannot be rolled back (None: it can). ``steps``: its steps not yet undone."""
    if record.status not in ROLLBACKABLE:
        return (
            f"request {record.id} is {record.status}; only a request that succeeded or failed can be "
            "rolled back (cancel it, or wait for it to finish)"
        )
    if steps == 0:
        if rolled_back:
            return f"request {record.id} was already rolled back"
        return f"request {record.id} made no change that EAS can undo"
    return None
