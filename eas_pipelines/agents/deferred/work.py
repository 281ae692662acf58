"""Deferred work: what a request asks to happen later ("announce it on Friday at 9am", "revoke her
access on her last day") is done by a request of its own, queued when it is due.

Why a request of its own: the work that runs at the due time is a workflow like any other, so it gets
everything a request gets (lanes, op retries, the failure sensor, the saga, approvals, the audit log,
``eas status``), and the request that asked for it can end now, ``succeeded`` with "scheduled for ...".

- A workflow step that finds its work is for later calls :func:`defer` (an audit entry
  :data:`SCHEDULED` on its request: the due time, what will be done) and finishes the workflow early
  (``Step.completed``). The audit log is where the schedule lives: it is durable, append-only, and the
  request's trail then reads as what happened.
- :data:`deferred_work_sensor` reads the new :data:`SCHEDULED` and :data:`LAUNCHED` entries after its
  cursor and keeps the schedules not yet launched in the cursor (a handful at a time: announcements,
  offboardings). When one is due, it stores and queues the *due request*
  (:func:`~eas_pipelines.agents.documents.followup.queue_derived`): the same client, text, intent and
  entities, plus an entity :data:`DEFERRED_FROM` naming the scheduling request. Its idempotency key is
  derived from the schedule's audit entry, so a tick repeated, or a cursor lost and rebuilt from the
  log, queues it once; :data:`LAUNCHED` is audited on the scheduling request.
- The due request's workflow sees :func:`is_due_run` and does the work now: nothing is done before
  its time (the sensor queues it only once due), and each schedule is carried out once.

If the cursor is lost (the sensor reset), the next tick rebuilds it from the whole audit log.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from eas_pipelines.agents.documents.followup import queue_derived
from eas_pipelines.connectors.outlook_calendar import OutlookCalendarResource
from eas_pipelines.resources import FastLaneResource, RequestStoreResource
from eas_pipelines.store import AuditEntry, RequestNotFound, RequestStore

SCHEDULED = "deferred.scheduled"
"""Audit action on a request whose work is for later: ``due_at`` (ISO, UTC) and ``what``."""
LAUNCHED = "deferred.launched"
"""Audit action on the scheduling request once its due request is queued (``scheduled_entry``,
``due_request``)."""
DEFERRED_FROM = "deferred_from"
"""Entity type of a due request: its value is the id of the request that scheduled it."""
ACTOR = "eas/deferred"
SETTLE = timedelta(seconds=30)
"""How far behind the newest audit entries the cursor stays (entries commit after their id is taken)."""
PAGE = 500

if TYPE_CHECKING:
    from eas_pipelines.agents.common import WorkItem


@dataclass(frozen=True)
class Schedule:
    """A schedule not yet launched: its audit entry, its request and when it is due."""

    entry_id: int
    request_id: str
    due_at: datetime

    def dump(self) -> list[Any]:
        return [self.request_id, self.due_at.isoformat()]


@dataclass
class DeferredCursor:
    """The sensor's cursor: audit ids up to ``after`` are read; ``pending`` the schedules still ahead."""

    after: int = 0
    pending: dict[int, Schedule] | None = None

    @classmethod
    def load(cls, raw: str | None) -> "DeferredCursor":
        data = json.loads(raw) if raw else {}
        pending = {
            int(entry): Schedule(int(entry), request_id, datetime.fromisoformat(due))
            for entry, (request_id, due) in (data.get("pending") or {}).items()
        }
        return cls(int(data.get("after") or 0), pending)

    def dump(self) -> str:
        pending = {str(entry): schedule.dump() for entry, schedule in sorted((self.pending or {}).items())}
        return json.dumps({"after": self.after, "pending": pending}, sort_keys=True)


def defer(store: RequestStore, item: "WorkItem", *, due_at: datetime, what: str) -> AuditEntry:
    """Schedule ``item``'s work for ``due_at`` (aware): the :data:`SCHEDULED` entry, once per request
    (an op retried after writing it finds it)."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    for entry in store.audit_trail(item.request_id):
        if entry.action == SCHEDULED:
            return entry
    detail = {"due_at": due_at.astimezone(UTC).isoformat(), "what": what, "run_id": item.run_id}
    return store.audit(item.request_id, item.agent, SCHEDULED, detail)


def organisation_zone(calendar: OutlookCalendarResource) -> ZoneInfo:
    """The organisation's time zone, in which a request's "Friday at 9am" or "her last day" is read: the
    one its calendars use (``EAS_OUTLOOK_TIME_ZONE``, default UTC)."""
    try:
        return ZoneInfo(calendar.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"EAS_OUTLOOK_TIME_ZONE {calendar.time_zone!r} is not an IANA time zone") from exc


def is_due_run(item: "WorkItem") -> bool:
    """Whether ``item`` is the due request of a schedule: its work is to be done now."""
    return bool(item.value(DEFERRED_FROM))


def scheduled_by(item: "WorkItem") -> str | None:
    """The request that scheduled this due request, if it is one."""
    value = item.value(DEFERRED_FROM)
    return str(value) if value else None


def _due_at(entry: AuditEntry) -> datetime | None:
    try:
        due = datetime.fromisoformat(str(entry.detail.get("due_at")))
    except ValueError:
        return None
    return due if due.tzinfo is not None else due.replace(tzinfo=UTC)


def read_schedules(store: RequestStore, cursor: DeferredCursor) -> DeferredCursor:
    """``cursor`` brought up to date with the audit log: new schedules added, launched ones dropped.

    Every matching entry after the cursor is read, but the cursor moves no further than the settled
    id (:meth:`~eas_pipelines.store.RequestStore.audit_settled_id`): the newest entries are read again
    next time, in case one with a lower id commits late; reading an entry twice changes nothing.
    """
    pending = dict(cursor.pending or {})
    settled = store.audit_settled_id(SETTLE)
    after = cursor.after
    while True:
        page = store.audit_entries((SCHEDULED, LAUNCHED), after_id=after, limit=PAGE)
        for entry in page:
            if entry.action == SCHEDULED and entry.request_id:
                due = _due_at(entry)
                if due is not None:
                    pending[entry.id] = Schedule(entry.id, entry.request_id, due)
            elif entry.action == LAUNCHED:
                pending.pop(int(entry.detail.get("scheduled_entry") or 0), None)
        if len(page) < PAGE:
            break
        after = page[-1].id
    return DeferredCursor(after=max(cursor.after, settled), pending=pending)


def launch(store: RequestStore, fast_lane: FastLaneResource, schedule: Schedule) -> str | None:
    """Store and queue the due request of ``schedule``; its id (None when the scheduling request is gone).

    Idempotent: the due request's key is the schedule's audit entry, so a second launch finds it.
    """
    try:
        parent = store.get(schedule.request_id)
    except RequestNotFound:
        return None
    marker = {
        "type": DEFERRED_FROM,
        "text": "",
        "start": 0,
        "end": 0,
        "value": parent.id,
        "inherited": True,
    }
    entities = [e for e in parent.entities or () if isinstance(e, dict) and e.get("type") != DEFERRED_FROM]
    derived = queue_derived(
        store,
        fast_lane,
        client_id=parent.client_id,
        idempotency_key=f"deferred:{schedule.entry_id}",
        text=parent.text,
        intent=parent.intent or "",
        entities=[*entities, marker],
        actor=ACTOR,
        reason=f"due at {schedule.due_at.isoformat()}: scheduled by request {parent.id}",
    )
    # A launch whose audit entry was lost (the tick failed after queueing) is recorded by the next one.
    recorded = derived.created or not any(
        e.action == LAUNCHED and e.detail.get("scheduled_entry") == schedule.entry_id
        for e in store.audit_trail(parent.id)
    )
    if recorded:
        store.audit(
            parent.id,
            ACTOR,
            LAUNCHED,
            {"scheduled_entry": schedule.entry_id, "due_request": derived.record.id},
        )
    return derived.record.id


def launch_due(
    store: RequestStore, fast_lane: FastLaneResource, cursor: DeferredCursor, now: datetime
) -> tuple[DeferredCursor, list[str]]:
    """One pass: the schedules read, the due ones launched (oldest first); the new cursor and the
    due requests queued."""
    cursor = read_schedules(store, cursor)
    pending = dict(cursor.pending or {})
    launched: list[str] = []
    for schedule in sorted(pending.values(), key=lambda s: (s.due_at, s.entry_id)):
        if schedule.due_at > now:
            break
        due_request = launch(store, fast_lane, schedule)
        pending.pop(schedule.entry_id)
        if due_request is not None:
            launched.append(due_request)
    return DeferredCursor(cursor.after, pending), launched


def next_due(cursor: DeferredCursor) -> datetime | None:
    schedules: Iterable[Schedule] = (cursor.pending or {}).values()
    return min((s.due_at for s in schedules), default=None)


@dg.sensor(
    name="deferred_work_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Queues the due request of each scheduled piece of work (an announcement, an "
    "offboarding on the last day) once its time has come.",
)
def deferred_work_sensor(
    context: dg.SensorEvaluationContext, store: RequestStoreResource, fast_lane: FastLaneResource
) -> dg.SensorResult:
    cursor, launched = launch_due(
        store.get_store(), fast_lane, DeferredCursor.load(context.cursor), datetime.now(UTC)
    )
    if launched:
        context.log.info(f"queued {len(launched)} due request(s): {', '.join(launched)}")
    upcoming = next_due(cursor)
    reason = f"next due {upcoming.isoformat()}" if upcoming else "nothing scheduled"
    return dg.SensorResult(cursor=cursor.dump(), skip_reason=None if launched else dg.SkipReason(reason))
