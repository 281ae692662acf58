"""Which conversation a request belongs to: chosen on submit, kept with the request, read back later.

A request can continue a conversation ("same dates for Bob" after "book vacation for Alice next
week"): the NLP service then resolves its text against the earlier turns. The id must outlive the
submit call, because a request the NLP service could not classify at once is classified later by
the reconciler, which must send the same id (else the follow-up loses what it refers to).

Where it is kept, and why there: in the request's own ``conversation_id`` column (store revision
0006), written by :meth:`RequestStore.submit` in the transaction that stores the request. So the id
is there as soon as the request is, a retry of the same Idempotency-Key reads back the one the
first call stored (a conversation is started once, not once per retry), and it is never masked
(the audit entry of the submit carries a PII-masked copy for the auditors, not the value read).
Requests stored before 0006 had it in a ``request.conversation`` audit entry; that migration
copied those into the column, so nothing reads the audit log for it any more.
"""

from __future__ import annotations

import uuid

ID_PREFIX = "conv-"


def new_conversation_id() -> str:
    """A fresh id for a conversation the client asked to start (the NLP service starts one on the
    first parse under a new id; it has no call to create one)."""
    return f"{ID_PREFIX}{uuid.uuid4().hex}"


def chosen_conversation(conversation_id: str | None, start: bool) -> str | None:
    """The conversation to store a new request in: the one named, a fresh one, or none.

    The request body's validation already refused naming one and asking to start one together.
    A fresh id is drawn even when the submit turns out to be a retry; the store then keeps the
    first call's and this one is dropped unused.
    """
    return new_conversation_id() if start else conversation_id
