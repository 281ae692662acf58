"""The request store: PostgreSQL tables, state machine, approvals and audit log behind one API.

Typical use::

    from eas_pipelines.store import RequestStore, Status, make_engine, migrate

    migrate.upgrade(url)                      # once, at deploy (``eas db upgrade``)
    store = RequestStore(make_engine(url))    # once per process, shared by its threads
    record, created = store.submit(client_id, idempotency_key, text)
    store.transition(record.id, Status.RUNNING, actor="worker-1", expected=Status.QUEUED, attempt=True)
"""

from eas_pipelines.store import migrate
from eas_pipelines.store.chain import ChainBreak, ChainReport
from eas_pipelines.store.corrections import CorrectionRecord, CorrectionStore, Reclassification
from eas_pipelines.store.db import make_engine, make_sessionmaker, normalize_database_url, session_scope
from eas_pipelines.store.errors import (
    ApprovalAlreadyDecided,
    ApprovalError,
    ApprovalForbidden,
    ApprovalNotFound,
    RequestNotFound,
)
from eas_pipelines.store.records import (
    ApprovalRecord,
    AuditEntry,
    Decision,
    DelegationRecord,
    RequestRecord,
    Transition,
)
from eas_pipelines.store.repository import RequestStore
from eas_pipelines.store.states import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    Lane,
    Priority,
    StaleTransition,
    Status,
    is_legal,
)

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "ApprovalAlreadyDecided",
    "ApprovalError",
    "ApprovalForbidden",
    "ApprovalNotFound",
    "ApprovalRecord",
    "AuditEntry",
    "ChainBreak",
    "ChainReport",
    "CorrectionRecord",
    "CorrectionStore",
    "Decision",
    "DelegationRecord",
    "IllegalTransition",
    "Lane",
    "Priority",
    "RequestNotFound",
    "RequestRecord",
    "Reclassification",
    "RequestStore",
    "StaleTransition",
    "Status",
    "Transition",
    "is_legal",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "normalize_database_url",
    "session_scope",
]
