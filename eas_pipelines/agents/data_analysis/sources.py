"""The records a report reads, as pandas data frames, fetched through the connectors.

One frame per system, limited to the period (``start_utc <= t < end_utc``):

- ``sap``: posted supplier invoices (``API_SUPPLIERINVOICE_PROCESS_SRV`` ``A_SupplierInvoice``) by
  posting date: ``invoice_number, supplier_id, supplier, currency, amount, posting_date``.
- ``servicenow``: incidents by creation time: ``number, state, assignment_group, opened_at,
  resolved_at`` (UTC timestamps; ``resolved_at`` NaT while unresolved).
- ``store``: EAS's own requests by creation time: ``id, agent, intent, status, created_at,
  finished_at``.

The systems cut the period themselves, so a month's report reads that month's records only: SAP by
``PostingDate`` in ``$filter`` (:meth:`SapClient.supplier_invoices`), ServiceNow by ``sys_created_on>=``
and ``<`` in the encoded query. The store pages newest first and stops before the period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import pandas as pd

from eas_pipelines.agents.data_analysis.periods import Period
from eas_pipelines.connectors.sap import SapClient, SapResource
from eas_pipelines.connectors.servicenow import ServiceNowClient, ServiceNowResource, servicenow_datetime
from eas_pipelines.resources.store import RequestStoreResource
from eas_pipelines.store import RequestStore
from eas_pipelines.store.repository import MAX_PAGE

INVOICE_COLUMNS = ["invoice_number", "supplier_id", "supplier", "currency", "amount", "posting_date"]
INCIDENT_COLUMNS = ["number", "state", "assignment_group", "opened_at", "resolved_at"]
REQUEST_COLUMNS = ["id", "agent", "intent", "status", "created_at", "finished_at"]
TIME_COLUMNS = {"sap": "posting_date", "servicenow": "opened_at", "store": "created_at"}
"""The column that places a source's record in a period."""


def within(frame: pd.DataFrame, source: str, period: Period) -> pd.DataFrame:
    """The records of a ``source``'s frame that fall in ``period`` (a month of a quarter's frame)."""
    return _in_period(frame, TIME_COLUMNS[source], period)


def _in_period(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    inside = (frame[column] >= period.start_utc) & (frame[column] < period.end_utc)
    return frame.loc[inside].reset_index(drop=True)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def invoice_frame(sap: SapClient, period: Period) -> pd.DataFrame:
    """Supplier invoices posted in the period, with their supplier's name."""
    rows = [
        {
            "invoice_number": invoice.invoice_number,
            "supplier_id": invoice.supplier_id,
            "currency": invoice.currency,
            "amount": float(invoice.amount),
            "posting_date": invoice.posting_date,
        }
        for invoice in sap.supplier_invoices(posted_from=period.start, posted_to=period.end)
    ]
    names: dict[str, str] = {}
    for row in rows:
        if row["supplier_id"] not in names:
            found = sap.supplier(row["supplier_id"])
            names[row["supplier_id"]] = found.name if found is not None else row["supplier_id"]
        row["supplier"] = names[row["supplier_id"]]
    frame = pd.DataFrame(rows, columns=INVOICE_COLUMNS)
    frame["posting_date"] = pd.to_datetime(frame["posting_date"]).dt.tz_localize(UTC)
    return frame.astype({"amount": float})


def created_within(period: Period) -> str:
    """The encoded query of the incidents created in ``period``: ``start_utc <= sys_created_on < end_utc``."""
    start, end = (servicenow_datetime(t) for t in (period.start_utc, period.end_utc))
    return f"sys_created_on>={start}^sys_created_on<{end}^ORDERBYnumber"


def incident_frame(servicenow: ServiceNowClient, period: Period) -> pd.DataFrame:
    """Incidents created in the period (``sys_created_on``, cut by ServiceNow), with when they were resolved.

    A record's ``opened_at`` (when set, else its creation time) places it in the frame; it is kept within
    the period too, for an incident opened before it was recorded.
    """
    rows = [
        {
            "number": incident.number,
            "state": incident.state,
            "assignment_group": incident.assignment_group,
            "opened_at": incident.field("opened_at") or incident.field("sys_created_on"),
            "resolved_at": incident.field("resolved_at") or None,
        }
        for incident in servicenow.incidents(created_within(period))
    ]
    frame = pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
    frame["opened_at"] = _utc(frame["opened_at"])
    frame["resolved_at"] = _utc(frame["resolved_at"])
    return _in_period(frame, "opened_at", period)


def request_frame(store: RequestStore, period: Period) -> pd.DataFrame:
    """EAS requests created in the period: the store's keyset pages, newest first, until before it."""
    rows: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = store.list(limit=MAX_PAGE, before=before)
        rows += [
            {
                "id": record.id,
                "agent": record.agent,
                "intent": record.intent,
                "status": str(record.status),
                "created_at": record.created_at,
                "finished_at": record.finished_at,
            }
            for record in page
            if record.created_at < period.end_utc
        ]
        if len(page) < MAX_PAGE or page[-1].created_at < period.start_utc:
            break
        before = page[-1].id
    frame = pd.DataFrame(rows, columns=REQUEST_COLUMNS)
    frame["created_at"] = _utc(frame["created_at"])
    frame["finished_at"] = _utc(frame["finished_at"])
    return _in_period(frame, "created_at", period)


Loader = Callable[[Period], pd.DataFrame]


def loader(
    source: str, *, sap: SapResource, servicenow: ServiceNowResource, store: RequestStoreResource
) -> Loader:
    """The frame reader of a report's ``source``, on the run's connectors."""
    if source == "sap":
        return lambda period: invoice_frame(sap.client(), period)
    if source == "servicenow":
        return lambda period: incident_frame(servicenow.client(), period)
    if source == "store":
        return lambda period: request_frame(store.get_store(), period)
    raise ValueError(f"no data source {source!r}")
